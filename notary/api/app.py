"""The FastAPI application: ``create_app(settings)`` builds it; nothing happens at import."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain_node.errors import ChainError, ChainUnavailable, InvalidTransaction
from notary.api.limits import ClientLimits, SecurityHeaders
from notary.api.routes import chain_rpc, events, health, reads, tender, witness
from notary.errors import NotaryError
from notary.services.ratelimit import retry_after_header
from notary.services.setup import Notary, open_notary
from notary.settings import Settings
from rules.errors import RuleError, RuleRejected
from sdk.errors import VerificationError

log = logging.getLogger("lianzheng.api")

DESCRIPTION = """Notary of trading events for public-resource trading (链证).

Writers (trading systems) authenticate with an API key (`Authorization: Bearer <key>`);
reads need none. Every error answers with `{"code": ..., "message": ...}`; `code` is stable.
Limits (defaults): request body 8 MiB, 10,000 events per batch, canonical event 64 KiB,
500 write requests/s per API key, 200 reads/s and 200 chain-RPC calls/s per client address
(429 `rate_limited` with Retry-After beyond); chain-RPC calls get 10M gas and 2 s each.
"""
CHAIN_RETRY_SECONDS = 5  # a chain node that is down is not back within a second


def _error(status: int, code: str, message: str, retry_after: float | None = None, **extra: object) -> JSONResponse:
    body = {"code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}}
    if status in (429, 503) and retry_after is None:
        retry_after = 1
    headers = {"Retry-After": retry_after_header(retry_after)} if retry_after is not None else None
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotaryError)
    async def notary_error(_: Request, exc: NotaryError) -> JSONResponse:
        retry = exc.details.get("retry_after")
        return _error(exc.status, exc.code, str(exc), retry_after=float(retry) if retry is not None else None,
                      details=exc.details or None)

    @app.exception_handler(ChainError)
    async def chain_error(_: Request, exc: ChainError) -> JSONResponse:
        if isinstance(exc, InvalidTransaction):
            return _error(422, exc.code, str(exc))
        log.warning("chain error: %s", exc)
        code = exc.code if isinstance(exc, ChainUnavailable) else "chain_unavailable"
        return _error(503, code, f"the chain did not complete the step: {exc}; nothing was recorded for it",
                      retry_after=CHAIN_RETRY_SECONDS)

    @app.exception_handler(RuleError)
    async def rule_error(_: Request, exc: RuleError) -> JSONResponse:
        if isinstance(exc, RuleRejected):
            return _error(422, exc.code, f"the rule refused this step: {exc.reason}",
                          details={"reason": exc.reason, "error": exc.error_name, "tx_hash": exc.tx_hash})
        return _error(422, exc.code, str(exc))

    @app.exception_handler(VerificationError)
    async def verification_error(_: Request, exc: VerificationError) -> JSONResponse:
        return _error(422, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg"))} for e in exc.errors()]
        return _error(422, "invalid_request", "request parameters are invalid", details=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return _error(500, "internal", "internal error; the event was not accepted unless a receipt was returned")


def create_app(settings: Settings, notary: Notary | None = None) -> FastAPI:
    """The app for ``settings``; pass ``notary`` to serve an already assembled one."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = notary is None
        app.state.notary = open_notary(settings) if own else notary
        if own:
            app.state.notary.start()
        try:
            yield
        finally:
            if own:
                app.state.notary.close()

    app = FastAPI(title="Lianzheng notary (链证)", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    app.state.limits = ClientLimits.from_settings(settings)
    app.include_router(health.router)
    app.include_router(events.router)
    app.include_router(reads.router)
    app.include_router(chain_rpc.router)
    app.include_router(tender.router)
    app.include_router(witness.router)
    _publish_event_schema(app)
    return app


def _publish_event_schema(app: FastAPI) -> None:
    """POST /v1/events reads its body itself (to bound it); publish the Event schema anyway."""
    from fastapi.openapi.utils import get_openapi

    from sdk.event import EVENT_SCHEMA

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            event = EVENT_SCHEMA.json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(event.pop("$defs", {}))
            components["Event"] = event
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi
