"""Tender rules over HTTP: trading systems relay bidder-signed messages and drive opening;
supervisors read sections. Writes need a writer key; the notary's account relays."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from lianzheng.notary.api.deps import DeskDep, WriterDep
from lianzheng.notary.api.limits import limit_reads
from lianzheng.rules.tender.contract import SealedBid, SignedBidMessage
from pydantic import BaseModel, ConfigDict, Field

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
def domain(desk: DeskDep) -> dict:
    return desk.domain()


@router.post("/sections", status_code=201, summary="Open a section of this notary's region")
def open_section(body: NewSection, desk: DeskDep, _: WriterDep) -> dict:
    section_id = desk.open_section(body.project, body.section, body.deadline, body.opening_window)
    return {"section_id": "0x" + section_id.hex(), "region": desk.region}


@router.post("/bidders", status_code=201, summary="Register a bidder (after its CA certificate was checked)")
def register_bidder(body: NewBidder, desk: DeskDep, _: WriterDep) -> dict:
    desk.register_bidder(_b(body.bidder_id), body.key)
    return {"bidder_id": body.bidder_id}


@router.post("/relay", summary="Relay a bidder-signed commitment or withdrawal; the contract judges block time")
def relay(body: RelayedMessage, desk: DeskDep, _: WriterDep) -> dict:
    message = SignedBidMessage(_b(body.section_id), _b(body.bidder_id), body.nonce, _b(body.signature),
                               _b(body.commitment) if body.commitment else None)
    return _outcome(desk.relay(message))


@router.post("/sections/{section_id}/opening", summary="Start opening (开标), at or after the deadline")
def start_opening(section_id: SectionId, desk: DeskDep, _: WriterDep) -> dict:
    return _outcome(desk.start_opening(_b(section_id)))


@router.post("/sections/{section_id}/reveals", summary="Reveal an opened bid: valid or inconsistent")
def reveal(section_id: SectionId, body: Reveal, desk: DeskDep, _: WriterDep) -> dict:
    sealed = SealedBid(_b(body.file_hash), _b(body.salt), _b(body.fingerprint))
    return {"state": desk.reveal(_b(section_id), _b(body.bidder_id), sealed)}


@router.post("/sections/{section_id}/close", summary="Close opening: fewer than 3 valid bids fails the section")
def close(section_id: SectionId, desk: DeskDep, _: WriterDep) -> dict:
    view = desk.close(_b(section_id))
    return {"state": view.state, "valid_bids": view.valid_bids}


@router.get("/sections/{section_id}", dependencies=[Depends(limit_reads)],
            summary="A section as supervisors see it: state, bids, flags (public)")
def section(section_id: SectionId, desk: DeskDep) -> dict:
    return desk.section(_b(section_id))
