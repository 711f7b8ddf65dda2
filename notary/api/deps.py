"""Request dependencies as ``Annotated`` aliases (routes stay thin)."""
from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request

from notary.errors import NotaryError, Unauthenticated
from notary.services.setup import Notary


class BodyTooLarge(NotaryError):
    code, status = "body_too_large", 413


class InvalidJson(NotaryError):
    code, status = "invalid_json", 400


def get_notary(request: Request) -> Notary:
    return request.app.state.notary


NotaryDep = Annotated[Notary, Depends(get_notary)]


def get_writer(request: Request, notary: NotaryDep) -> str:
    header = request.headers.get("authorization")
    secret = request.headers.get("x-api-key")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Authorization header must be 'Bearer <key>'")
        secret = value.strip()
    writer = notary.keys.authenticate(secret)
    notary.rate.take(writer)
    return writer


WriterDep = Annotated[str, Depends(get_writer)]


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
