"""``scripts/bench ingest``: throughput, latency, proof verification and gas, measured here.

Every figure comes from real parts started by this script: notary server processes (embedded
chain, or anvil with ``--workers``; SQLite or PostgreSQL), an anvil node, a PostgreSQL cluster,
and ``wrk`` (Debian) as the load generator for single-event writes: 256 connections, each
request a new event with a unique id (a Lua script), keys spread over 32 trading systems.
Each figure is printed beside its target (issue 16) and, where one is published, the peer's:
Tessera's single-entry writes, ~1,500/s on a GCP e2-micro (2 shared vCPUs) — the machine class
this one is. Baselines run in the same process: one API process against two, and one transaction
per event on the same anvil node for gas.
"""
from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
from eth_account import Account

from lianzheng.chain_node.anvil import ANVIL_DEV_KEY, AnvilNode, funded_key_file
from lianzheng.chain_node.rpc import RpcChain
from lianzheng.notary.local import NotaryServer, PostgresCluster
from lianzheng.notary.local import run_cli as cli
from lianzheng.notary.local import sample_event as make_event
from lianzheng.sdk.cli.support import progress
from lianzheng.sdk.registry import RegistryReader
from scripts import bench_verify

BATCH = 1000
WRITERS = 256  # concurrent connections of the load generator
KEYS = 32  # trading systems they write for
TESSERA_E2_MICRO = 1_500  # Tessera's published single-entry writes/s on a GCP e2-micro


def figure(label: str, value: float, unit: str, target: float | None = None, *, lower_is_better: bool = False,
           peer: tuple[str, float] | None = None, baseline: tuple[str, float] | None = None) -> None:
    """One line: the figure, its target and how far from it, the peer's and a same-run baseline's."""
    def num(v: float) -> str:
        return f"{v:,.2f}" if abs(v) < 10 else f"{v:,.0f}"

    line = f"  {label}: {num(value)} {unit}"
    if target is not None:
        met = value <= target if lower_is_better else value >= target
        ratio = target / value if lower_is_better else value / target
        line += (f"   target {'≤' if lower_is_better else '≥'} {num(target)} {unit} ({ratio:.2f}× of target, "
                 f"{'met' if met else 'NOT met'})")
    if peer is not None:
        line += f"   peer {peer[0]} {num(peer[1])} {unit} ({value / peer[1]:.2f}×)"
    if baseline is not None:
        line += f"   baseline {baseline[0]} {num(baseline[1])} {unit} ({value / baseline[1]:.2f}×)"
    print(line, flush=True)


def _keys(data: Path, db_args: list[str], count: int = 1) -> list[str]:
    return [cli("keys", "add", "--name", f"bench{i}", "--data-dir", str(data), *db_args, check=True).stdout.strip()
            for i in range(count)]


def _post_all(url: str, key: str, bodies: list[bytes], threads: int = 2) -> float:
    """Send pre-encoded bodies from ``threads`` keep-alive clients; seconds until all acknowledged."""
    queue = list(reversed(bodies))
    lock = threading.Lock()
    errors: list[str] = []

    def worker() -> None:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                r = http.post("/v1/events", content=body)
                if r.status_code != 201:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return

    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    return time.perf_counter() - start


