"""Observability: /metrics (Prometheus text format), JSON logs and ``lianzheng status``."""
from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from lianzheng.chain_node.anvil import free_port
from lianzheng.notary.api.app import create_app, serving_app
from lianzheng.notary.api.metrics import NotaryMetrics, RequestMetrics
from lianzheng.notary.cli.status import quantile
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.services.setup import open_notary
from lianzheng.notary.settings import Settings
from tests.helpers import LIANZHENG, NotaryServer, cli, make_event, write_key_file


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) → value, parsed by prometheus-client's own parser."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def routes(text: str) -> set[str]:
    return {dict(labels)["route"] for name, labels in samples(text) if name.startswith("lianzheng_http_request")}


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The app as `lianzheng serve` runs it (write lane and metrics middleware); tiles limited to
    1/s and writes to 1/s for a second key so that a 429 is easy to cause."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("metrics") / "data", anchor_interval=0.2, tile_rate=0.5)
    with TestClient(serving_app(settings), raise_server_exceptions=False) as client:
        client.hdr = {"Authorization": f"Bearer {create_key(client.app.state.notary.store, 'trading-system')}"}
        yield client


def _wait_anchored(api, size, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.get("/healthz").json()["anchored_size"] >= size:
            return
        time.sleep(0.05)
    raise AssertionError(f"size {size} not anchored")


def test_events_counter_grows_by_what_was_logged_retries_not_counted(api):
    before = value(api.get("/metrics").text, "lianzheng_events_ingested_total")
    for i in range(3):
        assert api.post("/v1/events", json=make_event(i), headers=api.hdr).status_code == 201
    batch = {"events": [make_event(i) for i in range(10, 14)]}
    assert api.post("/v1/events", json=batch, headers=api.hdr).status_code == 201
    assert api.post("/v1/events", json=make_event(1), headers=api.hdr).status_code == 200  # a retry
    after = value(api.get("/metrics").text, "lianzheng_events_ingested_total")
    assert after - before == 7


def test_sizes_match_healthz_and_an_anchor_reports_its_gas(api):
    api.post("/v1/events", json=make_event(20), headers=api.hdr)
    _wait_anchored(api, api.get("/healthz").json()["tree_size"])
    health, text = api.get("/healthz").json(), api.get("/metrics").text
    assert value(text, "lianzheng_tree_size") == health["tree_size"] > 0
    assert value(text, "lianzheng_anchored_size") == health["anchored_size"] == health["tree_size"]
    assert value(text, "lianzheng_anchoring_lag_seconds") == 0
    assert value(text, "lianzheng_anchor_gas_used_count") >= 1
    assert 60_000 < value(text, "lianzheng_anchor_gas_used_sum") / value(text, "lianzheng_anchor_gas_used_count") \
        < 300_000
    assert value(text, "lianzheng_chain_errors_total", source="anchoring") == 0


def test_latency_is_labelled_by_route_template_never_by_raw_path(api):
    api.post("/v1/events", json=make_event(30), headers=api.hdr)
    assert api.get("/v1/receipts/evt-30").status_code == 200
    assert api.get("/v1/receipts/evt-no-such-id").status_code == 404
    assert api.get("/no/such/path/evt-31").status_code == 404
    text = api.get("/metrics").text
    labels = routes(text)
    assert {"/v1/events", "/v1/receipts/{event_id}", "/healthz", "unmatched"} <= labels
    assert not [label for label in labels if "evt-" in label or "no/such" in label]
    assert value(text, "lianzheng_http_request_duration_seconds_count", method="GET",
                 route="/v1/receipts/{event_id}") >= 2
    assert value(text, "lianzheng_http_request_duration_seconds_count", method="POST", route="/v1/events") >= 1


def test_a_refusal_of_each_limit_is_counted_by_its_kind(api):
    text = api.get("/metrics").text
    tiles, keys = (value(text, "lianzheng_rate_limited_total", limit=k) for k in ("tiles", "api_key"))
    answers = [api.get("/tile/0/000.p/1").status_code for _ in range(3)]  # the write lane answers these
    assert 429 in answers
    limiter = api.app.state.notary.rate.limit  # the per-key write rate, down to 0.5/s for a moment
    limiter.rate, limiter.burst = 0.5, 1.0
    try:
        writes = [api.post("/v1/events", json=make_event(40 + i), headers=api.hdr).status_code for i in range(3)]
    finally:
        limiter.rate, limiter.burst = 500.0, 1000.0
    assert 429 in writes
    text = api.get("/metrics").text
    assert value(text, "lianzheng_rate_limited_total", limit="tiles") - tiles == answers.count(429)
    assert value(text, "lianzheng_rate_limited_total", limit="api_key") - keys == writes.count(429)
    assert routes(text) >= {"/tile/{level}/{index:path}"}


def test_lag_is_the_wait_of_the_oldest_unanchored_event(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    notary = open_notary(settings)  # its anchoring worker is never started here
    try:
        with TestClient(create_app(settings, notary)) as client:
            hdr = {"Authorization": f"Bearer {create_key(notary.store, 'w')}"}
            assert value(client.get("/metrics").text, "lianzheng_anchoring_lag_seconds") == 0  # nothing waits
            client.post("/v1/events", json=make_event(1), headers=hdr)
            time.sleep(0.3)
            client.post("/v1/events", json=make_event(2), headers=hdr)
            text = client.get("/metrics").text
            assert value(text, "lianzheng_tree_size") == 2 and value(text, "lianzheng_anchored_size") == 0
            assert 0.3 <= value(text, "lianzheng_anchoring_lag_seconds") < 30
    finally:
        notary.close()


def test_a_failed_anchoring_round_counts_as_a_chain_error(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", anchor_interval=0.05)
    notary = open_notary(settings)
    try:
        app = create_app(settings, notary)
        with TestClient(app) as client:
            def down():
                raise ConnectionError("node down")

            notary.worker.anchor_once = down
            notary.worker.fence = lambda: True  # the sequencer (no election runs here)
            notary.worker.start()
            deadline = time.monotonic() + 10
            while value(client.get("/metrics").text, "lianzheng_chain_errors_total", source="anchoring") < 1:
                assert time.monotonic() < deadline, "the failure was not counted"
                time.sleep(0.05)
            assert client.get("/healthz").json()["status"] == "degraded"
    finally:
        notary.close()


def test_a_503_from_the_chain_counts_as_a_chain_error_other_503s_do_not():
    metrics = NotaryMetrics()

    def answering(code: str):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": json.dumps({"code": code, "message": "x"},
                                                                        separators=(",", ":")).encode()})
        app.state = None
        return app

    async def call(app):
        async def send(_):
            pass
        await RequestMetrics(app, metrics)({"type": "http", "method": "GET", "path": "/x"}, None, send)

    for code in ("chain_unavailable", "unavailable", "replicas_busy", "chain_unreachable"):
        asyncio.run(call(answering(code)))
    text = metrics.exposition().decode()
    assert value(text, "lianzheng_chain_errors_total", source="request") == 2
    assert value(text, "lianzheng_http_request_duration_seconds_count", method="GET", route="unmatched") == 4


