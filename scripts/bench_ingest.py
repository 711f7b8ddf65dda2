"""``scripts/bench ingest``: throughput, latency, proof verification and gas, measured here.

Every figure comes from real parts started by this script: a notary server process
(embedded chain or anvil; SQLite or PostgreSQL), an anvil node, a PostgreSQL cluster.
The baseline (one transaction per event, as simple evidence contracts do it) runs on the
same anvil node in the same run, and the ratio is printed beside it.
"""
from __future__ import annotations

import os
import random
import statistics
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
from lianzheng.sdk.merkle import SHA256, MerkleTree, verify_inclusion
from lianzheng.sdk.registry import RegistryReader

BATCH = 1000


def _key(data: Path, db_args: list[str]) -> str:
    return cli("keys", "add", "--name", "bench", "--data-dir", str(data), *db_args, check=True).stdout.strip()


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


def batch_ingest(data: Path, extra: list[str], db_args: list[str], events: int, label: str) -> float:
    key = _key(data, db_args)
    server = NotaryServer(data, *extra, *db_args).start()
    try:
        bodies = [orjson.dumps({"events": [make_event(b * BATCH + i) for i in range(BATCH)]})
                  for b in range(events // BATCH)]
        _post_all(server.url, key, bodies[:2])  # warm up
        seconds = _post_all(server.url, key, bodies[2:])
        rate = (len(bodies) - 2) * BATCH / seconds
        print(f"  {label}: {rate:,.0f} durable events/s through POST /v1/events "
              f"({BATCH} per request, {(len(bodies) - 2) * BATCH:,} events in {seconds:.1f} s)")
        return rate
    finally:
        server.stop()


def single_and_latency(data: Path) -> None:
    key = _key(data, [])
    server = NotaryServer(data, "--anchor-interval", "1").start()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        bodies = [orjson.dumps(make_event(10**6 + i)) for i in range(3000)]
        rate = len(bodies) / _post_all(server.url, key, bodies, threads=4)
        print(f"  single-event requests: {rate:,.0f} requests/s (4 keep-alive clients)")

        submitted: dict[str, float] = {}
        anchored: dict[str, float] = {}
        done = threading.Event()

        def poll() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                while not done.is_set() or len(anchored) < len(submitted):
                    for event_id in [e for e in list(submitted) if e not in anchored]:
                        if http.get(f"/v1/receipts/{event_id}").json()["status"] == "anchored":
                            anchored[event_id] = time.perf_counter()
                    time.sleep(0.02)

        poller = threading.Thread(target=poll)
        poller.start()
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
            for i in range(300):  # 30 events/s for 10 s
                event = make_event(2 * 10**6 + i)
                t = time.perf_counter()
                http.post("/v1/events", content=orjson.dumps(event)).raise_for_status()
                submitted[event["id"]] = t
                time.sleep(max(0.0, 1 / 30 - (time.perf_counter() - t)))
        done.set()
        poller.join(60)
        latencies = sorted(anchored[e] - submitted[e] for e in anchored)
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"  submit → anchored receipt: p50 {p50:.2f} s, p99 {p99:.2f} s over {len(latencies)} events "
              f"(--anchor-interval 1, polled every 20 ms; target p99 ≤ 2 s)")
        reader = RegistryReader(server.rpc, server_registry(server.url))
        gas = [int(reader.chain.receipt(e.tx_hash)["gasUsed"], 16) for e in reader.contract.logs("CheckpointAnchored")]
        print(f"  gas per anchor (embedded EVM): median {statistics.median(gas):,.0f} over {len(gas)} anchors")
    finally:
        server.stop()


def server_registry(url: str) -> str:
    return httpx.get(url + "/healthz").json()["chain"]["registry"]


def proofs_per_second() -> None:
    tree = MerkleTree()
    rng = random.Random(1)
    size = 1_000_000
    tree.extend_leaf_hashes([SHA256.hash_leaf(rng.randbytes(32)) for _ in range(size)])
    root = tree.root()
    cases = [(i, tree.leaf_hash(i), tree.inclusion_proof(i)) for i in rng.sample(range(size), 20_000)]
    start = time.perf_counter()
    for index, leaf, proof in cases:
        verify_inclusion(SHA256, index, size, leaf, proof, root)
    rate = len(cases) / (time.perf_counter() - start)
    print(f"  inclusion proofs verified: {rate:,.0f}/s (tree of {size:,}, {len(cases[0][2])} hashes per proof; "
          f"target ≥ 50,000/s)")


def anvil_gas(tmp: Path, events: int) -> None:
    with AnvilNode() as node:
        chain = RpcChain(node.url)
        dev = Account.from_key(ANVIL_DEV_KEY)
        data = tmp / "anvil-notary"
        key = _key(data, [])
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
        with httpx.Client(timeout=60) as http:
            for i in range(0, len(raw), 100):  # 100 per JSON-RPC batch, each batch mined before the next
                calls = [{"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction", "params": [r]}
                         for j, r in enumerate(raw[i:i + 100])]
                answers = http.post(node.url, json=calls).json()
                failed = [a["error"] for a in answers if "error" in a]
                if failed:
                    raise RuntimeError(f"anvil refused a transaction: {failed[0]}")
                hashes += [a["result"] for a in answers]
                chain.wait(hashes[-1], timeout=120)
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
    print(f"lianzheng bench ingest — {os.cpu_count()} cores, events {events:,}")
    print("verification (pure Python, SDK):")
    proofs_per_second()
    print("throughput (server and client on this machine):")
    batch_ingest(tmp / "sqlite", ["--anchor-interval", "1"], [], events, "SQLite, embedded chain")
    cluster = PostgresCluster()
    try:
        url = cluster.create_database("bench")
        batch_ingest(tmp / "pg", ["--anchor-interval", "1"], ["--database-url", url], events,
                     "PostgreSQL, embedded chain")
    finally:
        cluster.stop()
    single_and_latency(tmp / "single")
    print("gas:")
    anvil_gas(tmp, anvil_events)