def batch_ingest(data: Path, extra: list[str], db_args: list[str], events: int) -> float:
    """Durable events/s through POST /v1/events, 1,000 per request, two clients."""
    key = _keys(data, db_args)[0]
    server = NotaryServer(data, *extra, *db_args).start(timeout=120)
    try:
        bodies = [orjson.dumps({"events": [make_event(b * BATCH + i) for i in range(BATCH)]})
                  for b in range(events // BATCH)]
        _post_all(server.url, key, bodies[:2])  # warm up
        seconds = _post_all(server.url, key, bodies[2:], threads=4)
        return (len(bodies) - 2) * BATCH / seconds
    finally:
        server.stop()


WRK_SCRIPT = """
local keys = {}
for line in io.lines("%(keys)s") do keys[#keys + 1] = line end
local counter = 0
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
end
function init(args)
  prefix = string.format("wrk-%%d-%%d-%%d-", tid, os.time(), math.floor(os.clock() * 1000000))
end
request = function()
  counter = counter + 1
  local body = '{"id":"' .. prefix .. counter .. '","type":"bid.submitted","region":"370000",' ..
    '"project":"SDGP-2026-0042","section":"S' .. (counter %% 64) .. '","occurred_at":"2026-11-23T09:30:00+08:00",' ..
    '"actor":"bidder-' .. counter .. '","payload":{"round":1,"note":"投标文件已递交"},' ..
    '"documents":[{"sha256":"' .. string.format("%%064x", counter) .. '","name":"bid.pdf"}]}'
  return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. keys[counter %% #keys + 1]}, body)
end
"""


def _seconds(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if found is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    value, unit = found.groups()
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]


def wrk_writes(url: str, keys: list[str], tmp: Path, seconds: int = 20) -> dict[str, float]:
    """Run wrk against POST /v1/events: requests/s, p99 latency (s), non-201 answers, timeouts."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is needed for the single-event figures: apt-get install wrk")
    keys_file, script = tmp / "keys.txt", tmp / "writes.lua"
    keys_file.write_text("\n".join(keys) + "\n")
    script.write_text(WRK_SCRIPT % {"keys": keys_file})
    out = subprocess.run([wrk, "-t2", f"-c{WRITERS}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    p99 = re.search(r"^\s+99%\s+([\d.]+(?:us|ms|s|m|h))\s*$", out, re.M)  # (not a thread stat's "75.99%")
    if p99 is None:
        raise RuntimeError(f"wrk's output has no 99th percentile latency: {out[-1500:]}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p99": _seconds(p99.group(1)),
            "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
            "timeouts": float(timeouts.group(1)) if timeouts else 0.0}


def anchored_latency(url: str, key: str, stop: threading.Event, out: list[float]) -> None:
    """While ``stop`` is not set: one event every 50 ms; the seconds from its submission to its
    anchored receipt (receipts polled every 20 ms)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    pending: dict[str, float] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        i, next_send = 0, time.perf_counter()
        while not stop.is_set() or pending:
            now = time.perf_counter()
            if not stop.is_set() and now >= next_send:
                event = make_event(9 * 10**8 + i, section="probe")
                i += 1
                if http.post("/v1/events", content=orjson.dumps(event)).status_code == 201:
                    pending[event["id"]] = now
                next_send = now + 0.05
            for event_id, sent in list(pending.items()):
                if http.get(f"/v1/receipts/{event_id}").json()["status"] == "anchored":
                    out.append(time.perf_counter() - sent)
                    del pending[event_id]
                elif time.perf_counter() - sent > 60:
                    raise RuntimeError(f"event {event_id} not anchored within 60 s")
            time.sleep(0.02)


def single_writes(tmp: Path, node: AnvilNode, workers: int) -> dict[str, float]:
    data = tmp / f"single-{workers}"
    keys = _keys(data, [], KEYS + 1)
    extra = ["--rpc", node.url, "--chain-key-file", str(funded_key_file(node.url, tmp / f"key-{workers}")),
             "--anchor-interval", "0.5", "--workers", str(workers)]
    server = NotaryServer(data, *extra).start(timeout=120)
    try:
        wrk_writes(server.url, keys[:KEYS], tmp, seconds=3)  # warm up
        stop, latencies = threading.Event(), []
        probe = threading.Thread(target=anchored_latency, args=(server.url, keys[KEYS], stop, latencies))
        probe.start()
        result = wrk_writes(server.url, keys[:KEYS], tmp)
        stop.set()
        probe.join(120)
        latencies.sort()
        result["anchored_p50"] = statistics.median(latencies)
        result["anchored_p99"] = latencies[max(0, int(len(latencies) * 0.99) - 1)]
        result["probes"] = len(latencies)
        return result
    finally:
        server.stop()


def server_registry(url: str) -> str:
    return httpx.get(url + "/healthz").json()["chain"]["registry"]


def anvil_gas(tmp: Path, events: int) -> None:
    with AnvilNode() as node:
        chain = RpcChain(node.url)
        dev = Account.from_key(ANVIL_DEV_KEY)
        data = tmp / "anvil-notary"
        key = _keys(data, [])[0]
        extra = ["--rpc", node.url, "--chain-key-file", str(funded_key_file(node.url, tmp / "anvil-key")),
                 "--anchor-every", str(events), "--anchor-interval", "3600"]
        server = NotaryServer(data, *extra).start()
        try:
            bodies = [orjson.dumps({"events": [make_event(b * BATCH + i) for i in range(BATCH)]})
                      for b in range(events // BATCH)]
            start = time.perf_counter()
            _post_all(server.url, key, bodies)
            with httpx.Client(base_url=server.url) as http:
                while http.get("/healthz").json()["anchored_size"] < events:
                    time.sleep(0.05)
            ours_s = time.perf_counter() - start
            reader = RegistryReader(node.url, server_registry(server.url))
            logs = reader.contract.logs("CheckpointAnchored")
            ours_gas = sum(chain.outcome(e.tx_hash).gas_used for e in logs)
        finally:
            server.stop()

        naive_address = chain.deploy(dev, "NaiveEvidence")
        naive = chain.contract("NaiveEvidence", naive_address)
        base_nonce = chain.nonce_of(dev.address)
        raw = ["0x" + chain.sign(dev, naive.tx("record", os.urandom(32)), gas=80_000, nonce=base_nonce + i).raw.hex()
               for i in range(events)]
        start = time.perf_counter()
        hashes = []
        with httpx.Client(timeout=60) as http, progress("one transaction per event", len(raw)) as update:
            for i in range(0, len(raw), 100):  # 100 per JSON-RPC batch, each batch mined before the next
                calls = [{"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction", "params": [r]}
                         for j, r in enumerate(raw[i:i + 100])]
                answers = http.post(node.url, json=calls).json()
                failed = [a["error"] for a in answers if "error" in a]
                if failed:
                    raise RuntimeError(f"anvil refused a transaction: {failed[0]}")
                hashes += [a["result"] for a in answers]
                chain.wait(hashes[-1], timeout=120)
                update(advance=len(calls))
        naive_s = time.perf_counter() - start
        sample = [chain.outcome(h).gas_used for h in hashes[:: max(1, events // 200)]]
        naive_gas = statistics.mean(sample) * events
    per_event_ours = ours_gas / events
    per_event_naive = naive_gas / events
    print(f"  anvil, {events:,} events, ours: {len(logs)} anchor tx, {ours_gas:,.0f} gas in all, "
          f"{per_event_ours:,.1f} gas/event, {ours_s:.1f} s submit→anchored")
    print(f"  anvil, {events:,} events, one tx per event (NaiveEvidence): {naive_gas:,.0f} gas in all, "
          f"{per_event_naive:,.0f} gas/event, {naive_s:.1f} s (pre-signed, batched JSON-RPC)")
    print(f"  ratio: {per_event_naive / per_event_ours:,.0f}× less gas per event (target ≥ 1,000× at 10,000 "
          f"events per anchor); {naive_s / ours_s:,.1f}× less time")


def run(events: int = 100_000, anvil_events: int = 10_000) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lz-bench-"))
    print(f"lianzheng bench ingest — {os.cpu_count()} cores, load generator on the same machine")
    print("verification (pure Python, SDK):")
    figure("inclusion proofs verified (tree of 1M)", bench_verify.proofs_per_second(), "proofs/s", 60_000)
    figure("receipts verified in one batch (verify_many, one checkpoint)", bench_verify.batch_receipts_per_second(),
           "receipts/s")
    with AnvilNode() as node:
        print(f"single-event writes ({WRITERS} concurrent writers, wrk; anvil chain, SQLite):")
        one = single_writes(tmp, node, workers=1)
        two = single_writes(tmp, node, workers=2)
        for label, r in (("1 API process", one), ("2 API processes", two)):
            figure(f"durable single-event writes, {label}", r["rate"], "events/s", 3_000,
                   peer=("Tessera e2-micro", TESSERA_E2_MICRO),
                   baseline=("1 API process", one["rate"]) if r is two else None)
            figure(f"  p99 request latency, {label}", r["p99"] * 1000, "ms", 100, lower_is_better=True)
            figure(f"  p99 submit → anchored at that load, {label} ({r['probes']:.0f} probes, "
                   f"p50 {r['anchored_p50']:.2f} s)", r["anchored_p99"], "s", 2, lower_is_better=True)
            print(f"    answers other than 201: {r['non2xx']:.0f}; timeouts (2 s): {r['timeouts']:.0f}")
        print(f"batched writes through HTTP ({BATCH} events per request, 4 clients):")
        embedded = batch_ingest(tmp / "batch-embedded", ["--anchor-interval", "1"], [], events)
        figure("SQLite, embedded chain, 1 process", embedded, "events/s", 20_000)
        chain = ["--rpc", node.url, "--anchor-interval", "1", "--workers", "2"]
        sqlite = batch_ingest(tmp / "batch-sqlite", [*chain, "--chain-key-file",
                                                     str(funded_key_file(node.url, tmp / "key-b1"))], [], events)
        figure("SQLite, anvil, 2 API processes", sqlite, "events/s", 20_000,
               baseline=("1 process, embedded", embedded))
        cluster = PostgresCluster()
        try:
            url = cluster.create_database("bench")
            pg = batch_ingest(tmp / "batch-pg", [*chain, "--chain-key-file",
                                                 str(funded_key_file(node.url, tmp / "key-b2"))],
                              ["--database-url", url], events)
            figure("PostgreSQL, anvil, 2 API processes", pg, "events/s", 10_000, baseline=("SQLite", sqlite))
        finally:
            cluster.stop()
    print("gas:")
    anvil_gas(tmp, anvil_events)