def test_an_attacker_cannot_grow_the_metrics_with_made_up_methods_and_paths():
    """Every made-up method is "other" and every unknown path "unmatched": a flood of them adds one
    series, whatever it sends (each series costs the notary's memory and every scraper's)."""
    metrics = NotaryMetrics()

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    app.state = None

    async def flood():
        async def send(_):
            pass
        middleware = RequestMetrics(app, metrics)
        for i in range(500):
            await middleware({"type": "http", "method": f"M{i}", "path": f"/p/{i}"}, None, send)

    asyncio.run(flood())
    text = metrics.exposition().decode()
    series = {tuple(sorted(s.labels.items())) for family in text_string_to_metric_families(text)
              if family.name == "lianzheng_http_request_duration_seconds" for s in family.samples}
    assert {dict(labels)["method"] for labels in series} == {"other"}
    assert {dict(labels)["route"] for labels in series} == {"unmatched"}
    assert value(text, "lianzheng_http_request_duration_seconds_count", method="other", route="unmatched") == 500
    assert len(metrics._latency) == 1


def test_quantiles_are_estimated_within_buckets_as_prometheus_does():
    buckets = [(0.001, 50.0), (0.01, 90.0), (0.1, 100.0), (float("inf"), 100.0)]
    assert quantile(0.5, buckets) == pytest.approx(0.001)
    assert quantile(0.7, buckets) == pytest.approx(0.001 + 0.009 * 0.5)
    assert quantile(0.99, buckets) == pytest.approx(0.01 + 0.09 * 0.9)
    assert quantile(0.5, [(0.1, 0.0), (float("inf"), 0.0)]) is None


# --- a real server: JSON logs and `lianzheng status` ---------------------------------------------

