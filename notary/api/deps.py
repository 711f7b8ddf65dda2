"""Request dependencies as ``Annotated`` aliases (routes stay thin)."""
from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request

from notary.errors import BodyTooLarge, InvalidJson, Unauthenticated
from notary.services.keys import ANONYMOUS, Viewer
from notary.services.setup import Notary


def get_notary(request: Request) -> Notary:
    return request.app.state.notary


NotaryDep = Annotated[Notary, Depends(get_notary)]


def _secret(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <key>'")
        return value.strip()
    return request.headers.get("x-api-key")


def get_writer(request: Request, notary: NotaryDep) -> Viewer:
    writer = notary.keys.authenticate(_secret(request))
    notary.rate.take(writer.name)
    return writer


def get_viewer(request: Request, notary: NotaryDep) -> Viewer:
    """Who reads: anonymous without a key; a key that is given must be valid (403 otherwise)."""
    secret = _secret(request)
    if not secret:
        return ANONYMOUS
    name, role = notary.keys.identify(secret)
    notary.rate.take(name)
    return Viewer(name, role)


WriterDep = Annotated[Viewer, Depends(get_writer)]
ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def read_json(request: Request, limit: int) -> Any:
    """The request body as JSON, refusing more than ``limit`` bytes before reading them all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body is {declared} bytes, limit {limit}", limit=limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f"request body exceeds {limit} bytes", limit=limit)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(f"request body is not JSON: {exc}") from exc
