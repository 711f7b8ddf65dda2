"""A witness's view of a section, rebuilt from the chain alone (contract events and state)."""
from __future__ import annotations

from dataclasses import dataclass

from lianzheng.contracts import artifact
from lianzheng.rules.tender.contract import BID_STATES, FLAG_KINDS, SECTION_STATES
from lianzheng.sdk.abi import ContractAbi
from lianzheng.sdk.contract import ChainReader, Contract
from lianzheng.sdk.jsonrpc import HttpRpc
from lianzheng.sdk.times import utc_iso

TIMELINE_EVENTS = ("SectionOpened", "BidCommitted", "BidWithdrawn", "OpeningStarted", "BidOpened",
                   "BidFileInconsistent", "DuplicateBidFile", "SharedDeviceFingerprint", "SectionProceeded",
                   "SectionFailed")


@dataclass(frozen=True)
class TimelineEntry:
    block: int
    time: int
    tx_hash: str
    event: str
    detail: str

    def line(self) -> str:
        return f"{utc_iso(self.time)}  block {self.block:<7} {self.event:<24} {self.detail}  tx {self.tx_hash}"


def _short(value: bytes) -> str:
    return "0x" + value.hex()[:12]


def _detail(name: str, args: dict) -> str:
    if name == "SectionOpened":
        return f"region {args['region']} {args['project']}/{args['section']} deadline {args['deadline']}"
    if name in ("BidCommitted", "BidWithdrawn"):
        extra = " (replaced)" if args.get("replaced") else ""
        return f"bidder {_short(args['bidderId'])} nonce {args['nonce']}{extra}"
    if name == "BidOpened":
        return f"bidder {_short(args['bidderId'])} file {_short(args['fileHash'])}"
    if name == "BidFileInconsistent":
        return f"WARNING bidder {_short(args['bidderId'])}: opened file does not match its commitment"
    if name in ("DuplicateBidFile", "SharedDeviceFingerprint"):
        return f"WARNING bidders {_short(args['firstBidder'])} and {_short(args['secondBidder'])}"
    if name in ("SectionProceeded", "SectionFailed"):
        return f"{args['validBids']} valid bids"
    return ""


def audit(rpc: str, contract_address: str, section_id: bytes) -> tuple[list[TimelineEntry], list[str]]:
    """The section's timeline and a summary (state, bids, flags), read from the chain."""
    chain = ChainReader(HttpRpc(rpc, timeout=20))
    contract = Contract(chain, ContractAbi(artifact("TenderRules")["abi"]), contract_address)
    entries: list[tuple[int, int, TimelineEntry]] = []
    times: dict[int, int] = {}
    for name in TIMELINE_EVENTS:
        for log in contract.logs(name, sectionId=section_id):
            block = log.block_number
            times.setdefault(block, chain.block_time(block))
            entry = TimelineEntry(block, times[block], log.tx_hash, name,
                                  _detail(name, dict(log.args)))
            entries.append((block, log.log_index, entry))
    timeline = [e for _, _, e in sorted(entries, key=lambda x: (x[0], x[1]))]
    region, state, deadline, opening_ends, active, valid, inconsistent = contract.read("sectionOf", section_id)
    summary = [f"section {section_id.hex()}: {SECTION_STATES[state]}, region {region}, deadline {deadline}, "
               f"{active} bids in force, {valid} valid, {inconsistent} inconsistent"]
    for bidder in contract.read("biddersOf", section_id):
        bid = contract.read("bidOf", section_id, bidder)
        summary.append(f"  bidder {bytes(bidder).hex()}: {BID_STATES[bid[0]]}")
    for kind, value, first, second in contract.read("flagsOf", section_id):
        summary.append(f"  FLAG {FLAG_KINDS[kind]} {bytes(value).hex()[:16]}…: bidders {bytes(first).hex()[:12]}… "
                       f"and {bytes(second).hex()[:12]}…")
    return timeline, summary
