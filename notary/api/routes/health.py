"""GET /healthz: liveness and anchoring state. Cheap and never rate-limited: monitors and
load balancers must see the notary while its public surface is under load."""
from __future__ import annotations

from fastapi import APIRouter

from notary.api.deps import NotaryDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and anchoring state")
def healthz(notary: NotaryDep) -> dict:
    anchored = notary.store.latest_anchor("confirmed")
    return {
        "status": "ok" if notary.worker.last_error is None else "degraded",
        "region": notary.log.region, "origin": notary.log.origin, "hash": notary.log.hasher.name,
        "tree_size": len(notary.log), "anchored_size": anchored.tree_size if anchored else 0,
        "chain": {"kind": notary.chain.kind, "chain_id": notary.chain.chain_id,
                  "registry": notary.registry.address, "tender_rules": notary.tender.address,
                  "expert_draw": notary.experts.address},
        "anchor_error": notary.worker.last_error,
    }
