"""Exactly-once anchoring across crashes, each crash window simulated in process."""
from __future__ import annotations

import time

from eth_account import Account

from lianzheng.chain_node import SignedTx
from lianzheng.notary.services.setup import open_notary
from lianzheng.notary.settings import Settings
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import make_event


def _anchored_sizes(notary) -> list[int]:
    logs = notary.registry.logs("CheckpointAnchored")
    return [e.args["treeSize"] for e in logs]


def _reopen(settings):
    notary = open_notary(settings)
    notary.worker.reconcile()
    return notary


def test_crash_after_intent_before_send_is_anchored_once_on_restart(tmp_path):
    settings = Settings(data_dir=tmp_path / "d")
    notary = open_notary(settings)
    notary.log.submit([make_event(i) for i in range(3)], "ts")
    intent = notary.worker.prepare()
    assert intent.status == "intent" and notary.chain.outcome(intent.tx_hash) is None
    notary.close()  # "crash": the transaction never left

    notary = _reopen(settings)
    try:
        assert _anchored_sizes(notary) == [3]
        assert [a.status for a in notary.store.anchors()] == ["confirmed"]
        assert notary.store.anchors()[0].tx_hash == intent.tx_hash
        receipt = notary.log.receipt("evt-1")
        Verifier(RegistryReader(notary.chain.rpc, notary.registry.address)).verify(receipt, event=make_event(1))
        assert notary.worker.anchor_once() is None  # nothing new: no second anchor of size 3
        assert _anchored_sizes(notary) == [3]
    finally:
        notary.close()


def test_crash_after_send_before_confirm_is_not_sent_twice(tmp_path):
    settings = Settings(data_dir=tmp_path / "d")
    notary = open_notary(settings)
    notary.log.submit([make_event(i) for i in range(4)], "ts")
    intent = notary.worker.prepare()
    notary.chain.send_raw(SignedTx(intent.raw_tx, intent.tx_hash, intent.nonce, notary.account.address))
    notary.close()  # "crash": mined, but never marked confirmed

    notary = _reopen(settings)
    try:
        [anchor] = notary.store.anchors()
        assert anchor.status == "confirmed" and anchor.block_number is not None
        assert _anchored_sizes(notary) == [4]
        notary.log.submit([make_event(9)], "ts")
        notary.worker.anchor_once()
        assert _anchored_sizes(notary) == [4, 5]
    finally:
        notary.close()


def test_intent_whose_nonce_was_taken_fails_and_is_replaced(tmp_path):
    settings = Settings(data_dir=tmp_path / "d")
    notary = open_notary(settings)
    notary.log.submit([make_event(i) for i in range(2)], "ts")
    intent = notary.worker.prepare()
    # Something else spends the same nonce first: the recorded transaction can never land.
    notary.chain.release_nonce(notary.account.address)
    notary.chain.transfer(notary.account, Account.create().address, 1)
    notary.close()

    notary = _reopen(settings)
    try:
        assert [a.status for a in notary.store.anchors()] == ["failed"]
        assert notary.log.receipt("evt-0").status == "pending"
        fresh = notary.worker.anchor_once()
        assert fresh.tree_size == 2 and fresh.tx_hash != intent.tx_hash
        assert [a.status for a in notary.store.anchors()] == ["failed", "confirmed"]
        assert _anchored_sizes(notary) == [2]
        assert notary.log.receipt("evt-0").status == "anchored"
    finally:
        notary.close()


def test_worker_anchors_on_interval_and_on_count(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", anchor_interval=3600, anchor_every=5)
    notary = open_notary(settings)
    notary.start()
    try:
        notary.log.submit([make_event(i) for i in range(4)], "ts")
        assert notary.store.latest_anchor() is None  # below the count, interval far away
        notary.log.submit([make_event(4)], "ts")
        deadline = time.monotonic() + 10
        while notary.store.latest_anchor("confirmed") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert notary.store.latest_anchor("confirmed").tree_size == 5
    finally:
        notary.close()
