"""POST /v1/cosignatures: an alliance member hands over its attestation of one of our checkpoints.

No API key: the signature is the authentication (``notary.services.cosignatures`` checks it
against this log's own anchored checkpoint). Rate-limited per client address.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lianzheng.notary.api.deps import LogDep
from lianzheng.notary.api.limits import get_limits
from lianzheng.notary.services.cosignatures import PER_RELAY, RELAYS, CheckpointCosigners
from lianzheng.sdk.receipt import Cosignature, RelayDomain

router = APIRouter(tags=["alliance"])


class CosignatureIn(BaseModel):
    """A member's EIP-712 attestation for ``relay`` of this log's checkpoint (``tree_size``, ``root``)."""

    model_config = ConfigDict(extra="forbid")
    relay: RelayDomain
    member: Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
    epoch: Annotated[int, Field(ge=1, lt=2**63)]
    tree_size: Annotated[int, Field(ge=1, lt=2**63)]
    root: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="hex")]
    signature: Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{130}$")]


@router.post("/v1/cosignatures", status_code=201,
             summary="Hand over an alliance member's attestation of an anchored checkpoint; receipts of that size "
                     "carry it",
             responses={200: {"description": "this member's cosignature is held already"},
                        422: {"description": "cosignature_unanchored, cosignature_mismatch, cosignature_invalid, "
                                             f"or cosignatures_full (at most {PER_RELAY} members per relay and "
                                             f"{RELAYS} relays per size)"},
                        429: {"description": "rate_limited"}})
async def post_cosignature(body: CosignatureIn, request: Request, response: Response, log: LogDep) -> dict:
    limits = get_limits(request)
    limits.cosignatures.take(f"cosignatures from {limits.client(request)}")
    cosignature = Cosignature(relay=body.relay, member=body.member, epoch=body.epoch, signature=body.signature)
    cosigners = CheckpointCosigners(log.store, int(log.region))
    status, count = await run_in_threadpool(cosigners.accept, cosignature, body.tree_size, bytes.fromhex(body.root))
    if status == "held":
        response.status_code = 200
    return {"status": status, "tree_size": body.tree_size, "relay": body.relay.model_dump(),
            "member": cosignature.member, "count": count}
