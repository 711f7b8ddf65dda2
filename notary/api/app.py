"""The FastAPI application: ``create_app(settings)`` builds it; nothing happens at import."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from lianzheng.notary.api.errors import install_error_handlers
from lianzheng.notary.api.limits import ClientLimits, SecurityHeaders
from lianzheng.notary.api.logs import access_lines, configure_logging
from lianzheng.notary.api.metrics import NotaryMetrics, RequestMetrics
from lianzheng.notary.api.routes import chain_rpc, cosignatures, events, experts, health, reads, tender, tiles, witness
from lianzheng.notary.api.routes.docs import docs_router
from lianzheng.notary.api.routes.metrics import router as metrics_router
from lianzheng.notary.services.setup import Notary, open_notary
from lianzheng.notary.settings import Settings

DESCRIPTION = """Notary of trading events for public-resource trading (链证).

Writers (trading systems) authenticate with an API key (`Authorization: Bearer <key>`);
reads need none. Every error answers with `{"code": ..., "message": ...}`; `code` is stable.
Limits (defaults): request body 8 MiB, 10,000 events per batch, canonical event 64 KiB,
500 write requests/s per API key, 200 reads/s and 200 chain-RPC calls/s per client address
(429 `rate_limited` with Retry-After beyond); chain-RPC calls get 10M gas and 2 s each. Alliance members hand
over cosignatures keyless (the signature authenticates), 20/s per client address.
"""
SETTINGS_ENV = "LZ_SERVE_SETTINGS"  # `serve --workers N` names the file of its settings for the workers here


def app_from_environment() -> RequestMetrics:
    """The app of one worker process of ``serve --workers N``."""
    import os
    from pathlib import Path

    settings = Settings.model_validate_json(Path(os.environ[SETTINGS_ENV]).read_text())
    configure_logging(settings.log_format)  # a worker process starts with no logging set up
    tune_gc()
    return serving_app(settings)


def serving_app(settings: Settings, notary: Notary | None = None) -> RequestMetrics:
    """What ``lianzheng serve`` runs: the app behind the write lane (``notary.api.routes.events``).
    Given an opened ``notary`` (``serve`` opens it first, to fail in one line), the app starts and
    closes it."""
    app = create_app(settings, notary, owned=notary is not None)
    # Timed around the lane too: the write lane answers the hot paths before FastAPI sees them.
    access = access_lines() if settings.log_format == "json" else None
    return RequestMetrics(events.WriteLane(app), app.state.metrics, access, app.state.limits.proxies)


def tune_gc() -> None:
    """A serving process's garbage collector (``serve`` and each worker call it; a test process
    that builds an app does not): a young collection after 50,000 allocations instead of 700.
    Requests allocate many short-lived containers; with the default, collections took ~10% of an
    event's CPU in the write path: in-process, 1,000-event batches, prepare + sequencer 125 → 112 µs
    per event; single-event writes under wrk (256 connections, one process) 1,589 → 1,738 per s,
    medians of three interleaved runs. Most of that garbage was one reference cycle per write, since
    broken (``NotaryLog._answer``); after it the threshold still helps a little: wrk, one process,
    medians of three interleaved runs 7,655 → 8,258 per s. (What start-up loaded is frozen out of
    collections when the notary is assembled: ``services.setup.open_notary``.)"""
    import gc

    gc.set_threshold(50_000, 20, 100)


def create_app(settings: Settings, notary: Notary | None = None, owned: bool = False) -> FastAPI:
    """The app for ``settings``; pass ``notary`` to serve an already assembled one (``owned``: the
    app starts it and closes it with the server; otherwise its opener does)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        own = notary is None or owned
        app.state.notary = open_notary(settings) if notary is None else notary
        app.state.metrics.watch(app.state.notary)
        if own:
            app.state.notary.start()
        try:
            yield
        finally:
            if own:
                app.state.notary.close()

    app = FastAPI(title="Lianzheng notary (链证)", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # /docs is served from here: docs_router
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders)
    # Any page may read the public API and the chain RPC (a witness's own copy of the page, from
    # file:// or another host); only JSON bodies and no credentials, so an Authorization header
    # never passes a preflight: writes stay with trading systems, not with other sites' scripts.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type"], allow_credentials=False, max_age=600)
    app.state.metrics = NotaryMetrics()
    app.state.limits = ClientLimits.from_settings(settings, app.state.metrics.refused)
    app.include_router(health.router)
    app.include_router(events.router)
    app.include_router(reads.router)
    app.include_router(tiles.router)
    app.include_router(chain_rpc.router)
    app.include_router(tender.router)
    app.include_router(experts.router)
    app.include_router(witness.router)
    app.include_router(cosignatures.router)
    app.include_router(docs_router(app))
    app.include_router(metrics_router)
    _publish_event_schema(app)
    return app


def _publish_event_schema(app: FastAPI) -> None:
    """POST /v1/events reads its body itself (to bound it); publish the Event schema anyway."""
    from fastapi.openapi.utils import get_openapi

    from lianzheng.sdk.event import EVENT_SCHEMA

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
