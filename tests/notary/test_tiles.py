"""The tree kept as C2SP tlog-tiles: the same roots and proofs as the in-memory tree, only the right
edge in memory, tiles served at their C2SP paths, and several logs (processes) on one store."""
from __future__ import annotations

import base64
import random
import threading

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianzheng.notary.services.log import NotaryLog
from lianzheng.notary.store import SqlStore
from lianzheng.notary.tiles import ENTRIES, WIDTH, TileTree, backfill, parse_tile_index, tile_path
from lianzheng.sdk.merkle import SHA256, MerkleTree, hasher
from tests.helpers import NotaryServer, cli, make_event


def _grow(tree: TileTree, tiles: dict, entries: list[bytes]) -> None:
    growth = tree.extend(entries)
    tiles.update(growth.tiles)
    tree.apply(growth)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=12), st.integers(0, 2**32))
def test_tile_tree_answers_as_the_in_memory_tree(batches, seed):
    # The leaves come from a seeded generator, not from Hypothesis' entropy (32 bytes each, thousands
    # of them, exceeded its data budget: a failed health check under load).
    rng = random.Random(seed)
    tiles: dict = {}
    tree, reference = TileTree(SHA256, 0, lambda level, index: tiles.get((level, index))), MerkleTree()
    data: list[bytes] = []
    for n in batches:
        entries = [rng.randbytes(32) for _ in range(n)]
        _grow(tree, tiles, entries)
        reference.extend_leaf_hashes([SHA256.hash_leaf(d) for d in entries])
        data += entries
    reopened = TileTree(SHA256, len(tree), lambda level, index: tiles.get((level, index)))
    size = len(reference)
    for candidate in (tree, reopened):
        for _ in range(10):
            s = rng.randint(1, size)
            i, s1 = rng.randrange(s), rng.randint(1, s)
            assert candidate.root(s) == reference.root(s)
            assert candidate.inclusion_proof(i, s) == reference.inclusion_proof(i, s)
            assert candidate.consistency_proof(s1, s) == reference.consistency_proof(s1, s)
    # Tiles are the level-8k hashes, full or partial; bundles the entries' data after their length.
    for (level, index), stored in tiles.items():
        if level == ENTRIES:
            assert stored == b"".join(b"\x00\x20" + d for d in data[index * WIDTH:(index + 1) * WIDTH])
            continue
        assert len(stored) % 32 == 0 and 0 < len(stored) <= WIDTH * 32
        assert stored[:32] == reference._node(8 * level, index * WIDTH)
    for candidate in (tree, reopened):
        last = (size - 1) // WIDTH
        assert candidate.bundle(last, size - last * WIDTH) == b"".join(b"\x00\x20" + d for d in data[last * WIDTH:])


