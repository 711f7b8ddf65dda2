"""The tender procedure over HTTP (TenderRules): trading systems open and drive sections they own,
the operator keeps the bidder registry and names key holders, bidders' sealed bids go into the section's box,
holders release their key shares, anyone reads a section's public view (nothing about its bids before the deadline)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from lianzheng.notary.api.deps import DeskDep, OperatorDep, WriterDep, read_json
from lianzheng.notary.api.limits import limit_reads
from lianzheng.notary.errors import InvalidEvent
from lianzheng.rules.tender.sections import load_profiles
from lianzheng.sdk.event import IDENT_PATTERN

router = APIRouter(prefix="/v1/tender", tags=["tender"])

Hex32 = Annotated[str, Field(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
SectionId = Annotated[str, Path(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]
BidderId = Annotated[str, Path(pattern=r"^(0x)?[0-9a-fA-F]{64}$")]
MAX_BID_BODY = 64 * 1024 * 1024  # a sealed bid file travels in the request (base64)


def _b(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Holder(_Body):
    account: Address
    x25519: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="the holder's X25519 public key")]
    signature: Annotated[str, Field(pattern=r"^(0x)?[0-9a-fA-F]{130}$")] = Field(
        description="the holder's EIP-712 HolderKey(key): the holder registers its own key")


class NewSection(_Body):
    project: Annotated[str, Field(pattern=IDENT_PATTERN)]
    section: Annotated[str, Field(pattern=IDENT_PATTERN)]
    profile: str = Field("engineering", description="trading-type profile (GET /v1/tender/profiles)")
    deadline: int = Field(gt=0, lt=2**63, description="Unix seconds; bids received at or after it are refused")
    holders: list[Address] = Field(min_length=1, max_length=15, description="key holders besides the notary "
                                   "(supervisor, alliance peer ...): accounts named by the operator, keys on chain")
    threshold: int = Field(ge=2, le=16, description="how many holders' shares decrypt a bid file")


class Extension(_Body):
    deadline: int = Field(gt=0, lt=2**63)
    reason: str = Field(min_length=1, max_length=1000, description="notarized with the extension (Art. 23)")


class NewBidder(_Body):
    bidder_id: Hex32 = Field(description="the bidder's id in this region (e.g. SHA-256 of its credit code)")
    ca_cert_hash: Hex32 = Field(description="SHA-256 of the bidder's CA certificate (数字证书)")
    key: Address = Field(description="the bidder's signing account")


class NewKey(_Body):
    key: Address


class Release(_Body):
    holder: Address
    shares: list[Annotated[str, Field(pattern=r"^([0-9a-fA-F]{34})?$")]] = Field(
        description="per box entry: index byte and share (hex), or empty")
    signature: Annotated[str, Field(pattern=r"^(0x)?[0-9a-fA-F]{130}$")] = Field(
        description="the holder's EIP-712 ShareRelease(sectionId, digest)")


class Committee(_Body):
    members: list[Address] = Field(min_length=1, max_length=51)


class Rejection(_Body):
    decision: str = Field(min_length=1, max_length=2000)
    signatures: list[Annotated[str, Field(pattern=r"^(0x)?[0-9a-fA-F]{130}$")]] = Field(min_length=1, max_length=51)


@router.get("/profiles", dependencies=[Depends(limit_reads)],
            summary="Trading-type profiles: minimum bidding period, minimum bidders, grace, with their legal sources")
def profiles() -> dict:
    return load_profiles()


@router.post("/sections", status_code=201, summary="Open a section; the writer key that opens it owns it")
def open_section(body: NewSection, desk: DeskDep, writer: WriterDep) -> dict:
    section_id = desk.open_section(writer.name, body.project, body.section, body.profile, body.deadline,
                                   body.holders, body.threshold)
    return desk.view(section_id)


@router.get("/sections/{section_id}", dependencies=[Depends(limit_reads)],
            summary="A section as anyone sees it: before the seal nothing about its bids, not even their number")
def section(section_id: SectionId, desk: DeskDep) -> dict:
    return desk.view(_b(section_id))


@router.post("/sections/{section_id}/extension", summary="Move the deadline later, before it passed, with a reason")
def extend(section_id: SectionId, body: Extension, desk: DeskDep, writer: WriterDep) -> dict:
    return desk.extend_deadline(writer.name, _b(section_id), body.deadline, body.reason)


@router.post("/holders", status_code=201,
             summary="Name a key holder (operator) and register the X25519 key it signed for")
def register_holder(body: Holder, desk: DeskDep, _: OperatorDep) -> dict:
    desk.register_holder(body.account, _b(body.x25519), _b(body.signature))
    return {"account": body.account, "x25519": body.x25519}


@router.post("/bidders", status_code=201, summary="Register a bidder of this region, bound to its CA certificate")
def register_bidder(body: NewBidder, desk: DeskDep, _: OperatorDep) -> dict:
    desk.register_bidder(_b(body.bidder_id), _b(body.ca_cert_hash), body.key)
    return {"bidder_id": body.bidder_id.removeprefix("0x"), "key": body.key}


@router.post("/bidders/{bidder_id}/key", summary="Rotate a bidder's key (entries received before stay valid)")
def rotate_key(bidder_id: BidderId, body: NewKey, desk: DeskDep, _: OperatorDep) -> dict:
    desk.rotate_bidder_key(_b(bidder_id), body.key)
    return {"bidder_id": bidder_id.removeprefix("0x"), "key": body.key}


@router.delete("/bidders/{bidder_id}", summary="Revoke a bidder (entries received before stay valid)")
def revoke(bidder_id: BidderId, desk: DeskDep, _: OperatorDep) -> dict:
    desk.revoke_bidder(_b(bidder_id))
    return {"bidder_id": bidder_id.removeprefix("0x"), "revoked": True}


@router.post("/sections/{section_id}/bids", status_code=201, dependencies=[Depends(limit_reads)],
             summary="A sealed bid into the section's box (the bidder's signature authenticates it; a trading "
                     "system may relay it, reading nothing); answers with the notary-signed box receipt")
async def submit(section_id: SectionId, request: Request, desk: DeskDep) -> dict:
    from starlette.concurrency import run_in_threadpool

    body = await read_json(request, MAX_BID_BODY)
    if not isinstance(body, dict):
        raise InvalidEvent("a sealed bid is a JSON object")
    return await run_in_threadpool(desk.submit, _b(section_id), body)


@router.post("/sections/{section_id}/seal", summary="Seal the box at the deadline (within the profile's seal window)")
def seal(section_id: SectionId, desk: DeskDep, writer: WriterDep) -> dict:
    return desk.seal(writer.name, _b(section_id))


@router.get("/sections/{section_id}/shares", dependencies=[Depends(limit_reads)],
            summary="The key shares sealed to a holder, in box order (once the box is sealed)")
def shares(section_id: SectionId, desk: DeskDep, holder: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")]
           ) -> dict:
    return desk.holder_shares(_b(section_id), holder)


@router.get("/sections/{section_id}/box", dependencies=[Depends(limit_reads)],
            summary="The sealed box's entries (once sealed): each bidder finds its receipt's entry, omissions show")
def box(section_id: SectionId, desk: DeskDep) -> dict:
    return desk.box(_b(section_id))


class OwnOpening(_Body):
    file_key: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{32}$", description="the bidder's own file key (hex)")]


@router.post("/sections/{section_id}/bids/{index}/opening", dependencies=[Depends(limit_reads)],
             summary="A bidder opens its own bid with its file key (no holder needed; checked on chain)")
def open_own(section_id: SectionId, index: Annotated[int, Path(ge=0, lt=2**32)], body: OwnOpening,
             desk: DeskDep) -> dict:
    return desk.open_own(_b(section_id), index, bytes.fromhex(body.file_key))


@router.get("/sections/{section_id}/box/{index}/ciphertext", dependencies=[Depends(limit_reads)],
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}},
            summary="An entry's encrypted file, once the box is sealed")
def ciphertext(section_id: SectionId, index: Annotated[int, Path(ge=0, lt=2**32)], desk: DeskDep) -> Response:
    return Response(desk.ciphertext(_b(section_id), index), media_type="application/octet-stream")


@router.post("/sections/{section_id}/releases", summary="A holder's released shares; its signature goes on chain")
def release(section_id: SectionId, body: Release, desk: DeskDep) -> dict:
    return desk.accept_release(_b(section_id), body.holder, [bytes.fromhex(s) for s in body.shares],
                               _b(body.signature))


@router.post("/sections/{section_id}/opening", summary="Open every bid the released shares decrypt (开标)")
def opening(section_id: SectionId, desk: DeskDep, writer: WriterDep) -> dict[str, Any]:
    return {"bids": desk.open_bids(writer.name, _b(section_id))}


@router.post("/sections/{section_id}/settlement",
             summary="Settle the bids still unopened (second half of the window); the contract names the cause")
def settlement(section_id: SectionId, desk: DeskDep, writer: WriterDep) -> dict[str, Any]:
    return {"bids": desk.settle(writer.name, _b(section_id))}


@router.post("/sections/{section_id}/close", summary="Close the opening: every bid opened or settled")
def close(section_id: SectionId, desk: DeskDep, writer: WriterDep) -> dict:
    return desk.close(writer.name, _b(section_id))


@router.post("/sections/{section_id}/committee", summary="The evaluation committee's members")
def committee(section_id: SectionId, body: Committee, desk: DeskDep, writer: WriterDep) -> dict:
    desk.set_committee(writer.name, _b(section_id), body.members)
    return {"members": body.members}


@router.post("/sections/{section_id}/rejection",
             summary="Reject all bids (否决): the committee's decision, signed by more than half of its members")
def rejection(section_id: SectionId, body: Rejection, desk: DeskDep, writer: WriterDep) -> dict:
    return desk.reject_all(writer.name, _b(section_id), body.decision, [_b(s) for s in body.signatures])
