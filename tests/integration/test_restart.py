"""Restarts of a real server process: clean stop, and kill -9 while events and anchors flow.

No acknowledged event is lost, no tree size is anchored twice, pending receipts get
anchored after the restart, and receipts from before still verify.
"""
from __future__ import annotations

import random
import threading
import time

import httpx
import pytest

from lianzheng.chain_node.anvil import funded_key_file
from lianzheng.sdk.client import NotaryClient
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import NotaryServer, cli, make_event


def _anchor_sizes(rpc: str, registry: str) -> list[int]:
    reader = RegistryReader(rpc, registry)
    logs = reader.contract.logs("CheckpointAnchored")
    return [e.args["treeSize"] for e in logs]


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def setup(request, tmp_path):
    data = tmp_path / "data"
    args = ["--anchor-interval", "0.2"]
    rpc = None
    if request.param == "anvil":
        from lianzheng.chain_node.anvil import AnvilNode

        node = AnvilNode()  # a chain of its own: the test counts every anchor on it
        request.addfinalizer(node.stop)
        rpc = node.url
        args += ["--rpc", node.url, "--chain-key-file", str(funded_key_file(node.url, tmp_path / "k" / "key"))]
    key = cli("keys", "add", "--name", "ts", "--data-dir", str(data), check=True).stdout.strip()
    return data, args, key, rpc


def test_clean_restart_keeps_every_receipt_verifiable(setup):
    data, args, key, rpc = setup
    server = NotaryServer(data, *args).start()
    with NotaryClient(server.url, key) as client:
        client.notarize_batch([make_event(i) for i in range(20)])
        before = client.wait_anchored("evt-19", timeout=20)
    server.stop()

    server = NotaryServer(data, *args, port=server.port).start()
    try:
        chain_rpc = rpc or server.rpc
        verifier = Verifier(RegistryReader(chain_rpc, before.anchor.registry))
        assert verifier.verify(before, event=make_event(19)).index == 19
        with NotaryClient(server.url, key) as client:
            assert client.receipt("evt-19").model_dump() == before.model_dump()
            client.notarize_batch([make_event(i) for i in range(20, 30)])
            after = client.wait_anchored("evt-29", timeout=20)
            assert after.index == 29
        verifier.verify(after, event=make_event(29))
        sizes = _anchor_sizes(chain_rpc, before.anchor.registry)
        assert sizes == sorted(set(sizes)) and sizes[-1] == 30
    finally:
        server.stop()


def test_kill_9_during_traffic_loses_nothing_and_anchors_each_size_once(setup):
    data, args, key, rpc = setup
    acknowledged: dict[str, int] = {}
    rng = random.Random(9)
    counter = iter(range(10**6))
    server = NotaryServer(data, *args).start()
    for round_ in range(3):
        stop = threading.Event()

        def traffic():
            with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=5) as http:
                while not stop.is_set():
                    batch = [make_event(next(counter)) for _ in range(rng.randrange(1, 30))]
                    try:
                        r = http.post("/v1/events", json={"events": batch})
                    except httpx.HTTPError:
                        return
                    if r.status_code in (200, 201):
                        for receipt in r.json()["receipts"]:
                            acknowledged[receipt["event_id"]] = receipt["index"]

        writer = threading.Thread(target=traffic)
        writer.start()
        time.sleep(0.6 + rng.random())  # several anchors happen meanwhile
        server.kill9()
        stop.set()
        writer.join()
        server = NotaryServer(data, *args, port=server.port).start()
    try:
        assert len(acknowledged) > 50
        with NotaryClient(server.url, key) as client:
            size = client.health()["tree_size"]
            assert size >= len(acknowledged)
            for event_id, index in rng.sample(sorted(acknowledged.items()), 40):
                assert client.receipt(event_id).index == index
            last = max(acknowledged, key=acknowledged.get)
            receipt = client.wait_anchored(last, timeout=20)
            chain_rpc = rpc or server.rpc
            sizes = _anchor_sizes(chain_rpc, receipt.anchor.registry)
            assert sizes == sorted(set(sizes)), f"a size was anchored twice or out of order: {sizes}"
            Verifier(RegistryReader(chain_rpc, receipt.anchor.registry)).verify(receipt)
            entries = client._request("GET", "/v1/entries", params={"start": 0, "end": min(size, 1000)})["entries"]
            assert [e["index"] for e in entries] == list(range(min(size, 1000)))
    finally:
        server.stop()
