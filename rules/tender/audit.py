"""A witness's view of a section, rebuilt from the chain alone (contract events and state)."""
from __future__ import annotations

from dataclasses import dataclass

from lianzheng.contracts import artifact
from lianzheng.rules.tender.sections import BID_STATES, FAIL_REASONS, SECTION_STATES
from lianzheng.sdk.abi import ContractAbi
from lianzheng.sdk.contract import ChainReader, Contract
from lianzheng.sdk.jsonrpc import HttpRpc
from lianzheng.sdk.times import utc_iso

TIMELINE_EVENTS = ("SectionOpened", "KeyHoldersSet", "DeadlineExtended", "BoxSealed", "SectionFailed",
                   "SharesReleased", "BidOpened", "BidFileInconsistent", "BidUndecryptable", "BidReplaced",
                   "SharedSignal", "HolderWithheld", "OpeningClosed", "CommitteeSet", "AllBidsRejected")
SIGNAL_NAMES = ("same clear file", "same author", "same software", "same machine code", "same device", "same lock")


@dataclass(frozen=True)
class TimelineEntry:
    block: int
    time: int
    tx_hash: str
    event: str
    detail: str

    def line(self) -> str:
        return f"{utc_iso(self.time)}  block {self.block:<7} {self.event:<20} {self.detail}  tx {self.tx_hash}"


def _short(value: bytes) -> str:
    return "0x" + bytes(value).hex()[:12]


def _detail(name: str, a: dict) -> str:
    if name == "SectionOpened":
        return f"region {a['region']} {a['project']}/{a['section']} deadline {utc_iso(a['deadline'])}"
    if name == "KeyHoldersSet":
        return f"{a['threshold']} of {len(a['holders'])} key holders decrypt"
    if name == "DeadlineExtended":
        return f"deadline {utc_iso(a['previous'])} -> {utc_iso(a['deadline'])}"
    if name == "BoxSealed":
        return f"{a['size']} bids sealed, root {_short(a['root'])}"
    if name == "SectionFailed":
        return f"FAILED: {FAIL_REASONS[a['reason']]} ({a['bids']} bids)"
    if name == "SharesReleased":
        return f"holder {a['holder']} released its shares"
    if name in ("BidOpened", "BidFileInconsistent"):
        verdict = "valid" if name == "BidOpened" else "WARNING inconsistent with its commitment"
        return f"entry {a['index']} bidder {_short(a['bidderId'])}: {verdict}"
    if name == "BidUndecryptable":
        return f"entry {a['index']}: not decrypted, {'revoked (bidder)' if a['byBidder'] else 'withdrawn (others)'}"
    if name == "SharedSignal":
        return (f"WARNING {SIGNAL_NAMES[a['kind']] if a['kind'] < len(SIGNAL_NAMES) else a['kind']}: "
                f"{_short(a['firstPseudonym'])} and {_short(a['secondPseudonym'])}")
    if name == "BidReplaced":
        return f"entry {a['replaced']} replaced by the same bidder's entry {a['by']}"
    if name == "HolderWithheld":
        return f"WARNING holder {a['holder']} never released its shares"
    if name == "OpeningClosed":
        return f"{a['valid']} valid of {a['bids']} bids"
    if name == "CommitteeSet":
        return f"{len(a['members'])} committee members"
    if name == "AllBidsRejected":
        return f"the committee rejected all bids ({len(a['signers'])} signed)"
    return ""


def audit(rpc: str, contract_address: str, section_id: bytes) -> tuple[list[TimelineEntry], list[str]]:
    """The section's timeline and a summary (state, bids), read from the chain."""
    chain = ChainReader(HttpRpc(rpc, timeout=20))
    contract = Contract(chain, ContractAbi(artifact("TenderRules")["abi"]), contract_address)
    entries: list[tuple[int, int, TimelineEntry]] = []
    times: dict[int, int] = {}
    for name in TIMELINE_EVENTS:
        for log in contract.logs(name, sectionId=section_id):
            block = log.block_number
            times.setdefault(block, chain.block_time(block))
            entries.append((block, log.log_index, TimelineEntry(block, times[block], log.tx_hash, name,
                                                                _detail(name, dict(log.args)))))
    timeline = [e for _, _, e in sorted(entries, key=lambda x: (x[0], x[1]))]
    s = contract.read("sectionOf", section_id)
    summary = [f"section {section_id.hex()}: {SECTION_STATES[s[2]]}, region {s[1]}, owner {s[0]}, "
               f"deadline {utc_iso(s[5]) if s[5] else '-'}, {s[7]} bids sealed, {s[12]} valid"]
    for index in range(s[7]):
        state, bidder_id, pseudonym, _ = contract.read("bidOf", section_id, index)
        summary.append(f"  entry {index} pseudonym {_short(pseudonym)}: {BID_STATES[state]}"
                       + (f", bidder {bytes(bidder_id).hex()}" if any(bidder_id) else ""))
    return timeline, summary


def sealed_box(rpc: str, contract_address: str, section_id: bytes) -> tuple[int, bytes]:
    """The size and RFC 9162 root of the section's box as sealed on chain."""
    chain = ChainReader(HttpRpc(rpc, timeout=20))
    s = Contract(chain, ContractAbi(artifact("TenderRules")["abi"]), contract_address).read("sectionOf", section_id)
    return s[7], bytes(s[8])
