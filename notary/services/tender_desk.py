"""The notary's tender desk: its region's centre on the TenderRules contract it serves.

Trading systems of the region drive tenders over HTTP; the desk relays each step with the
notary's chain account (the region's centre on that contract). Routes get the desk, not the
notary: it holds the rules, the relaying account and the region, nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from lianzheng.chain_node import TxOutcome
from lianzheng.notary.errors import NotFound
from lianzheng.rules.tender.contract import SealedBid, SectionView, SignedBidMessage, TenderRules

BIDDER_TYPES = {"BidCommitment": ["bytes32 sectionId", "bytes32 bidderId", "bytes32 commitment", "uint64 nonce"],
                "BidWithdrawal": ["bytes32 sectionId", "bytes32 bidderId", "uint64 nonce"]}


@dataclass(frozen=True)
class TenderDesk:
    rules: TenderRules
    centre: LocalAccount
    region: int

    def domain(self) -> dict[str, Any]:
        """What bidders sign (EIP-712): the domain of this contract on this chain, and the types."""
        return {"domain": self.rules.domain(), "contract": self.rules.address, "types": BIDDER_TYPES}

    def open_section(self, project: str, section: str, deadline: int, opening_window: int) -> bytes:
        return self.rules.open_section(self.centre, self.region, project, section, deadline, opening_window)

    def register_bidder(self, bidder_id: bytes, key: str) -> None:
        self.rules.register_bidder(self.centre, self.region, bidder_id, key)

    def relay(self, message: SignedBidMessage) -> TxOutcome:
        return self.rules.relay(self.centre, message)

    def start_opening(self, section_id: bytes) -> TxOutcome:
        return self.rules.start_opening(self.centre, section_id)

    def reveal(self, section_id: bytes, bidder_id: bytes, sealed: SealedBid) -> str:
        return self.rules.reveal(self.centre, section_id, bidder_id, sealed)

    def close(self, section_id: bytes) -> SectionView:
        return self.rules.close_opening(self.centre, section_id)

    def section(self, section_id: bytes) -> dict[str, Any]:
        """A section as supervisors see it: state, bids, flags (public)."""
        rules, sid = self.rules, section_id
        view = rules.section(sid)
        if view.state == "none":
            raise NotFound(f"no section 0x{sid.hex()}")
        bids = [rules.bid(sid, b) for b in rules.bidders(sid)]
        return {
            "section_id": "0x" + sid.hex(), "region": view.region, "state": view.state, "deadline": view.deadline,
            "opening_ends": view.opening_ends, "bids_in_force": view.active_bids, "valid_bids": view.valid_bids,
            "inconsistent_bids": view.inconsistent_bids,
            "bids": [{"bidder_id": "0x" + b.bidder_id.hex(), "state": b.state,
                      "file_hash": "0x" + b.file_hash.hex() if b.state in ("valid", "inconsistent") else None}
                     for b in bids],
            "flags": [{"kind": f.kind, "value": "0x" + f.value.hex(),
                       "bidders": ["0x" + f.first_bidder.hex(), "0x" + f.second_bidder.hex()]}
                      for f in rules.flags(sid)],
        }
