"""GET /healthz: liveness and anchoring state. Cheap and never rate-limited: monitors and
load balancers must see the notary while its public surface is under load."""
from __future__ import annotations

from fastapi import APIRouter

from lianzheng.notary.api.deps import StatusDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and anchoring state")
def healthz(status: StatusDep) -> dict:
    return status
