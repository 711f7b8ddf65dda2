"""``lianzheng status URL``: one screen of a running notary, from ``/healthz``, ``/metrics`` and
``/v1/checkpoint``.

Exit 0 healthy; 1 unhealthy: an anchoring round failing now (``/healthz`` ``anchor_error``) or the
oldest unanchored event waiting longer than ``--max-lag`` seconds; 2 unreachable or not a notary.
With ``serve --workers N`` the counts are every worker's; ``sequencer`` and the anchoring error are
those of the worker that answered (the lag, read from the store, covers a stuck sequencer anyway).
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from lianzheng.sdk.cli.support import BAD_INPUT, REFUSED, fail

TIMEOUT = 5.0


def _get(client: httpx.Client, url: str, path: str) -> httpx.Response:
    try:
        return client.get(url + path)
    except httpx.HTTPError as exc:
        fail(f"error: {url} is unreachable ({type(exc).__name__}: {exc or 'no answer'})", BAD_INPUT)


def _samples(text: str) -> dict[str, list[Any]]:
    """Samples by their name (``…_total``, ``…_bucket``)."""
    from prometheus_client.parser import text_string_to_metric_families

    samples: dict[str, list[Any]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append(sample)
        return samples
    except ValueError as exc:
        fail(f"error: /metrics is not the Prometheus text format ({exc})", BAD_INPUT)


def _value(families: dict[str, list[Any]], name: str, **labels: str) -> float | None:
    samples = [s for s in families.get(name, ()) if all(s.labels.get(k) == v for k, v in labels.items())]
    return sum(s.value for s in samples) if samples else None


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """``histogram_quantile`` as Prometheus computes it: linear within the bucket holding the q-th
    observation; cumulative ``buckets`` as (upper bound, count), ascending, +Inf last."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower  # beyond the largest finite bound: say that bound
            return lower + (bound - lower) * ((rank - below) / (count - below) if count > below else 0)
        lower, below = bound, count
    return lower


def latency_buckets(families: dict[str, list[Any]], route: str | None = None) -> list[tuple[float, float]]:
    """The request-latency histogram's cumulative buckets, summed over methods and (unless one is
    named) routes."""
    summed: dict[float, float] = {}
    for s in families.get("lianzheng_http_request_duration_seconds_bucket", ()):
        if route is None or s.labels.get("route") == route:
            bound = float(s.labels["le"])
            summed[bound] = summed.get(bound, 0.0) + s.value
    return sorted(summed.items())


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.1f} ms"


def status(
    url: Annotated[str, typer.Argument(help="the notary's base URL, e.g. http://127.0.0.1:8000")],
    max_lag: Annotated[float, typer.Option("--max-lag", help="seconds an event may wait for its anchor "
                                           "before the notary counts as unhealthy")] = 30.0,
) -> None:
    """Show a notary's state on one screen; exit 0 healthy, 1 unhealthy, 2 unreachable."""
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        fail(f"error: {url!r} is not an http(s) URL", BAD_INPUT)
    with httpx.Client(timeout=TIMEOUT) as client:
        health_r, metrics_r, checkpoint_r = (_get(client, url, p) for p in ("/healthz", "/metrics", "/v1/checkpoint"))
    try:
        health = health_r.json()
        health_r.raise_for_status()
        metrics_r.raise_for_status()
        size, anchored = int(health["tree_size"]), int(health["anchored_size"])
    except (ValueError, KeyError, TypeError, httpx.HTTPStatusError) as exc:
        fail(f"error: {url} does not answer as a Lianzheng notary (/healthz {health_r.status_code}, "
             f"/metrics {metrics_r.status_code}: {exc})", BAD_INPUT)
    families = _samples(metrics_r.text)
    try:
        anchor = checkpoint_r.json().get("anchor") if checkpoint_r.status_code == 200 else None
    except (ValueError, AttributeError):
        anchor = None  # no readable checkpoint: shown as none
    if not isinstance(anchor, dict):
        anchor = None
    lag = _value(families, "lianzheng_anchoring_lag_seconds") or 0.0
    problems = []
    if health.get("anchor_error"):
        problems.append(f"anchoring fails: {health['anchor_error']}")
    if lag > max_lag:
        problems.append(f"anchoring lag {lag:.1f} s above {max_lag:g} s")

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    chain = health.get("chain", {})
    rows = [
        ("notary", f"{url}  region {health.get('region')}  ({health.get('origin')}, {health.get('hash')})"),
        ("health", "[green]healthy[/]" if not problems else "[red]unhealthy[/]: " + "; ".join(problems)),
        ("tree size", f"{size:,}"),
        ("anchored size", f"{anchored:,}  ({size - anchored:,} waiting)"),
        ("anchoring lag", f"{lag:.1f} s  (limit {max_lag:g} s)"),
        ("last anchor", "none yet" if not anchor else
         f"size {anchor.get('tree_size') or 0:,}, block {anchor.get('block_number')}, "
         + (datetime.fromtimestamp(anchor["block_time"], timezone.utc).isoformat() if anchor.get("block_time")
            else "time unknown")),
        ("chain", f"{chain.get('kind')} {chain.get('chain_id')}, registry {chain.get('registry')}"),
        ("anchoring errors", f"{_value(families, 'lianzheng_chain_errors_total', source='anchoring') or 0:.0f} rounds "
                             f"failed; now: {health.get('anchor_error') or 'none'}"),
        ("chain 503s", f"{_value(families, 'lianzheng_chain_errors_total', source='request') or 0:.0f}"),
        ("sequencer", "this process" if health.get("sequencer") else "another process"),
        ("events ingested", f"{_value(families, 'lianzheng_events_ingested_total') or 0:,.0f}"),
    ]
    limited = {s.labels.get("limit"): s.value for s in families.get("lianzheng_rate_limited_total", ()) if s.value}
    rows.append(("rate-limited", ", ".join(f"{k} {v:,.0f}" for k, v in sorted(limited.items())) or "none"))
    everything = latency_buckets(families)
    rows.append(("latency, all", f"p50 {_ms(quantile(0.5, everything))}, p99 {_ms(quantile(0.99, everything))}"))
    writes = latency_buckets(families, "/v1/events")
    rows.append(("latency, writes", f"p50 {_ms(quantile(0.5, writes))}, p99 {_ms(quantile(0.99, writes))}"))
    for name, value in rows:
        table.add_row(name, value)
    Console(highlight=False).print(table)
    if problems:
        raise typer.Exit(REFUSED)
