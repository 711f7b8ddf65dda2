"""POST /chain/rpc: the embedded chain, read-only, for verifiers in other processes."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from notary.api.deps import NotaryDep, read_json
from notary.errors import NotFound

router = APIRouter(tags=["chain"])
MAX_RPC_BODY = 256 * 1024
MAX_RPC_BATCH = 50


def _answer(chain, call: Any) -> dict[str, Any]:
    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
    params = call.get("params", [])
    if not isinstance(params, list):
        return {"jsonrpc": "2.0", "id": call.get("id"), "error": {"code": -32602, "message": "params must be a list"}}
    return {"jsonrpc": "2.0", "id": call.get("id"), **chain.rpc(call["method"], params)}


@router.post("/chain/rpc", summary="Read-only JSON-RPC of the embedded chain (404 when a real node is used)")
async def chain_rpc(request: Request, notary: NotaryDep) -> JSONResponse:
    if notary.chain.kind != "embedded":
        raise NotFound("this notary uses an external chain node: query that node instead")
    body = await read_json(request, MAX_RPC_BODY)
    if isinstance(body, list):
        if not body or len(body) > MAX_RPC_BATCH:
            return JSONResponse({"jsonrpc": "2.0", "id": None,
                                 "error": {"code": -32600, "message": f"batch of 1..{MAX_RPC_BATCH} calls"}})
        return JSONResponse([await run_in_threadpool(_answer, notary.chain, c) for c in body])
    return JSONResponse(await run_in_threadpool(_answer, notary.chain, body))
