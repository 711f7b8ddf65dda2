"""POST /chain/rpc: the embedded chain, for verifiers and rule parties in other processes.

Reads run in replica processes with a gas cap and a time bound (``chain_node.replica``); a
request, batch or not, gets twice one call's time. Each client address has a rate (every
call of a batch counts) and a number of requests in flight.

One write is relayed: ``eth_sendRawTransaction`` of a transaction to the ExpertDraw contract
(the parties of a draw act with their own keys; their signature is the authority, the contract
checks every permission). Nothing else is relayed — no anchoring, no other contract, no
contract creation; gas at most ``RELAYED_GAS_CAP``; 2 per second per client. On this
development chain the sender is given gas money.
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
RELAYED_GAS_CAP = 3_000_000


def _invalid(call_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": call_id, "error": {"code": code, "message": message}}


async def _relay(request: Request, call_id: Any, params: list[Any]) -> dict[str, Any]:
    """A signed transaction to the ExpertDraw contract, sent to the chain; anything else refused."""
    from starlette.concurrency import run_in_threadpool

    from lianzheng.chain_node.base import SignedTx
    from lianzheng.chain_node.errors import ChainError

    limits = get_limits(request)
    limits.relayed.take(f"relayed transactions from {limits.client(request)}")
    try:
        raw = bytes.fromhex(str(params[0]).removeprefix("0x"))
        tx = _decoded(raw)
    except (IndexError, ValueError, TypeError) as exc:
        return _invalid(call_id, -32602, f"not a signed transaction: {exc}")
    notary = request.app.state.notary
    if tx["to"] != notary.experts.address.lower():
        return _invalid(call_id, -32601, "only transactions to the ExpertDraw contract are relayed")
    if tx["gas"] > RELAYED_GAS_CAP:
        return _invalid(call_id, -32602, f"gas above {RELAYED_GAS_CAP:,}")

    def send() -> str:
        notary.chain.ensure_gas_money(tx["sender"], tx["gas"])
        notary.chain.send_raw(SignedTx(raw, tx["hash"], tx["nonce"], tx["sender"]))
        return tx["hash"]

    try:
        return {"jsonrpc": "2.0", "id": call_id, "result": await run_in_threadpool(send)}
    except ChainError as exc:
        return _invalid(call_id, -32000, str(exc)[:300])


def _decoded(raw: bytes) -> dict[str, Any]:
    """Sender, destination, gas, nonce and hash of a signed transaction of any type the chain takes
    (py-evm's own decoder, the one the embedded chain applies); ``ValueError`` for anything else."""
    from eth.exceptions import PyEVMError
    from eth.vm.forks.cancun.transactions import CancunTransactionBuilder
    from eth_keys.exceptions import BadSignature
    from eth_utils import ValidationError, to_checksum_address
    from rlp.exceptions import RLPException

    try:
        tx = CancunTransactionBuilder.decode(raw)
        sender = tx.sender
    except (RLPException, PyEVMError, BadSignature, ValidationError, IndexError, TypeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    if len(tx.to) != 20:
        raise ValueError("no destination (contract creation is not relayed)")
    return {"sender": to_checksum_address(sender), "to": "0x" + tx.to.hex(), "gas": tx.gas, "nonce": tx.nonce,
            "hash": "0x" + tx.hash.hex()}


async def _answer(pool, call: Any, deadline: float, request: Request) -> dict[str, Any]:
    from lianzheng.chain_node.replica import ReplicaBusy

    if not isinstance(call, dict) or not isinstance(call.get("method"), str):
        return _invalid(None, -32600, "invalid request")
    params = call.get("params", [])
    if not isinstance(params, list):
        return _invalid(call.get("id"), -32602, "params must be a list")
    if call["method"] == "eth_sendRawTransaction":
        return await _relay(request, call.get("id"), params)
    try:
        answer = await pool.ask(call["method"], params, deadline - time.monotonic())
    except ReplicaBusy as exc:
        raise Unavailable(f"the chain's read replicas are busy: {exc}", retry_after=1) from exc
    return {"jsonrpc": "2.0", "id": call.get("id"), **answer}


@router.post("/chain/rpc", summary="JSON-RPC reads of the embedded chain, and signed transactions to ExpertDraw "
                                   "relayed (404 when a real node is used)")
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
        answers = [await _answer(pool, c, deadline, request) for c in calls]
    finally:
        limits.rpc_in_flight.leave(client)
    return JSONResponse(answers if isinstance(body, list) else answers[0])
