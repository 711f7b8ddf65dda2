"""``scripts/bench alliance``: mirror sync speed and relay latency, on three anvil chains.

- Mirror: a Shandong notary (anvil) holds N events; a mirror copies and verifies them all over
  HTTP (verified entries/s; target >= 50,000/s), each time into an empty mirror: first over the
  JSON API (``/v1/entries`` pages), then from the notary's tlog-tiles (level-0 tiles and entry
  bundles, the mirror's default). Baseline in the same run: the time to rebuild
  the same tree from the same digests with no I/O, to show what HTTP and SQLite cost.
- Relay: after an event is anchored on Shandong's chain, two members' relayers (polling every
  0.2 s) attest it on Gansu's chain; latency = wall time from the anchor being visible (a
  client polling every 20 ms) to the checkpoint being accepted on Gansu, over several rounds.
"""
from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from eth_account import Account

from lianzheng.alliance.mirror import Mirror
from lianzheng.alliance.relay_contract import AllianceRelay, ForeignCheckpoint
from lianzheng.alliance.relayer import Relayer, Source
from lianzheng.chain_node.anvil import ANVIL_DEV_KEY, AnvilNode, funded_key_file
from lianzheng.chain_node.rpc import RpcChain
from lianzheng.notary.local import NotaryServer
from lianzheng.notary.local import run_cli as cli
from lianzheng.notary.local import sample_event as make_event
from lianzheng.sdk.cli.support import progress
from lianzheng.sdk.client import NotaryClient
from lianzheng.sdk.merkle import SHA256, MerkleTree


def run(events: int = 200_000, rounds: int = 8) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lz-bench-alliance-"))
    nodes = {name: AnvilNode(chain_id=cid) for name, cid in (("shandong", 3700), ("gansu", 6200),
                                                             ("neimenggu", 1500))}
    server = None
    try:
        server = NotaryServer(tmp / "sd", "--rpc", nodes["shandong"].url, "--anchor-interval", "0.5",
                              "--chain-key-file", str(funded_key_file(nodes["shandong"].url, tmp / "sd.key"))).start()
        key = cli("keys", "add", "--name", "bench", "--data-dir", str(tmp / "sd"), check=True).stdout.strip()
        client = NotaryClient(server.url, key)
        print(f"lianzheng bench alliance — {events:,} events on Shandong's notary (anvil), mirrored over HTTP")
        t0 = time.perf_counter()
        with progress("notarizing", events) as update:
            def counted():
                for i in range(events):
                    if i % 1000 == 999:
                        update(completed=i + 1)
                    yield make_event(i)

            receipts = client.notarize_batch(counted(), batch_size=1000)
        client.wait_anchored(receipts[-1].event_id, timeout=120)
        print(f"  loaded in {time.perf_counter() - t0:.1f} s")
        registry = client.health()["chain"]["registry"]

        rates = {}
        for via in ("json", "tiles"):  # the same log, mirrored twice from scratch: over each source
            mirror = Mirror(tmp / f"mirror-{via}", server.url, nodes["shandong"].url, registry)
            with progress(f"mirroring over {via}", events) as update:
                result = mirror.sync(source=via, progress=lambda n: update(advance=n))
            assert result.source == via and result.copied == events
            rates[via] = (result, result.copied / result.seconds)
            if via == "tiles":
                digests = [d for (d,) in mirror.db.execute("SELECT digest FROM entries ORDER BY idx")]
            mirror.close()
        t0 = time.perf_counter()
        tree = MerkleTree(SHA256)
        for d in digests:
            tree.append_leaf_hash(SHA256.hash_leaf(d))
        baseline = len(digests) / (time.perf_counter() - t0)
        assert tree.root() == rates["json"][0].root == rates["tiles"][0].root
        (tiles, rate), (json_api, json_rate) = rates["tiles"], rates["json"]
        print(f"  mirror: {tiles.copied:,} entries verified from tiles in {tiles.seconds:.2f} s = {rate:,.0f} "
              f"entries/s, over the JSON API in {json_api.seconds:.2f} s = {json_rate:,.0f} entries/s (target "
              f"50,000; tiles {rate / json_rate:.2f}x the JSON API); tree rebuild alone {baseline:,.0f}/s -> "
              f"tiles at {rate / baseline:.2f}x of it")

        dev = Account.from_key(ANVIL_DEV_KEY)
        gansu = RpcChain(nodes["gansu"].url)
        members = [Account.create() for _ in range(3)]
        for m in members:
            gansu.transfer(dev, m.address, 10**21)
        relay = AllianceRelay.deploy(gansu, members[0], [m.address for m in members], 2)
        source = Source("shandong", nodes["shandong"].url, registry, 370000, server.url)
        relayers = [Relayer(m, [source], [relay], tmp / f"relayer-{i}.json") for i, m in enumerate(members[1:])]
        for r in relayers:  # catch up with the anchors of the load phase first
            r.poll()
        stop = threading.Event()

        def follow(r: Relayer) -> None:
            while not stop.is_set():
                r.poll()
                time.sleep(0.2)

        threads = [threading.Thread(target=follow, args=(r,), daemon=True) for r in relayers]
        for t in threads:
            t.start()
        latencies = []
        with progress("relay rounds", rounds) as update:
            for i in range(rounds):
                receipt = client.wait_anchored(client.notarize(make_event(events + i)).event_id, timeout=60, poll=0.02)
                anchored = time.monotonic()
                checkpoint = ForeignCheckpoint(3700, registry, 370000, receipt.anchor.tree_size, b"\x00" * 32)
                while relay.accepted_root(checkpoint) is None and time.monotonic() < anchored + 60:
                    time.sleep(0.02)
                latencies.append(time.monotonic() - anchored)
                update(advance=1)
        stop.set()
        print(f"  relay latency anchor on Shandong -> accepted on Gansu (k = 2 of 3, relayers polling every 0.2 s): "
              f"median {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s over {rounds} rounds")
    finally:
        if server:
            server.stop()
        for node in nodes.values():
            node.stop()
