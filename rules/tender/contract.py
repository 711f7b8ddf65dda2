"""The tender rules (投标截止时间判断, 投标文件一致性判断) from Python, on any chain.

``TenderRules`` drives the TenderRules contract through ``chain_node``: open a section,
register bidders, relay bidder-signed (EIP-712) commitments and withdrawals, open bids and
read the results. Every step, accepted or refused, is a transaction on chain and, with a notary, an event
(see ``rules.steps``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from lianzheng.chain_node import Chain, TransactionReverted, TxOutcome
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.steps import EventSink, RuleContract
from lianzheng.sdk import event_types as et

SECTION_STATES = ("none", "bidding", "opening", "evaluation", "failed")
BID_STATES = ("none", "committed", "withdrawn", "valid", "inconsistent")
FLAG_KINDS = ("DuplicateBidFile", "SharedDeviceFingerprint")
ZERO = b"\x00" * 32


def bidder_id(credit_code: str) -> bytes:
    """Bidder id: SHA-256 of the unified social credit code (统一社会信用代码), upper case."""
    code = credit_code.strip().upper()
    if len(code) != 18 or not code.isalnum():
        raise ValueError("a unified social credit code has 18 letters and digits")
    return hashlib.sha256(code.encode()).digest()


def commitment_of(section_id: bytes, bidder: bytes, file_hash: bytes, salt: bytes, fingerprint: bytes = ZERO) -> bytes:
    """The sealed commitment, exactly as the contract computes it (``commitmentOf``)."""
    return keccak(encode(["bytes32"] * 5, [section_id, bidder, file_hash, salt, fingerprint]))


@dataclass(frozen=True)
class SealedBid:
    """What a bidder keeps secret until opening: its file hash, salt and device fingerprint."""

    file_hash: bytes
    salt: bytes
    fingerprint: bytes = ZERO

    def commitment(self, section_id: bytes, bidder: bytes) -> bytes:
        return commitment_of(section_id, bidder, self.file_hash, self.salt, self.fingerprint)


@dataclass(frozen=True)
class SignedBidMessage:
    """A bidder-signed commitment (``commitment`` set) or withdrawal (``commitment`` None)."""

    section_id: bytes
    bidder_id: bytes
    nonce: int
    signature: bytes
    commitment: bytes | None = None


@dataclass(frozen=True)
class SectionView:
    section_id: bytes
    region: int
    state: str
    deadline: int
    opening_ends: int
    active_bids: int
    valid_bids: int
    inconsistent_bids: int


@dataclass(frozen=True)
class BidView:
    bidder_id: bytes
    state: str
    nonce: int
    commitment: bytes
    file_hash: bytes
    fingerprint: bytes


@dataclass(frozen=True)
class Flag:
    kind: str
    value: bytes
    first_bidder: bytes
    second_bidder: bytes


@dataclass(frozen=True)
class _SectionSubject:
    section_id: bytes
    region: int
    project: str
    section: str

    def payload(self) -> dict[str, Any]:
        return {"section_id": self.section_id.hex()}


class TenderRules(RuleContract):
    CONTRACT = "TenderRules"

    def __init__(self, chain: Chain, address: str, notary: EventSink | None = None) -> None:
        super().__init__(chain, address, notary)
        self._sections: dict[bytes, _SectionSubject] = {}

    @classmethod
    def deploy(cls, chain: Chain, admin: LocalAccount, notary: EventSink | None = None) -> "TenderRules":
        return cls(chain, chain.deploy(admin, "TenderRules", admin.address), notary)

    def _subject(self, section_id: bytes) -> _SectionSubject:
        if section_id not in self._sections:
            logs = self.contract.logs("SectionOpened", sectionId=section_id)
            if not logs:
                raise RuleRejected(f"TenderRulesUnknownSection({section_id.hex()})")
            args = logs[0].args
            self._sections[section_id] = _SectionSubject(section_id, args["region"], args["project"], args["section"])
        return self._sections[section_id]

    # --- centre and admin ------------------------------------------------------------

    def grant_centre(self, admin: LocalAccount, region: int, account: str) -> None:
        fns = self.contract
        try:
            self.chain.transact(admin, fns.tx("grantRole", fns.read("centreRole", region), to_checksum_address(account)))
        except TransactionReverted as exc:
            raise RuleRejected(exc.reason, exc.tx_hash) from exc

    def section_id(self, region: int, project: str, section: str) -> bytes:
        return bytes(self.contract.read("sectionIdOf", region, project, section))

    def open_section(self, centre: LocalAccount, region: int, project: str, section: str, deadline: int,
                     opening_window: int) -> bytes:
        """Open a section for bids until ``deadline`` (Unix s); opening allowed for ``opening_window`` s after."""
        section_id = self.section_id(region, project, section)
        self._sections[section_id] = _SectionSubject(section_id, region, project, section)
        call = self.contract.tx("openSection", region, project, section, deadline, opening_window)
        self._send(centre, call, et.SECTION_OPENED, section_id,
                   {"deadline": deadline, "opening_window": opening_window})
        return section_id

    def register_bidder(self, centre: LocalAccount, region: int, bidder: bytes, key: str) -> None:
        call = self.contract.tx("registerBidder", region, bidder, to_checksum_address(key))
        self._send(centre, call, et.BIDDER_REGISTERED, None, {})

    # --- bidders sign, the trading system relays --------------------------------------

    def domain(self) -> dict[str, Any]:
        """The EIP-712 domain bidders sign under (this contract on this chain)."""
        return {"name": "LianzhengTenderRules", "version": "1", "chainId": self.chain.chain_id,
                "verifyingContract": self.address}

    def sign_commitment(self, bidder_key: LocalAccount, section_id: bytes, bidder: bytes, commitment: bytes,
                        nonce: int) -> SignedBidMessage:
        types = {"BidCommitment": [{"name": "sectionId", "type": "bytes32"}, {"name": "bidderId", "type": "bytes32"},
                                   {"name": "commitment", "type": "bytes32"}, {"name": "nonce", "type": "uint64"}]}
        message = {"sectionId": section_id, "bidderId": bidder, "commitment": commitment, "nonce": nonce}
        signed = bidder_key.sign_typed_data(self.domain(), types, message)
        return SignedBidMessage(section_id, bidder, nonce, bytes(signed.signature), commitment)

    def sign_withdrawal(self, bidder_key: LocalAccount, section_id: bytes, bidder: bytes, nonce: int) -> SignedBidMessage:
        types = {"BidWithdrawal": [{"name": "sectionId", "type": "bytes32"}, {"name": "bidderId", "type": "bytes32"},
                                   {"name": "nonce", "type": "uint64"}]}
        message = {"sectionId": section_id, "bidderId": bidder, "nonce": nonce}
        signed = bidder_key.sign_typed_data(self.domain(), types, message)
        return SignedBidMessage(section_id, bidder, nonce, bytes(signed.signature))

    def relay(self, relayer: LocalAccount, message: SignedBidMessage) -> TxOutcome:
        """Submit a bidder-signed commitment or withdrawal; the contract judges the block time."""
        fns = self.contract
        payload = {"bidder_id": message.bidder_id.hex(), "nonce": message.nonce}
        if message.commitment is None:
            call = fns.tx("withdrawBid", message.section_id, message.bidder_id, message.nonce, message.signature)
            return self._send(relayer, call, et.BID_WITHDRAWN, message.section_id, payload)
        call = fns.tx("commitBid", message.section_id, message.bidder_id, message.commitment, message.nonce,
                             message.signature)
        return self._send(relayer, call, et.BID_COMMITTED, message.section_id,
                          {**payload, "commitment": message.commitment.hex()})

    # --- opening (开标) ----------------------------------------------------------------

    def start_opening(self, centre: LocalAccount, section_id: bytes) -> TxOutcome:
        return self._send(centre, self.contract.tx("startOpening", section_id), et.OPENING_STARTED,
                          section_id, {})

    def reveal(self, centre: LocalAccount, section_id: bytes, bidder: bytes, sealed: SealedBid) -> str:
        """Reveal an opened bid; returns its state after the check (``valid`` or ``inconsistent``).

        An inconsistent file or a collusion signal is notarized as an event of its own
        (``tender.flag.duplicate_bid_file`` ...) naming the bidders, so that supervisors find it in the log.
        """
        call = self.contract.tx("revealBid", section_id, bidder, sealed.file_hash, sealed.salt, sealed.fingerprint)
        self._send(centre, call, et.BID_OPENED, section_id,
                   {"bidder_id": bidder.hex(), "file_hash": sealed.file_hash.hex(),
                    "fingerprint": sealed.fingerprint.hex()},
                   events=("BidFileInconsistent", "DuplicateBidFile", "SharedDeviceFingerprint"))
        return self.bid(section_id, bidder).state

    def close_opening(self, account: LocalAccount, section_id: bytes) -> SectionView:
        """Close the opening; the section's fate (``tender.section_failed`` / ``_proceeded``) is notarized too."""
        self._send(account, self.contract.tx("closeOpening", section_id), et.OPENING_CLOSED, section_id, {},
                   events=("SectionFailed", "SectionProceeded"))
        return self.section(section_id)

    # --- reads -------------------------------------------------------------------------

    def section(self, section_id: bytes) -> SectionView:
        r = self.contract.read("sectionOf", section_id)
        return SectionView(section_id, r[0], SECTION_STATES[r[1]], r[2], r[3], r[4], r[5], r[6])

    def bid(self, section_id: bytes, bidder: bytes) -> BidView:
        r = self.contract.read("bidOf", section_id, bidder)
        return BidView(bidder, BID_STATES[r[0]], r[1], bytes(r[2]), bytes(r[3]), bytes(r[4]))

    def bidders(self, section_id: bytes) -> list[bytes]:
        return [bytes(b) for b in self.contract.read("biddersOf", section_id)]

    def flags(self, section_id: bytes) -> list[Flag]:
        return [Flag(FLAG_KINDS[k], bytes(v), bytes(a), bytes(b))
                for k, v, a, b in self.contract.read("flagsOf", section_id)]
