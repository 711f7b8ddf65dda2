"""A mirror copies a notary's log, verifies every entry against anchored roots, resumes, and
names a tampered entry by its index."""
from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from lianzheng.alliance.errors import MirrorError
from lianzheng.alliance.mirror import Mirror
from lianzheng.alliance.mirror_api import create_mirror_app
from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings
from lianzheng.sdk.client import NotaryClient
from lianzheng.sdk.merkle import SHA256, verify_inclusion
from lianzheng.sdk.registry import RegistryReader
from tests.helpers import make_event


@pytest.fixture
def source(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "src", anchor_interval=0.2))) as api:
        notary = api.app.state.notary
        writer = NotaryClient("http://testserver", create_key(notary.store, "w"), transport=api._transport)
        reader = NotaryClient("http://testserver", transport=api._transport)
        for start in range(0, 2400, 800):
            receipts = writer.notarize_batch([make_event(i) for i in range(start, start + 800)], batch_size=800)
            writer.wait_anchored(receipts[-1].event_id, timeout=30)
        yield notary, reader


def test_sync_interrupted_and_resumed_gives_the_same_verified_state(source, tmp_path):
    notary, client = source
    w3 = notary.chain.rpc
    partial = Mirror(tmp_path / "m1", client, w3)
    first = partial.sync(limit=1000)
    assert 0 < first.verified_size <= 1000 and first.verified_size in dict(partial.anchored())
    partial.close()
    resumed = Mirror(tmp_path / "m1", client, w3)  # a new process would start like this
    assert resumed.verified_size == first.verified_size
    done = resumed.sync()
    straight = Mirror(tmp_path / "m2", client, w3).sync()
    size, root = max(resumed.anchored())
    assert (done.verified_size, done.root) == (straight.verified_size, straight.root) == (size, root) == (
        2400, notary.log.tree.root(2400))
    rows = [sqlite3.connect(tmp_path / d / "mirror.db").execute("SELECT * FROM entries ORDER BY idx").fetchall()
            for d in ("m1", "m2")]
    assert rows[0] == rows[1] and len(rows[0]) == 2400
    proof = resumed.proof("evt-1234")  # the mirror serves verification of what it holds
    verify_inclusion(SHA256, proof["index"], proof["tree_size"], SHA256.hash_leaf(bytes.fromhex(proof["event_digest"])),
                     [bytes.fromhex(h) for h in proof["hashes"]], bytes.fromhex(proof["root"]))
    assert proof["index"] == 1234 and proof["tree_size"] == 2400
    with TestClient(create_mirror_app(resumed)) as served:  # and over HTTP, checked against the chain
        body = served.get("/v1/proofs/inclusion/evt-77").json()
        anchored = RegistryReader(w3, body["registry"]).checkpoint_at(int(body["region"]), body["tree_size"])
        leaf = SHA256.hash_leaf(bytes.fromhex(body["event_digest"]))
        assert leaf == notary.log.tree.leaf_hash(77)
        verify_inclusion(SHA256, body["index"], body["tree_size"], leaf, [bytes.fromhex(h) for h in body["hashes"]],
                         anchored.root)
        assert served.get("/v1/proofs/inclusion/nope").status_code == 404
        assert served.get("/healthz").json()["verified_size"] == 2400
        assert len(served.get("/v1/entries", params={"start": 0, "end": 10}).json()["entries"]) == 10


def test_a_tampered_entry_is_rejected_with_its_index(source, tmp_path):
    notary, client = source
    mirror = Mirror(tmp_path / "m", client, notary.chain.rpc)
    mirror.sync(limit=800)
    verified = mirror.verified_size
    db = sqlite3.connect(tmp_path / "src" / "notary.db")
    db.execute("UPDATE entries SET digest = ? WHERE idx = ?", (b"\x13" * 32, 1789))
    # ... and in the entry bundle the notary serves it from (tiles level -1: 2-byte length, digest)
    (bundle,) = db.execute("SELECT data FROM tiles WHERE level = -1 AND idx = ?", (1789 // 256,)).fetchone()
    at = (1789 % 256) * 34 + 2
    db.execute("UPDATE tiles SET data = ? WHERE level = -1 AND idx = ?",
               (bundle[:at] + b"\x13" * 32 + bundle[at + 32:], 1789 // 256))
    db.commit()
    with pytest.raises(MirrorError) as rejected:
        mirror.sync()
    assert rejected.value.index == 1789 and "entry 1789" in str(rejected.value)
    assert mirror.verified_size >= verified and mirror.verified_size <= 1789  # nothing past the bad entry kept
    again = Mirror(tmp_path / "m", client, notary.chain.rpc)
    assert again.verified_size == mirror.verified_size
