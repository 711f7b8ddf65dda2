"""Two notary processes on one PostgreSQL log (as on two machines): the sequencer is killed under
load; the other takes over. Nothing acknowledged is lost, no tree size is anchored twice, no fork."""
from __future__ import annotations

import shutil
import threading
import time

import httpx
import pytest

from lianzheng.chain_node.anvil import AnvilNode, funded_key_file
from lianzheng.sdk.merkle import SHA256, MerkleTree
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import NotaryServer, cli, make_event

pytestmark = pytest.mark.anvil


def _health(server: NotaryServer) -> dict:
    return httpx.get(server.url + "/healthz", timeout=5).json()


def _wait(what, predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_killing_the_sequencer_under_load_loses_nothing_and_anchors_each_size_once(tmp_path, postgres):
    url = postgres.create_database("failover")
    db = ["--database-url", url]
    with AnvilNode() as node:
        key_file = funded_key_file(node.url, tmp_path / "chain.key")
        common = ["--rpc", node.url, "--chain-key-file", str(key_file), "--anchor-interval", "0.3", *db]
        first_dir = tmp_path / "machine-a" / "data"
        first_dir.parent.mkdir()
        writer = cli("keys", "add", "--name", "ts", "--data-dir", str(first_dir), *db, check=True).stdout.strip()
        first = NotaryServer(first_dir, *common).start()
        second_dir = tmp_path / "machine-b" / "data"
        shutil.copytree(first_dir / "keys", second_dir / "keys")  # the region's keys, as provisioned to B
        second = NotaryServer(second_dir, *common).start()
        try:
            assert _health(first)["sequencer"] is True and _health(second)["sequencer"] is False

            acked: dict[str, int] = {}
            failed_on_b: list[str] = []
            stop = threading.Event()
            lock = threading.Lock()

            def write(k: int) -> None:
                servers = [first, second]
                headers = {"Authorization": f"Bearer {writer}"}
                i = 0
                with httpx.Client(headers=headers, timeout=10) as http:
                    while not stop.is_set():
                        server = servers[(k + i) % 2]
                        event = make_event(1_000_000 * k + i, section=f"S{i % 5}")
                        try:
                            r = http.post(server.url + "/v1/events", json=event)
                        except httpx.HTTPError:  # the killed process: not acknowledged
                            r = None
                        if r is not None and r.status_code == 201:
                            with lock:
                                acked[event["id"]] = r.json()["index"]
                        elif server is second:
                            failed_on_b.append(f"{r.status_code if r is not None else 'no answer'}")
                        i += 1

            threads = [threading.Thread(target=write, args=(k,)) for k in range(8)]
            for t in threads:
                t.start()
            _wait("load on both", lambda: len(acked) >= 300)
            first.kill9()  # the sequencer dies mid-load, maybe holding the write lock or an open anchor
            killed_at = len(acked)
            _wait("the standby to take over", lambda: _health(second)["sequencer"] is True, timeout=30)
            _wait("writes after the takeover", lambda: len(acked) >= killed_at + 300)
            stop.set()
            for t in threads:
                t.join()
            assert not failed_on_b, f"the survivor refused writes: {failed_on_b[:5]}"

            _wait("everything anchored", lambda: (h := _health(second))["anchored_size"] == h["tree_size"])
            size = _health(second)["tree_size"]
            with httpx.Client(base_url=second.url, timeout=30) as http:
                rows = []
                for start in range(0, size, 5000):
                    rows += http.get("/v1/entries", params={"start": start, "end": start + 5000}).json()["entries"]
            assert [r["index"] for r in rows] == list(range(size))  # dense: no index given twice
            logged = {r["event_id"]: r["index"] for r in rows}
            lost = {e: i for e, i in acked.items() if logged.get(e) != i}
            assert not lost, f"acknowledged but not in the log at their index: {list(lost)[:5]}"

            tree = MerkleTree(SHA256)
            tree.extend_leaf_hashes([SHA256.hash_leaf(bytes.fromhex(r["event_digest"])) for r in rows])
            registry = RegistryReader(node.url, _health(second)["chain"]["registry"])
            anchored = [(e.args["treeSize"], bytes(e.args["root"]))
                        for e in registry.contract.logs("CheckpointAnchored")]
            sizes = [s for s, _ in anchored]
            assert sizes == sorted(set(sizes)), f"a size anchored twice or out of order: {sizes}"
            assert sizes[-1] == size
            for anchored_size, root in anchored:  # every anchored root is a prefix of this one log
                assert tree.root(anchored_size) == root, f"fork at size {anchored_size}"

            verifier = Verifier(registry)
            with httpx.Client(base_url=second.url, timeout=30) as http:
                for event_id in list(acked)[:: max(1, len(acked) // 20)]:
                    verified = verifier.verify(http.get(f"/v1/receipts/{event_id}").json())
                    assert verified.index == acked[event_id]
        finally:
            second.stop()
            if first.process and first.process.poll() is None:
                first.stop()


def test_processes_sharing_the_account_take_turns_with_nonces(tmp_path):
    """Two processes' chains (here two Chain objects with their own nonce state, as two notaries
    would have) send for one account at once: with the store's lock between them, no nonce collides."""
    from lianzheng.chain_node.accounts import load_or_create_account
    from lianzheng.chain_node.rpc import RpcChain
    from lianzheng.notary.store import SqlStore

    with AnvilNode() as node:
        account = load_or_create_account(funded_key_file(node.url, tmp_path / "k"))
        stores = [SqlStore(f"sqlite:///{tmp_path / 'shared.db'}") for _ in range(2)]
        chains = [RpcChain(node.url) for _ in range(2)]
        for chain, store in zip(chains, stores):
            chain.share_senders(lambda store=store: store.process_lock("sender"))
        errors: list[Exception] = []

        def send(chain) -> None:
            try:
                for _ in range(12):
                    assert chain.transfer(account, "0x000000000000000000000000000000000000dEaD", 1).status == 1
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=send, args=(c,)) for c in chains for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        assert chains[0].nonce_of(account.address) == 48
        for store in stores:
            store.close()
