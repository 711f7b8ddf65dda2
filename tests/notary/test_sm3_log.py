"""A national-crypto log: SM3 Merkle hashing chosen at creation, registered on chain, fixed."""
from __future__ import annotations

import pytest

from lianzheng.notary.services.setup import SetupError, open_notary
from lianzheng.notary.settings import Settings
from lianzheng.sdk.errors import EventMismatchError
from lianzheng.sdk.event import canonical_bytes
from lianzheng.sdk.merkle import hasher
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import make_event


def _public_by_hand(event, h):
    """The public form as the format states it: public fields, document hashes, sealed = H(JCS(rest))."""
    shown = {k: v for k, v in event.items() if k not in ("payload", "documents", "salt")}
    shown["documents"] = [{"sha256": d["sha256"]} for d in event["documents"]]
    sealed = {"payload": event["payload"], "documents": event["documents"], "salt": event["salt"]}
    shown["sealed"] = h.digest(canonical_bytes(sealed)).hex()
    return shown


def test_sm3_log_anchors_and_verifies_and_cannot_change_hash(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", hash="sm3", region="150700")
    notary = open_notary(settings)
    sm3 = hasher("sm3")
    try:
        notary.log.submit([make_event(i, region="150700") for i in range(6)], "ts")
        notary.worker.anchor_once()
        receipts = [notary.log.receipt(f"evt-{i}") for i in range(6)]
        digests = [sm3.digest(canonical_bytes(_public_by_hand(r.event, sm3))) for r in receipts]
        leaves = [sm3.hash_leaf(d) for d in digests]
        assert [bytes.fromhex(r.event_digest) for r in receipts] == digests
        node = sm3.hash_children
        by_hand = node(node(node(leaves[0], leaves[1]), node(leaves[2], leaves[3])), node(leaves[4], leaves[5]))
        assert notary.log.tree.root(6) == by_hand
        root, _, _ = notary.registry.read("checkpointAt", 150700, 6)
        assert bytes(root) == by_hand

        reader = RegistryReader(notary.chain.rpc, notary.registry.address)
        assert reader.log_of(150700).hash == "sm3"
        Verifier(reader).verify(receipts[4], event=make_event(4, region="150700"))
        as_sha = receipts[4].model_copy(update={"log": receipts[4].log.model_copy(update={"hash": "sha256"})})
        with pytest.raises(EventMismatchError):
            Verifier(reader).verify(as_sha)
    finally:
        notary.close()
    with pytest.raises(SetupError, match="hash algorithm sm3"):
        open_notary(Settings(data_dir=tmp_path / "d", hash="sha256", region="150700"))
