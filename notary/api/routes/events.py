"""POST /v1/events: one event, or ``{"events": [...]}`` up to the batch limit.

Trading systems send mostly one event per request, hundreds at once: ``WriteLane`` answers
that request ahead of the framework's routing and dependency machinery (measured: it cost ~70%
of the CPU of a single-event write), with the same checks in the same order and the same
answers, errors included (``accept_events`` is the one implementation, the route uses it too).
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from lianzheng.notary.api.deps import _notary, read_json, writer_of
from lianzheng.notary.api.metrics import LANE_ROUTE
from lianzheng.notary.errors import BatchTooLarge, InvalidEvent
from lianzheng.notary.services.setup import Notary
from lianzheng.sdk.errors import LianzhengError

router = APIRouter(tags=["events"])

# Requests of up to this many events are validated on the event loop; larger batches in a thread
# (so one 10,000-event batch does not hold up everyone else's single events).
INLINE_EVENTS = 16
INLINE_BYTES = 64 * 1024  # and of at most this many bytes (a 9 MB event takes ~0.8 s to validate)
TILE_ROUTE = "/tile/{level}/{index:path}"  # as notary.api.routes.tiles declares it (a /metrics label)


def _declared_size(request: Request) -> int:
    """The body's Content-Length (a chunked body counts as large)."""
    for name, value in request.scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else INLINE_BYTES + 1
    return INLINE_BYTES + 1

_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"oneOf": [
        {"$ref": "#/components/schemas/Event"},
        {"type": "object", "required": ["events"],
         "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"},
                                   "minItems": 1}}},
    ]}}},
}


@router.post(
    "/v1/events",
    status_code=201,
    openapi_extra={"requestBody": _BODY},
    summary="Notarize events; answers once they are durable, with pending receipts",
    responses={200: {"description": "every event was a retry of an already logged id"},
               401: {"description": "no API key"},
               403: {"description": "unknown API key, or a rule type sent by a key that is not the rules "
                                    "engine's"},
               409: {"description": "an id was already used for a different event, or by another writer"},
               413: {"description": "body or batch too large"}, 422: {"description": "malformed event"},
               429: {"description": "the key's write rate is exceeded"}},
)
async def post_events(request: Request) -> Response:
    return await accept_events(request, _notary(request))


async def accept_events(request: Request, notary: Notary) -> Response:
    """Authenticate, read, validate, commit (group commit by the sequencer) and answer."""
    writer = await writer_of(request, notary)
    log, settings = notary.log, notary.settings
    body = await read_json(request, settings.max_body_bytes)
    single = not (isinstance(body, dict) and "events" in body)
    if single:
        events: Any = [body]
    else:
        if set(body) != {"events"}:
            raise InvalidEvent("a batch body has exactly one key, 'events'")
        events = body["events"]
        if not isinstance(events, list) or not events:
            raise InvalidEvent("'events' must be a non-empty array")
        if len(events) > settings.max_batch:
            raise BatchTooLarge(f"{len(events)} events in one request, limit {settings.max_batch}",
                                limit=settings.max_batch)
    if len(events) <= INLINE_EVENTS and _declared_size(request) <= INLINE_BYTES:  # less than a thread hop
        prepared = log.prepare(events, writer.name, writer.writes_rules)
    else:
        prepared = await run_in_threadpool(log.prepare, events, writer.name, writer.writes_rules)
    loop = asyncio.get_running_loop()
    committed: asyncio.Future = loop.create_future()
    log.enqueue(prepared, lambda r: loop.call_soon_threadsafe(_settle, committed, r))
    accepted = log.outcome(await committed)
    if any(a.duplicate for a in accepted):
        receipts = await run_in_threadpool(lambda: [log.receipt_json(a) for a in accepted])
        logged = sum(not a.duplicate for a in accepted)
    else:
        receipts = [log.receipt_json(a) for a in accepted]
        logged = len(accepted)
    if logged:
        request.app.state.metrics.events.inc(logged)
    status = 200 if all(a.duplicate for a in accepted) else 201
    body = receipts[0] if single else b'{"receipts":[' + b",".join(receipts) + b"]}"
    return Response(content=body, status_code=status, media_type="application/json")


async def serve_tile(request: Request, notary: Notary) -> Response:
    """``GET /tile/<level>/<index>`` as the tiles route answers it (``notary.api.routes.tiles``)."""
    from lianzheng.notary.api.limits import limit_tiles
    from lianzheng.notary.api.routes.tiles import IMMUTABLE, tile_bytes

    limit_tiles(request)
    level, _, index = request.scope["path"][len("/tile/"):].partition("/")
    body = await run_in_threadpool(tile_bytes, notary.log, level, index)
    return Response(content=body, media_type="application/octet-stream", headers=IMMUTABLE)


def _settle(future: asyncio.Future, request: Any) -> None:
    if not future.done():  # a client that went away cancelled it; its events are logged all the same
        future.set_result(request)


class WriteLane:
    """Pure ASGI app around the whole notary app: answers ``POST /v1/events`` and ``GET /tile/…``
    itself (the hot paths of writers and mirrors), hands everything else on. Its answers carry
    the headers every answer carries; a browser's request (with an ``Origin`` header) goes the
    whole way, through CORS. Errors become the answers the
    app's handlers give (``notary.api.errors``)."""

    def __init__(self, app) -> None:
        self.app = app
        self.state = app.state  # as the app's, for whoever holds the outer object

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or any(name == b"origin" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)  # a browser's request goes through CORS
            return
        if scope["method"] == "POST" and scope["path"] == "/v1/events":
            handle = accept_events
            scope[LANE_ROUTE] = "/v1/events"  # the route's template, for /metrics
        elif scope["method"] == "GET" and scope["path"].startswith("/tile/"):
            handle = serve_tile  # mirrors fetch two of these per 256 entries
            scope[LANE_ROUTE] = TILE_ROUTE
        else:
            await self.app(scope, receive, send)
            return
        from lianzheng.notary.api.errors import answer, unexpected_answer
        from lianzheng.notary.api.limits import PAGE_HEADERS

        scope["app"] = self.app
        request = Request(scope, receive)
        try:
            response = await handle(request, self.app.state.notary)
        except LianzhengError as exc:
            response = answer(exc)
        except Exception:  # noqa: BLE001 - as the app's last-resort handler answers
            response = unexpected_answer()
        # Sent as two ASGI messages straight away (Response.__call__ cost ~5% of a write).
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": [*response.raw_headers, *PAGE_HEADERS]})
        await send({"type": "http.response.body", "body": response.body})