def test_only_the_right_edge_is_read_on_start():
    tiles: dict = {}
    reads: list = []
    tree = TileTree(SHA256, 0, lambda level, index: tiles.get((level, index)))
    _grow(tree, tiles, [i.to_bytes(32, "big") for i in range(70_000)])

    def read(level, index):
        reads.append((level, index))
        return tiles.get((level, index))

    reopened = TileTree(SHA256, 70_000, read)
    # 70,000 = 1·65,536 + 17·256 + 112: one partial tile per level and the partial bundle, nothing else.
    assert sorted(reads) == [(ENTRIES, 273), (0, 273), (1, 1), (2, 0)]
    assert [len(e) // 32 for e in reopened._state[1]] == [112, 17, 1]
    with pytest.raises(IndexError):
        reopened.leaf_hash(70_000)


def test_tile_paths_follow_c2sp():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path("entries", 5, 7) == "tile/entries/005.p/7"
    assert parse_tile_index("x001/x234/067.p/9") == (1234067, 9)
    for bad in ("1234067", "x1/067", "067.p/256", "067.p/0", "067.p/007", "x000/067", "06", "../067", "-01"):
        with pytest.raises(ValueError):
            parse_tile_index(bad)


def test_a_store_written_before_tiles_gets_them_once(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'old.db'}")
    rng = random.Random(5)
    digests = [rng.randbytes(32) for _ in range(1000)]
    store.append([{"idx": i, "event_id": f"e{i}", "digest": d, "event_json": "{}", "writer": "w", "received_at": 0.0,
                   "project": "p", "section": None} for i, d in enumerate(digests)], [])
    log = NotaryLog(store, SHA256, "370000", "o")
    reference = MerkleTree()
    reference.extend_leaf_hashes([SHA256.hash_leaf(d) for d in digests])
    assert len(log) == 1000 and log.root(1000) == reference.root() and log.root(999) == reference.root(999)
    assert store.tile(0, 3) is not None and len(store.tile(0, 3)) == (1000 - 768) * 32
    store.close()


def test_backfill_matches_growing_in_one_go():
    rng = random.Random(9)
    digests = [rng.randbytes(32) for _ in range(5000)]
    chunked: dict = {}
    assert backfill(SHA256, digests, chunked.update, chunk=333) == 5000
    whole: dict = {}
    _grow(TileTree(SHA256, 0, lambda *a: None), whole, digests)
    assert chunked == whole


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_processes_append_to_one_store_without_a_fork(tmp_path, request, db):
    """Two logs on one database (as two notary processes): each takes the other's appends, no index
    is given twice, each section's chain of ``prev`` links stays whole, and both answer the same tree;
    a retry through the other process gets the first answer, a reused id is refused."""
    url = (f"sqlite:///{tmp_path / 'shared.db'}" if db == "sqlite"
           else request.getfixturevalue("postgres").create_database(f"shared{abs(hash(tmp_path)) % 10**6}"))
    logs = [NotaryLog(SqlStore(url), SHA256, "370000", "o") for _ in range(2)]
    errors: list[Exception] = []

    def write(k: int) -> None:
        try:
            for b in range(40):
                logs[k].submit([make_event(100_000 * k + 10 * b + i, section="s1") for i in range(10)], "ts")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    store = logs[0].store
    assert store.size() == 800
    rows = store.entry_rows(0, 800)
    assert [r[0] for r in rows] == list(range(800))
    reference = MerkleTree()
    reference.extend_leaf_hashes([SHA256.hash_leaf(d) for _, _, d in rows])
    for log in logs:
        log.catch_up()
        assert log.root(800) == reference.root()
        assert log.inclusion_proof(5, 800) == reference.inclusion_proof(5, 800)
    import json

    events = [json.loads(store.entry_by_id(eid).event_json) for _, eid, _ in rows]
    digests = {e["id"]: d.hex() for e, (_, _, d) in zip(events, rows)}
    by_digest = {d: e for e, (_, _, d) in zip(events, (r for r in rows))}
    prev = "0" * 64
    for event, (_, _, digest) in zip(events, rows):
        assert event["prev"] == prev, f"event {event['id']} is not linked to the one before it"
        prev = digest.hex()
    assert len(digests) == len(by_digest) == 800
    first = make_event(100_000 + 3, section="s1")  # first logged through logs[1], retried through logs[0]
    retried = logs[0].submit([first, make_event(7_777_777, section="s1")], "ts")
    assert retried[0].duplicate and retried[0].index == [r[0] for r in rows if r[1] == first["id"]][0]
    assert not retried[1].duplicate and retried[1].index == 800
    from lianzheng.notary.errors import IdConflict

    with pytest.raises(IdConflict):
        logs[1].submit([{**first, "actor": "someone else"}], "ts")
    assert store.size() == 801
    for log in logs:
        log.store.close()


def test_a_process_that_lags_answers_anchored_receipts(tmp_path):
    """A receipt anchored by another process's checkpoint gets its proof from a process that has not
    written since (it catches up), not a refusal."""
    from lianzheng.notary.models import AnchorIntent

    url = f"sqlite:///{tmp_path / 'lag.db'}"
    writer, reader = (NotaryLog(SqlStore(url), SHA256, "370000", "o") for _ in range(2))
    writer.submit([make_event(i) for i in range(3)], "ts")
    writer.store.add_intent(AnchorIntent(tree_size=3, root=writer.root(3), checkpoint="o\n3\nx\n\n— o sig\n",
                                         status="confirmed", chain_id=1, registry_address="0x" + "00" * 20,
                                         tx_hash="0x" + "11" * 32, raw_tx=b"", nonce=0, block_number=1,
                                         block_time=1, created_at=0.0))
    assert len(reader) == 0
    receipt = reader.receipt("evt-2")
    assert receipt.status == "anchored" and receipt.index == 2
    expected = [base64.b64encode(h).decode() for h in writer.inclusion_proof(2, 3)]
    assert receipt.proof.split("\n")[2:2 + len(expected)] == expected and expected
    for log in (writer, reader):
        log.store.close()


@pytest.fixture(scope="module")
def tiled_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("tiles")
    key = cli("keys", "add", "--name", "ts", "--data-dir", str(data), check=True).stdout.strip()
    server = NotaryServer(data, "--anchor-interval", "0.2").start()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        for b in range(3):
            r = http.post("/v1/events", json={"events": [make_event(1000 * b + i) for i in range(200)]})
            assert r.status_code == 201, r.text
    yield server
    server.stop()


def test_tiles_are_served_at_their_c2sp_paths_as_immutable_files(tiled_server):
    """Up to the latest anchored checkpoint: what a CDN keeps forever must be committed to in public."""
    import time

    with httpx.Client(base_url=tiled_server.url, timeout=30) as http:
        deadline = time.monotonic() + 20
        while http.get("/healthz").json()["anchored_size"] < 600:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        rows = http.get("/v1/entries", params={"start": 0, "end": 600}).json()["entries"]
        digests = [bytes.fromhex(e["event_digest"]) for e in rows]
        reference = MerkleTree(hasher("sha256"))
        reference.extend_leaf_hashes([SHA256.hash_leaf(d) for d in digests])

        full = http.get("/tile/0/001")
        assert full.status_code == 200 and full.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert full.content == b"".join(reference.leaf_hash(i) for i in range(256, 512))
        partial = http.get("/tile/0/002.p/88")
        assert partial.content == b"".join(reference.leaf_hash(i) for i in range(512, 600))
        assert http.get("/tile/0/000.p/5").content == full.content[:0] + b"".join(
            reference.leaf_hash(i) for i in range(5))
        bundle = http.get("/tile/entries/002.p/88").content
        assert bundle == b"".join(b"\x00\x20" + d for d in digests[512:600])
        # Level 1 holds the roots of full level-0 tiles: none complete at level 1 yet, a partial of 2.
        assert http.get("/tile/1/000.p/2").content == reference._node(8, 0) + reference._node(8, 1)

        for beyond in ("/tile/0/002", "/tile/0/002.p/89", "/tile/entries/003.p/1", "/tile/1/000.p/3"):
            assert http.get(beyond).status_code == 404, beyond
        for bad in ("/tile/0/2", "/tile/8/000", "/tile/01/000", "/tile/x/000", "/tile/0/000.p/256",
                    "/tile/%C2%B2/000", "/tile/%D9%A1/000"):
            r = http.get(bad)
            assert 400 <= r.status_code < 500 and "code" in r.json(), bad

        note = http.get("/checkpoint")
        assert note.headers["cache-control"] == "no-cache" and note.headers["content-type"].startswith("text/plain")
        body = note.text.split("\n\n")[0].split("\n")
        assert body[1] == "600"
        import base64

        assert base64.b64decode(body[2]) == reference.root()