@pytest.fixture(scope="module")
def json_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("json-logs") / "data"
    port = free_port()
    process = subprocess.Popen([*LIANZHENG, "serve", "--port", str(port), "--data-dir", str(data),
                                "--log-format", "json", "--anchor-interval", "0.2", "--trusted-proxies", "127.0.0.1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, process.stderr.read()
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the notary did not start"
        time.sleep(0.1)
    yield url, process, data
    if process.poll() is None:
        process.kill()
        process.wait()


def test_status_shows_a_healthy_notary_and_exits_0(json_server):
    url, _, data = json_server
    key = cli("keys", "add", "--name", "status-writer", "--data-dir", str(data), check=True).stdout.strip()
    receipt = httpx.post(url + "/v1/events", json=make_event(1), headers={"Authorization": f"Bearer {key}"})
    assert receipt.status_code == 201
    deadline = time.monotonic() + 15
    while httpx.get(url + "/healthz").json()["anchored_size"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    result = cli("status", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "healthy" in result.stdout and "unhealthy" not in result.stdout
    assert "tree size" in result.stdout and "anchored size" in result.stdout and "1 " in result.stdout
    assert "events ingested" in result.stdout and "p99" in result.stdout and "block" in result.stdout


def test_status_of_a_dead_port_is_one_line_and_exit_2():
    result = cli("status", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "unreachable" in result.stderr
    assert "Traceback" not in result.stderr
    assert cli("status", "not-a-url").returncode == 2


def test_json_logs_are_one_object_per_line_with_an_access_line_per_request(json_server):
    url, process, _ = json_server
    httpx.get(url + "/v1/receipts/evt-none")  # 404
    httpx.get(url + "/healthz")
    httpx.get(url + "/v1/checkpoint", headers={"X-Forwarded-For": "203.0.113.7"})  # through a trusted proxy
    time.sleep(0.3)  # access lines are written out every 0.1 s
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(p) for p in parsed)
    access = [p for p in parsed if p["logger"] == "lianzheng.access"]
    assert any(p["route"] == "/v1/receipts/{event_id}" and p["status"] == 404 and p["path"] == "/v1/receipts/evt-none"
               for p in access)
    assert all(isinstance(p["duration_ms"], float) for p in access)
    clients = {p["path"]: p["client"] for p in access}
    assert clients["/v1/checkpoint"] == "203.0.113.7" and clients["/healthz"] == "127.0.0.1"  # who, not the proxy


# --- serve --workers 2: one count over both processes --------------------------------------------

@pytest.mark.anvil
def test_metrics_of_two_workers_count_the_events_of_both(tmp_path, anvil_node, monkeypatch):
    """And the workers' rate limits are one budget: a client whose connections land on both meets one."""
    from eth_account import Account
    from prometheus_client import multiprocess

    monkeypatch.setenv("LIANZHENG_READ_RATE", "5")  # keyless reads per second per client, bursts of 10
    account = Account.create()
    anvil_node.chain().fund(account.address, 10**20)
    key_file = write_key_file(tmp_path / "chain.key", account)
    server = NotaryServer(tmp_path / "data", "--workers", "2", "--rpc", anvil_node.url, "--chain-key-file",
                          str(key_file), "--anchor-interval", "0.2").start()
    try:
        key = cli("keys", "add", "--name", "w", "--data-dir", str(tmp_path / "data"), check=True).stdout.strip()
        for i in range(60):  # a new connection each: the kernel hands them to either worker
            r = httpx.post(server.url + "/v1/events", json=make_event(i), headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 201
        text = httpx.get(server.url + "/metrics").text
        assert value(text, "lianzheng_events_ingested_total") == 60
        per_worker = []
        for file in sorted((tmp_path / "data" / "metrics").glob("counter_*.db")):
            alone = tmp_path / "one" / file.stem
            alone.mkdir(parents=True)
            shutil.copy(file, alone)
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry, path=str(alone))
            per_worker.append(registry.get_sample_value("lianzheng_events_ingested_total") or 0)
        assert sum(per_worker) == 60 and len([n for n in per_worker if n]) == 2, per_worker
        assert value(text, "lianzheng_tree_size") == httpx.get(server.url + "/healthz").json()["tree_size"]
        started = time.monotonic()  # a new connection each: either worker answers
        codes = [httpx.get(server.url + "/v1/entries?start=0&end=1").status_code for _ in range(40)]
        allowed = 10 + 5 * (time.monotonic() - started) + 1  # one burst and one rate (per worker: twice)
        assert codes.count(429) and len(codes) - codes.count(429) <= allowed, (codes, allowed)
        assert set(codes) == {200, 429}
    finally:
        server.stop()
