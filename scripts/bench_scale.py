"""``scripts/bench scale [--leaves N]``: start time and memory of a notary whose log is large.

A log of N leaves (default 10,000,000) is written straight into a notary's SQLite store (entries
with their digests, and the tiles a notary would have written with them: built by the same
``notary.tiles`` code, the one-time migration path of a log stored before tiles), then:
- the log opens (``NotaryLog``) in a fresh process: seconds and resident memory (target < 2 s,
  < 300 MB);
- ``lianzheng serve`` starts on it (the second start: keys and contracts exist) to its first
  /healthz answer, and its resident memory once serving;
- inclusion proofs and tiles are read from it (cold tile cache), per second, and proofs served.
The tree held in memory before tiles cost ~64 B per leaf: printed beside, as the baseline.
"""
from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from lianzheng.notary.local import NotaryServer
from lianzheng.notary.tiles import backfill
from lianzheng.sdk.cli.support import progress
from lianzheng.sdk.merkle import SHA256
from scripts.bench_ingest import figure

CHUNK = 200_000

OPEN = """
import sys, time
t = time.perf_counter()
from lianzheng.notary.services.log import NotaryLog
from lianzheng.notary.store import SqlStore
from lianzheng.sdk.merkle import SHA256
imported = time.perf_counter()
log = NotaryLog(SqlStore(sys.argv[1]), SHA256, "370000", "lianzheng.notary/370000")
opened = time.perf_counter()
root = log.root(len(log))
import random
rng, n = random.Random(5), len(log)
t = time.perf_counter()
for _ in range(500):
    log.inclusion_proof(rng.randrange(n), n)
proofs = 500 / (time.perf_counter() - t)
t = time.perf_counter()
for _ in range(500):
    log.tree.tile(0, rng.randrange(n // 256))
tiles = 500 / (time.perf_counter() - t)
peak = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(len(log), opened - imported, peak, root.hex(), proofs, tiles)
"""


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def build(data: Path, leaves: int) -> tuple[float, float]:
    """A notary data dir whose store holds ``leaves`` entries: seconds it took, and seconds the
    server took to start on it while its log was empty (the baseline)."""
    started = time.perf_counter()
    NotaryServer(data).start(timeout=120).stop()  # keys, chain, contracts, the schema
    t = time.perf_counter()
    NotaryServer(data).start(timeout=120).stop()
    empty_start = time.perf_counter() - t
    db = sqlite3.connect(data / "notary.db")
    db.execute("PRAGMA synchronous=OFF")
    rng = random.Random(7)
    digests: list[bytes] = []

    def rows():
        for start in range(0, leaves, CHUNK):
            batch = [rng.randbytes(32) for _ in range(min(CHUNK, leaves - start))]
            digests.extend(batch)
            yield [(start + i, f"scale-{start + i}", d, '{"scale":true}', "bench", 0.0, "SCALE",
                    f"S{(start + i) % 1000}")
                   for i, d in enumerate(batch)]

    with progress("writing entries", leaves) as update:
        for chunk in rows():
            db.executemany("INSERT INTO entries (idx, event_id, digest, event_json, writer, received_at, project, "
                           "section) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", chunk)
            db.commit()
            update(advance=len(chunk))

    def store(tiles: dict) -> None:
        db.executemany("INSERT OR REPLACE INTO tiles (level, idx, data) VALUES (?, ?, ?)",
                       [(level, index, data) for (level, index), data in tiles.items()])
        db.commit()

    t = time.perf_counter()
    backfill(SHA256, iter(digests), store)
    digests.clear()
    print(f"  tiles built for {leaves:,} leaves in {time.perf_counter() - t:.1f} s (once: a log stored before tiles)")
    db.close()
    return time.perf_counter() - started, empty_start


def run(leaves: int = 10_000_000) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lz-scale-"))
    data = tmp / "data"
    print(f"lianzheng bench scale — a log of {leaves:,} leaves, {os.cpu_count()} cores")
    seconds, empty_start = build(data, leaves)
    size_mb = (data / "notary.db").stat().st_size / 2**20
    print(f"  store built in {seconds:.0f} s ({size_mb:,.0f} MiB of SQLite)")
    url = f"sqlite:///{data / 'notary.db'}"
    out = subprocess.run([sys.executable, "-c", OPEN, url], capture_output=True, text=True, check=True).stdout.split()
    size, opened, peak = int(out[0]), float(out[1]), int(out[2])
    proofs, tiles = float(out[4]), float(out[5])
    assert size == leaves, (size, leaves)
    figure(f"log of {leaves:,} opened (tree from tiles: right edge only)", opened, "s", 2, lower_is_better=True)
    figure("  peak memory of that process (VmHWM; Python and libraries included)", peak / 2**20, "MB", 300,
           lower_is_better=True, baseline=("tree in RAM, 64 B per leaf", leaves * 64 / 2**20))
    figure("  inclusion proofs from the stored tiles, random leaves, cold cache (in process)", proofs, "proofs/s")
    figure("  level-0 tiles read from the store, random (in process)", tiles, "tiles/s")

    server = NotaryServer(data)
    t = time.perf_counter()
    server.start(timeout=300)
    started = time.perf_counter() - t
    try:
        figure("lianzheng serve to its first /healthz answer (embedded chain)", started, "s", 2, lower_is_better=True,
               baseline=("the same server on an empty log", empty_start))
        figure("  server memory once serving", _rss(server.process.pid) / 2**20, "MB", 300, lower_is_better=True)
        with httpx.Client(base_url=server.url, timeout=30) as http:
            assert http.get("/healthz").json()["tree_size"] == leaves
            rng = random.Random(3)
            t, n = time.perf_counter(), 300
            for _ in range(n):
                r = http.get("/v1/proofs/inclusion", params={"index": rng.randrange(leaves), "size": leaves})
                r.raise_for_status()
            figure("  inclusion proofs over HTTP, one client, random leaves", n / (time.perf_counter() - t),
                   "proofs/s")
            # (Tiles are served up to the latest anchored checkpoint; this store holds no anchors.)
    finally:
        server.stop()
