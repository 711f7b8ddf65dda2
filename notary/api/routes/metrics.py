"""GET /metrics: the Prometheus text format (``notary.api.metrics`` names every metric).

Keyless like /healthz: it shows counts, sizes and latencies, never an event. Unlike /healthz it is
rate-limited as a keyless read (a scrape reads the store and, with several workers, every worker's
file): a scraper every few seconds is far below the budget.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from lianzheng.notary.api.limits import limit_reads

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, dependencies=[Depends(limit_reads)],
            summary="Prometheus metrics: events ingested, tree and anchored size, anchoring lag, gas per anchor, "
                    "chain errors, rate-limited requests, request latency by route",
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
