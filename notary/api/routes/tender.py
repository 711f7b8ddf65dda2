"""Tender rules over HTTP: trading systems relay bidder-signed messages and drive opening;
supervisors read sections. Writes need a writer key; the notary's account relays."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from notary.api.deps import NotaryDep, WriterDep
from notary.api.limits import limit_reads
from notary.errors import NotFound
from rules.tender.contract import SealedBid, SignedBidMessage

router = APIRouter(prefix="/v1/tender", tags=["tender"])

Hex32 = Annotated[str, Field(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]
SectionId = Annotated[str, Path(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]


def _b(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewSection(_Body):
    project: str = Field(min_length=1, max_length=128)
    section: str = Field(min_length=1, max_length=128)
    deadline: int = Field(gt=0, lt=2**63, description="Unix seconds; bids at or after it are refused")
    opening_window: int = Field(3600, gt=0, le=30 * 86400)


class NewBidder(_Body):
    bidder_id: Hex32 = Field(description="SHA-256 of the unified social credit code")
    key: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="the bidder's signing account")


class RelayedMessage(_Body):
    section_id: Hex32
    bidder_id: Hex32
    nonce: int = Field(gt=0, lt=2**64)
    signature: str = Field(pattern=r"^(0x)?[0-9a-fA-F]{130}$")
    commitment: Hex32 | None = Field(None, description="absent for a withdrawal")


class Reveal(_Body):
    bidder_id: Hex32
    file_hash: Hex32
    salt: Hex32
    fingerprint: Hex32 = "00" * 32


def _outcome(outcome) -> dict:
    return {"tx_hash": outcome.tx_hash, "block_number": outcome.block_number, "block_time": outcome.block_time}


@router.get("/domain", summary="The EIP-712 domain and types bidders sign")
def domain(notary: NotaryDep) -> dict:
    return {"domain": notary.tender.domain(), "contract": notary.tender.address,
            "types": {"BidCommitment": ["bytes32 sectionId", "bytes32 bidderId", "bytes32 commitment", "uint64 nonce"],
                      "BidWithdrawal": ["bytes32 sectionId", "bytes32 bidderId", "uint64 nonce"]}}


@router.post("/sections", status_code=201, summary="Open a section of this notary's region")
def open_section(body: NewSection, notary: NotaryDep, _: WriterDep) -> dict:
    region = int(notary.settings.region)
    section_id = notary.tender.open_section(notary.account, region, body.project, body.section, body.deadline,
                                            body.opening_window)
    return {"section_id": "0x" + section_id.hex(), "region": region}


@router.post("/bidders", status_code=201, summary="Register a bidder (after its CA certificate was checked)")
def register_bidder(body: NewBidder, notary: NotaryDep, _: WriterDep) -> dict:
    notary.tender.register_bidder(notary.account, int(notary.settings.region), _b(body.bidder_id), body.key)
    return {"bidder_id": body.bidder_id}


@router.post("/relay", summary="Relay a bidder-signed commitment or withdrawal; the contract judges block time")
def relay(body: RelayedMessage, notary: NotaryDep, _: WriterDep) -> dict:
    message = SignedBidMessage(_b(body.section_id), _b(body.bidder_id), body.nonce, _b(body.signature),
                               _b(body.commitment) if body.commitment else None)
    return _outcome(notary.tender.relay(notary.account, message))


@router.post("/sections/{section_id}/opening", summary="Start opening (开标), at or after the deadline")
def start_opening(section_id: SectionId, notary: NotaryDep, _: WriterDep) -> dict:
    return _outcome(notary.tender.start_opening(notary.account, _b(section_id)))


@router.post("/sections/{section_id}/reveals", summary="Reveal an opened bid: valid or inconsistent")
def reveal(section_id: SectionId, body: Reveal, notary: NotaryDep, _: WriterDep) -> dict:
    sealed = SealedBid(_b(body.file_hash), _b(body.salt), _b(body.fingerprint))
    return {"state": notary.tender.reveal(notary.account, _b(section_id), _b(body.bidder_id), sealed)}


@router.post("/sections/{section_id}/close", summary="Close opening: fewer than 3 valid bids fails the section")
def close(section_id: SectionId, notary: NotaryDep, _: WriterDep) -> dict:
    view = notary.tender.close_opening(notary.account, _b(section_id))
    return {"state": view.state, "valid_bids": view.valid_bids}


@router.get("/sections/{section_id}", dependencies=[Depends(limit_reads)], summary="A section as supervisors see it: state, bids, flags (public)")
def section(section_id: SectionId, notary: NotaryDep) -> dict:
    rules, sid = notary.tender, _b(section_id)
    view = rules.section(sid)
    if view.state == "none":
        raise NotFound(f"no section {section_id}")
    bids = [rules.bid(sid, b) for b in rules.bidders(sid)]
    return {
        "section_id": "0x" + sid.hex(), "region": view.region, "state": view.state, "deadline": view.deadline,
        "opening_ends": view.opening_ends, "bids_in_force": view.active_bids, "valid_bids": view.valid_bids,
        "inconsistent_bids": view.inconsistent_bids,
        "bids": [{"bidder_id": "0x" + b.bidder_id.hex(), "state": b.state,
                  "file_hash": "0x" + b.file_hash.hex() if b.state in ("valid", "inconsistent") else None}
                 for b in bids],
        "flags": [{"kind": f.kind, "value": "0x" + f.value.hex(), "bidders": ["0x" + f.first_bidder.hex(),
                                                                             "0x" + f.second_bidder.hex()]}
                  for f in rules.flags(sid)],
    }
