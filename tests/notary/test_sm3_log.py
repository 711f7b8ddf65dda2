"""A national-crypto log: SM3 Merkle hashing chosen at creation, registered on chain, fixed."""
from __future__ import annotations

import pytest

from notary.services.setup import SetupError, open_notary
from notary.settings import Settings
from sdk.errors import EventMismatchError
from sdk.event import canonical_bytes
from sdk.merkle import hasher
from sdk.registry import RegistryReader
from sdk.verifier import Verifier
from tests.helpers import make_event


def test_sm3_log_anchors_and_verifies_and_cannot_change_hash(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", hash="sm3", region="150700")
    notary = open_notary(settings)
    sm3 = hasher("sm3")
    try:
        notary.log.submit([make_event(i, region="150700") for i in range(6)], "ts")
        notary.worker.anchor_once()
        receipts = [notary.log.receipt(f"evt-{i}") for i in range(6)]
        leaves = [sm3.hash_leaf(sm3.digest(canonical_bytes(r.event))) for r in receipts]
        assert [bytes.fromhex(r.event_digest) for r in receipts] == [sm3.digest(canonical_bytes(r.event))
                                                                      for r in receipts]
        node = sm3.hash_children
        by_hand = node(node(node(leaves[0], leaves[1]), node(leaves[2], leaves[3])), node(leaves[4], leaves[5]))
        assert notary.log.tree.root(6) == by_hand
        root, _, _ = notary.registry.functions.checkpointAt(150700, 6).call()
        assert bytes(root) == by_hand

        reader = RegistryReader(notary.chain.w3, notary.registry.address)
        assert reader.log_of(150700).hash == "sm3"
        Verifier(reader).verify(receipts[4], event=make_event(4, region="150700"))
        as_sha = receipts[4].model_copy(update={"log": receipts[4].log.model_copy(update={"hash": "sha256"})})
        with pytest.raises(EventMismatchError):
            Verifier(reader).verify(as_sha)
    finally:
        notary.close()
    with pytest.raises(SetupError, match="hash algorithm sm3"):
        open_notary(Settings(data_dir=tmp_path / "d", hash="sha256", region="150700"))
