"""Request dependencies as ``Annotated`` aliases: each route gets only the part it uses.

The assembled ``Notary`` lives on ``app.state`` for its lifecycle; no route receives it whole.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from lianzheng.notary.errors import BodyTooLarge, ClientGone, InvalidJson, Unauthenticated
from lianzheng.notary.services.keys import ANONYMOUS, Viewer
from lianzheng.notary.services.log import NotaryLog
from lianzheng.notary.services.setup import Notary
from lianzheng.notary.services.tender_desk import TenderDesk
from lianzheng.notary.services.witness import Witness
from lianzheng.notary.settings import Settings

if TYPE_CHECKING:  # the embedded chain's replicas load web3 and py-evm: not for a notary on --rpc
    from lianzheng.chain_node.replica import ReplicaPool


def _notary(request: Request) -> Notary:
    return request.app.state.notary


def get_log(request: Request) -> NotaryLog:
    return _notary(request).log


def get_settings(request: Request) -> Settings:
    return _notary(request).settings


def get_witness(request: Request) -> Witness:
    return _notary(request).witness


def get_desk(request: Request) -> TenderDesk:
    return _notary(request).desk


def get_public_rpc(request: Request) -> ReplicaPool | None:
    return _notary(request).public_rpc


def get_status(request: Request) -> dict[str, Any]:
    return _notary(request).status()


def get_public_config(request: Request) -> dict[str, Any]:
    return _notary(request).public_config(str(request.base_url))


LogDep = Annotated[NotaryLog, Depends(get_log)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
WitnessDep = Annotated[Witness, Depends(get_witness)]
DeskDep = Annotated[TenderDesk, Depends(get_desk)]
PublicRpcDep = Annotated[Any, Depends(get_public_rpc)]  # a ReplicaPool, or None
StatusDep = Annotated[dict, Depends(get_status)]
PublicConfigDep = Annotated[dict, Depends(get_public_config)]


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key of a well-formed ``Authorization: Bearer <key>`` header, read from the raw ASGI
    headers (building a Headers object cost ~3% of a write); None for anything else."""
    for name, value in headers:
        if name == b"authorization":
            if value[:7].lower() == b"bearer " and value[7:].strip():
                return value[7:].strip().decode("latin-1")
            return None
    return None


def _secret(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <key>'")
        return value.strip()
    return request.headers.get("x-api-key")


async def get_writer(request: Request) -> Viewer:
    """The writing key of the request (401/403), within its rate (429). A key verified in the last
    seconds costs no thread and no query: the hot path of every write."""
    return await writer_of(request, _notary(request))


async def writer_of(request: Request, notary: Notary) -> Viewer:
    """``get_writer`` for a caller that holds the notary (the write lane)."""
    secret = _bearer(request.scope["headers"])
    writer = notary.keys.cached(secret)
    if writer is None:
        secret = _secret(request)  # the full rules, with their errors
        writer = notary.keys.cached(secret)
    if writer is None:
        writer = await run_in_threadpool(notary.keys.authenticate, secret)
    notary.rate.take(writer.name)
    return writer


def get_viewer(request: Request) -> Viewer:
    """Who reads: anonymous without a key; a key that is given must be valid (403 otherwise)."""
    secret = _secret(request)
    if not secret:
        return ANONYMOUS
    notary = _notary(request)
    name, role = notary.keys.identify(secret)
    notary.rate.take(name)
    return Viewer(name, role)


def get_operator(request: Request) -> Viewer:
    notary = _notary(request)
    operator = notary.keys.operator(_secret(request))
    notary.rate.take(operator.name)
    return operator


WriterDep = Annotated[Viewer, Depends(get_writer)]
OperatorDep = Annotated[Viewer, Depends(get_operator)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def read_json(request: Request, limit: int) -> Any:
    """The request body as JSON, refusing more than ``limit`` bytes before reading them all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body is {declared} bytes, limit {limit}", limit=limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge(f"request body exceeds {limit} bytes", limit=limit)
    except ClientDisconnect as exc:  # nobody to answer: no traceback in the log either
        raise ClientGone("the client closed the connection before its body arrived") from exc
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(f"request body is not JSON: {exc}") from exc
