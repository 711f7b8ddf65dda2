"""POST /v1/events: one event, or ``{"events": [...]}`` up to the batch limit."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from lianzheng.notary.api.deps import LogDep, SettingsDep, WriterDep, read_json
from lianzheng.notary.errors import BatchTooLarge, InvalidEvent

router = APIRouter(tags=["events"])

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
               413: {"description": "body or batch too large"}, 422: {"description": "malformed event"}},
)
async def post_events(request: Request, log: LogDep, settings: SettingsDep, writer: WriterDep) -> Response:
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
    accepted = await run_in_threadpool(log.submit, events, writer.name, writer.writes_rules)
    if any(a.duplicate for a in accepted):
        receipts = await run_in_threadpool(lambda: [log.receipt_json(a) for a in accepted])
    else:
        receipts = [log.receipt_json(a) for a in accepted]
    status = 200 if all(a.duplicate for a in accepted) else 201
    body = receipts[0] if single else b'{"receipts":[' + b",".join(receipts) + b"]}"
    return Response(content=body, status_code=status, media_type="application/json")
