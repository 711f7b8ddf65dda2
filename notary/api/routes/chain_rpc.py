"""POST /chain/rpc: the embedded chain, read-only, for verifiers in other processes.

Reads run in replica processes with a gas cap and a time bound (``chain_node.replica``); a
request, batch or not, gets twice one call's time. Each client address has a rate (every
call of a batch counts) and a number of requests in flight. Nothing here touches the chain
the notary anchors with.
"""
from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from lianzheng.notary.api.deps import PublicRpcDep, read_json
from lianzheng.notary.api.limits import get_limits
from lianzheng.notary.errors import NotFound, Unavailable

router = APIRouter(tags=["chain"])
MAX_RPC_BODY = 256 * 1024
MAX_RPC_BATCH = 50


def _invalid(call_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call_id, "error": {"code": code, "message": message}}


async def _answer(pool, call: Any, deadline: float) -> dict[str, Any]:
    from lianzheng.chain_node.replica import ReplicaBusy

    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return _invalid(None, -32600, "invalid request")
    params = call.get("params", [])
    if not isinstance(params, list):
        return _invalid(call.get("id"), -32602, "params must be a list")
    try:
        answer = await pool.ask(call["method"], params, deadline - time.monotonic())
    except ReplicaBusy as exc:
        raise Unavailable(f"the chain's read replicas are busy: {exc}", retry_after=1) from exc
    return {"jsonrpc": "2.0", "id": call.get("id"), **answer}


@router.post("/chain/rpc", summary="Read-only JSON-RPC of the embedded chain (404 when a real node is used)")
async def chain_rpc(request: Request, pool: PublicRpcDep) -> JSONResponse:
    if pool is None:
        raise NotFound("this notary uses an external chain node: query that node instead")
    body = await read_json(request, MAX_RPC_BODY)
    limits = get_limits(request)
    client = f"chain RPC from {limits.client(request)}"
    calls = body if isinstance(body, list) else [body]
    if not calls or len(calls) > MAX_RPC_BATCH:
        return JSONResponse(_invalid(None, -32600, f"batch of 1..{MAX_RPC_BATCH} calls"))
    limits.rpc.take(client, cost=len(calls))
    limits.rpc_in_flight.enter(client)
    # A whole request (a batch of 50 included) gets twice one call's time, not 50 times.
    deadline = time.monotonic() + 2 * pool.timeout
    try:
        answers = [await _answer(pool, c, deadline) for c in calls]
    finally:
        limits.rpc_in_flight.leave(client)
    return JSONResponse(answers if isinstance(body, list) else answers[0])
