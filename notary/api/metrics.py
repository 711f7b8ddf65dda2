"""Prometheus metrics of the notary (``GET /metrics``) and the ASGI middleware that times requests.

Counted as things happen (per process; summed over ``serve --workers N`` by prometheus-client's
multiprocess mode, files under ``<data dir>/metrics``):

- ``lianzheng_events_ingested_total``: events newly logged from ``POST /v1/events`` (a retried id is
  not counted again; the in-process rules engine's own steps are in the tree size only)
- ``lianzheng_http_request_duration_seconds{method, route}``: from the request's arrival at the app
  to the end of its answer; ``route`` is the route's template (``/v1/receipts/{event_id}``), never
  the raw path, and ``unmatched`` for any path no route serves: the label set stays bounded
- ``lianzheng_anchor_gas_used``: gas of each confirmed anchor transaction (from its receipt)
- ``lianzheng_chain_errors_total{source}``: ``anchoring`` (a failed anchoring round) and ``request``
  (a 503 answer whose code says the chain failed: ``chain_unavailable``, ``chain_unreachable``, ``rpc_error``)
- ``lianzheng_rate_limited_total{limit}``: 429 refusals by the limit that refused (``api_key``, ``reads``,
  ``tiles``, ``rpc``, ``rpc_in_flight``, ``certificates``, ``relayed``, ``cosignatures``)

Read from the store at scrape time (the same figures as ``/healthz``, whichever worker answers):

- ``lianzheng_tree_size``, ``lianzheng_anchored_size``
- ``lianzheng_anchoring_lag_seconds``: how long the oldest event not covered by a confirmed anchor has
  waited (now minus its arrival); 0 when everything is anchored. It grows while the chain or the
  sequencer is stuck, whatever the load, and stays near the anchor interval while anchoring works.

The middleware costs each request one histogram observation (label children looked up once and
kept) and a wrapped ``send``; no lock beyond prometheus-client's own.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from lianzheng.notary.api.clients import resolve_client

if TYPE_CHECKING:
    from lianzheng.notary.api.logs import AccessLines
    from lianzheng.notary.services.setup import Notary

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus-client when it is first imported
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# anchor() costs ~80,000 gas plus ~2,300 per consistency-proof hash (notary.services.anchoring)
GAS_BUCKETS = (60_000, 70_000, 80_000, 90_000, 100_000, 110_000, 120_000, 150_000, 200_000, 300_000)
LIMIT_KINDS = ("api_key", "reads", "tiles", "rpc", "rpc_in_flight", "certificates", "relayed", "cosignatures")
CHAIN_ERROR_CODES = (b'"code":"chain_unavailable"', b'"code":"chain_unreachable"', b'"code":"rpc_error"')
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LANE_ROUTE = "lianzheng.route"  # the scope key where the write lane names the route it answered
UNMATCHED = "unmatched"

def anchoring_lag(notary: "Notary", tree_size: int, anchored_size: int, now: float) -> float:
    """Seconds the oldest event beyond the anchored size has waited (0: all anchored)."""
    if tree_size <= anchored_size:
        return 0.0
    rows = notary.log.store.entry_rows(anchored_size, anchored_size + 1)
    entry = notary.log.store.entry_by_id(rows[0][1]) if rows else None
    return 0.0 if entry is None else max(0.0, now - entry.received_at)


class NotaryState:
    """A collector: the log's sizes and anchoring lag, read when scraped (from the store, so any
    worker gives the figures of the whole log)."""

    def __init__(self, notary: "Notary") -> None:
        self.notary = notary

    def collect(self):
        status = self.notary.status()
        size, anchored = status["tree_size"], status["anchored_size"]
        lag = anchoring_lag(self.notary, size, anchored, time.time())
        for name, doc, value in (
                ("lianzheng_tree_size", "Entries in the log", size),
                ("lianzheng_anchored_size", "Tree size of the latest confirmed anchor", anchored),
                ("lianzheng_anchoring_lag_seconds",
                 "Seconds the oldest event not yet anchored has waited (0 when all are anchored)", lag)):
            yield GaugeMetricFamily(name, doc, value=value)


class NotaryMetrics:
    """The metrics of one app (its own registry: several apps in one process count apart)."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter("lianzheng_events_ingested", "Events newly logged from POST /v1/events", registry=r)
        self.latency = Histogram("lianzheng_http_request_duration_seconds",
                                 "Time from a request's arrival to the end of its answer",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.gas = Histogram("lianzheng_anchor_gas_used", "Gas used by each confirmed anchor transaction",
                             buckets=GAS_BUCKETS, registry=r)
        chain_errors = Counter("lianzheng_chain_errors", "Failed anchoring rounds and 503 answers because the "
                               "chain failed", ["source"], registry=r)
        self.anchoring_errors = chain_errors.labels("anchoring")
        self.request_chain_errors = chain_errors.labels("request")
        limited = Counter("lianzheng_rate_limited", "Requests refused with 429, by the limit that refused",
                          ["limit"], registry=r)
        self.limited = {kind: limited.labels(kind) for kind in LIMIT_KINDS}
        self._latency: dict[tuple[str, str], Any] = {}
        self._state: NotaryState | None = None

    def refused(self, kind: str) -> Callable[[], None]:
        """What a limit of ``kind`` calls when it refuses (``notary.api.limits.CountedLimit``)."""
        return self.limited[kind].inc

    def watch(self, notary: "Notary") -> None:
        """Count what ``notary`` does outside requests (anchors, anchoring failures, refusals of its
        per-key rate) and read its sizes at each scrape."""
        from lianzheng.notary.api.limits import CountedLimit

        notary.worker.anchored = self.gas.observe
        notary.worker.failed = self.anchoring_errors.inc
        if not isinstance(notary.rate, CountedLimit):
            notary.rate = CountedLimit(notary.rate, self.refused("api_key"))
        if self._state is not None:
            self.registry.unregister(self._state)
        self._state = NotaryState(notary)
        self.registry.register(self._state)

    def latency_of(self, method: str, route: str):
        key = (method if method in METHODS else "other", route)  # bounded: a made-up method is "other"
        child = self._latency.get(key)
        if child is None:
            child = self._latency[key] = self.latency.labels(*key)
        return child

    def exposition(self) -> bytes:
        """The Prometheus text format: this process's counts, or every worker's in multiprocess mode."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        if self._state is not None:
            registry.register(self._state)
        return generate_latest(registry)


class RequestMetrics:
    """Pure ASGI middleware around the whole app (the write lane included): times every request,
    counts 503s the chain caused and, given ``access`` (``notary.api.logs.AccessLines``), logs one
    JSON line per request."""

    def __init__(self, app, metrics: NotaryMetrics, access: "AccessLines | None" = None,
                 proxies: tuple = ()) -> None:
        self.app, self.metrics, self.access = app, metrics, access
        self.proxies = proxies  # --trusted-proxies: an access line names the client behind them
        self.state = app.state  # as the app's, for whoever holds the outer object

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def send_timed(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif status == 503 and any(code in message.get("body", b"") for code in CHAIN_ERROR_CODES):
                self.metrics.request_chain_errors.inc()
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get(LANE_ROUTE)
            if route is None:
                matched = scope.get("route")
                route = getattr(matched, "path", None) or UNMATCHED
            self.metrics.latency_of(scope["method"], route).observe(elapsed)
            if self.access is not None:
                peer = scope.get("client")
                client = peer[0] if peer else None
                if client is not None and self.proxies:
                    forwarded = b",".join(v for k, v in scope["headers"] if k == b"x-forwarded-for")
                    client = resolve_client(client, forwarded.decode("latin-1"), self.proxies)
                self.access.add(time.time(), scope["method"], scope["path"], route, status, elapsed, client)
