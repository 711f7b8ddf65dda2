"""The expert draw at the notary: the operator (the contract's admin) grants the draw roles.

Everything else of a draw is done by its parties with their own keys (``lianzheng experts …``),
through ``/chain/rpc`` on the embedded chain or any node of a real one.
"""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lianzheng.notary.api.deps import OperatorDep
from lianzheng.notary.errors import InvalidEvent

router = APIRouter(prefix="/v1/experts", tags=["experts"])


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["centre", "supervisor", "registrar", "independent"]
    account: Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
    region: Annotated[int | None, Field(ge=10, le=899999)] = None


@router.get("", summary="The ExpertDraw contract this notary serves and its admin")
def info(request: Request) -> dict:
    notary = request.app.state.notary
    return {"contract": notary.experts.address, "admin": notary.account.address, "chain_id": notary.chain.chain_id,
            "tender_contract": notary.tender.address}


@router.post("/grants", status_code=201, summary="Grant a draw role (operator): centre or supervisor of a region, "
                                                 "registrar of a province, independent party")
async def grant(body: Grant, request: Request, _: OperatorDep) -> dict:
    notary = request.app.state.notary
    region = body.region
    if body.role in ("centre", "supervisor") and (region is None or region < 100000):
        raise InvalidEvent(f"a {body.role} is granted for a 6-digit region", field="region")
    if body.role == "registrar" and (region is None or region >= 100):
        raise InvalidEvent("a registrar is granted for a 2-digit province", field="region")
    draws, admin = notary.experts, notary.account
    act = {"centre": lambda: draws.grant_centre(admin, region, body.account),
           "supervisor": lambda: draws.grant_supervisor(admin, region, body.account),
           "registrar": lambda: draws.grant_registrar(admin, region, body.account),
           "independent": lambda: draws.grant_independent(admin, body.account)}[body.role]
    await run_in_threadpool(act)
    return {"role": body.role, "account": body.account, "region": region}
