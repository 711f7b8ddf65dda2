"""Attacks on the EvidenceRegistry (issue 12, item 10), each reproduced and shown refused.

|who cheats|how|refused by|test|
|---|---|---|---|
|a notary whose role was revoked|keeps anchoring|`anchor` requires NOTARY_ROLE now|revoked_notary|
|a notary (or its stolen key)|anchors a forked / rewritten log|RFC 9162 consistency proof checked on chain|forked_log|
|a buggy or hostile notary|anchors 2^64-1 to freeze the region|MAX_TREE_SIZE = 2^40|freeze|
|a thief of an old checkpoint key|signs checkpoints after a rotation|verifiers choose the key by size|rotation|
|a registrar (or one typo)|hands a region to an account nobody controls|rebind needs the account's acceptance|rebind|
"""
from __future__ import annotations

import copy
import random
import time

import pytest

from lianzheng.chain_node import TransactionReverted
from lianzheng.notary.services.anchoring import AnchorRefused
from lianzheng.notary.services.rotation import rotate_checkpoint_key
from lianzheng.notary.services.setup import open_notary
from lianzheng.notary.settings import Settings
from lianzheng.sdk.certificate import signed_body, verify_certificate
from lianzheng.sdk.checkpoint import Checkpoint, TlogProof, sign_checkpoint, sign_note
from lianzheng.sdk.errors import SignatureError
from lianzheng.sdk.merkle import MerkleTree
from lianzheng.sdk.receipt import parse_receipt
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import make_event

KEY = b"\x11" * 32


@pytest.fixture
def registry(chain, funded):
    admin, notary = funded(), funded()
    reg = chain.contract("EvidenceRegistry", chain.deploy(admin, "EvidenceRegistry", admin.address))
    chain.transact(admin, reg.tx("bindNotary", notary.address, 370000))
    chain.transact(notary, reg.tx("registerCheckpointKey", KEY, 0, "lianzheng.notary/370000"))
    reg.admin, reg.notary = admin, notary
    return reg


def _tree(leaves: list[bytes]) -> MerkleTree:
    tree = MerkleTree()
    for leaf in leaves:
        tree.append(leaf)
    return tree


def _refused(chain, account, call, error: str) -> str:
    with pytest.raises(TransactionReverted) as info:
        chain.transact(account, call)
    assert info.value.reason.startswith(error), info.value.reason
    return info.value.reason


def test_revoked_notary_cannot_anchor(chain, registry):
    f, tree = registry, _tree([bytes([i]) for i in range(4)])
    chain.transact(registry.notary, f.tx("anchor", 370000, 2, tree.root(2), []))
    chain.transact(registry.admin, f.tx("revokeRole", f.read("NOTARY_ROLE"), registry.notary.address))
    _refused(chain, registry.notary, f.tx("anchor", 370000, 4, tree.root(4), tree.consistency_proof(2, 4)),
             f"AccessControlUnauthorizedAccount({registry.notary.address.lower()}")
    assert f.read("logOf", 370000)[4] == 2


def test_forked_log_is_refused_on_chain(chain, registry):
    """The notary anchored 5 entries; a rewritten log keeps 3 of them and changes the rest."""
    rng = random.Random(7)
    honest_leaves = [rng.randbytes(16) for _ in range(8)]
    forked_leaves = honest_leaves[:3] + [b"rewritten %d" % i for i in range(5)]
    honest, forked = _tree(honest_leaves), _tree(forked_leaves)
    f = registry
    chain.transact(registry.notary, f.tx("anchor", 370000, 5, honest.root(5), []))
    # the fork's own proof, from its own size-5 root: does not lead from the anchored root
    reason = _refused(chain, registry.notary, f.tx("anchor", 370000, 8, forked.root(8), forked.consistency_proof(5, 8)),
                      "EvidenceRegistryInconsistentCheckpoint(370000, 5, ")
    assert honest.root(5).hex() in reason and forked.root(8).hex() in reason  # the evidence, both checkpoints
    # the honest proof does not carry a forked root either, nor does an empty or padded proof
    for proof in (honest.consistency_proof(5, 8), [], [*forked.consistency_proof(5, 8), forked.root(8)]):
        _refused(chain, registry.notary, f.tx("anchor", 370000, 8, forked.root(8), proof),
                 "EvidenceRegistryInconsistentCheckpoint")
    chain.transact(registry.notary, f.tx("anchor", 370000, 8, honest.root(8), honest.consistency_proof(5, 8)))


def test_forked_notary_restarted_from_an_empty_data_dir_cannot_anchor(tmp_path):
    """The operator wipes the data dir and writes another history with the same chain key."""
    first = open_notary(Settings(data_dir=tmp_path / "d"))
    try:
        first.log.submit([make_event(i) for i in range(3)], "ts")
        first.worker.anchor_once()
        registry, keys = first.registry.address, tmp_path / "d" / "keys"
    finally:
        first.close()
    fork_dir = tmp_path / "fork"
    fork_dir.mkdir()
    (fork_dir / "chain").symlink_to(tmp_path / "d" / "chain")  # the same embedded chain
    fork = open_notary(Settings(data_dir=fork_dir, registry=registry, chain_key_file=keys / "chain.key",
                                checkpoint_key_file=keys / "checkpoint.pem"))
    try:
        fork.log.submit([make_event(100 + i, actor="rewritten") for i in range(6)], "ts")
        with pytest.raises(AnchorRefused, match="refused the anchor of size 6"):
            fork.worker.anchor_once()
        [intent] = fork.store.anchors()
        assert intent.status == "failed" and intent.tree_size == 6
        assert fork.registry.read("logOf", 370000)[4] == 3
        reason = fork.chain.replay_reason(fork.account, fork.registry.tx("anchor", 370000, 6, intent.root, []))
        assert reason.startswith("EvidenceRegistryInconsistentCheckpoint(370000, 3, ")
        # Running, the worker reports the refusal and backs off instead of paying gas every round.
        fork.worker.interval = 0.1
        fork.worker.start()
        time.sleep(3)
        assert "AnchorRefused" in (fork.worker.last_error or "")
        assert len(fork.store.anchors()) <= 6  # 0.2, 0.4, 0.8, 1.6 s apart (30 tries without backing off)
    finally:
        fork.close()


def test_size_2_64_minus_1_cannot_freeze_a_region(chain, registry):
    f, tree = registry, _tree([b"a", b"b", b"c"])
    chain.transact(registry.notary, f.tx("anchor", 370000, 2, tree.root(2), []))
    _refused(chain, registry.notary, f.tx("anchor", 370000, 2**64 - 1, b"\x01" * 32, [b"\x02" * 32]),
             f"EvidenceRegistryTreeSizeTooLarge({2**64 - 1}, {2**40})")
    _refused(chain, registry.notary, f.tx("anchor", 370000, 2**40 + 1, b"\x01" * 32, [b"\x02" * 32]),
             "EvidenceRegistryTreeSizeTooLarge")
    chain.transact(registry.notary, f.tx("anchor", 370000, 3, tree.root(3), tree.consistency_proof(2, 3)))  # grows on


def test_old_receipts_survive_key_rotation_and_the_old_key_signs_nothing_after_it(tmp_path):
    settings = Settings(data_dir=tmp_path / "d")
    notary = open_notary(settings)
    try:
        old_key = notary.checkpoint_key
        notary.log.submit([make_event(i) for i in range(3)], "ts")
        notary.log.submit([make_event(3)], "ts")  # not anchored yet: the rotation anchors it first
        notary.worker.anchor_once()
        certificate_before = notary.witness.certificate_evidence("SDGP-2026-0042", "S1", "http://witness")
        notary.log.submit([make_event(4)], "ts")
        old_receipt = notary.log.receipt("evt-1")
        from_size = rotate_checkpoint_key(notary)
        assert from_size == 6  # the head (5) was anchored under the old key first
        assert notary.checkpoint_key is not old_key
        certificate_at_rotation = notary.witness.certificate_evidence("SDGP-2026-0042", "S1", "http://witness")
        notary.log.submit([make_event(i) for i in range(5, 8)], "ts")
        notary.worker.anchor_once()
        new_receipt = notary.log.receipt("evt-6")
        verifier = Verifier(RegistryReader(notary.chain.rpc, notary.registry.address))
        verifier.verify(old_receipt, event=make_event(1))  # signed by the old key, size 4: still verifies
        verifier.verify(notary.log.receipt("evt-4"), event=make_event(4))  # size 5, old key
        verifier.verify(new_receipt, event=make_event(6))  # size 8, new key
        # The old key (stolen, say) signs the anchored checkpoint of size 8: refused.
        tree = notary.log.tree
        note = sign_checkpoint(Checkpoint(new_receipt.log.origin, 8, tree.root(8)), old_key)
        proof = TlogProof(new_receipt.index, tuple(tree.inclusion_proof(new_receipt.index, 8)), note).text()
        data = copy.deepcopy(new_receipt.model_dump(mode="json"))
        data["proof"] = proof
        with pytest.raises(SignatureError):
            verifier.verify(parse_receipt(data), event=make_event(6))
        # Certificates: signed with the key of their log size (or the next one, at the rotation).
        reader = RegistryReader(notary.chain.rpc, notary.registry.address)
        certificate_after = notary.witness.certificate_evidence("SDGP-2026-0042", "S1", "http://witness")
        for evidence in (certificate_before, certificate_at_rotation, certificate_after):
            verify_certificate(evidence, reader)
        stolen = {k: v for k, v in certificate_after.items() if k != "signature"}
        stolen["signature"] = sign_note(signed_body(stolen), notary.log.origin, old_key)
        with pytest.raises(SignatureError):
            verify_certificate(stolen, reader)
        assert (settings.checkpoint_key_path.parent / f"checkpoint.pem.retired-{from_size}").is_file()
    finally:
        notary.close()
    reopened = open_notary(settings)  # the key file now agrees with the newest key on chain
    try:
        reopened.log.submit([make_event(8)], "ts")
        reopened.worker.anchor_once()
        Verifier(RegistryReader(reopened.chain.rpc, reopened.registry.address)).verify(
            reopened.log.receipt("evt-8"), event=make_event(8))
    finally:
        reopened.close()


def test_rebind_needs_both_the_registrar_and_the_new_account(chain, registry, funded):
    f, old = registry, registry.notary
    new, thief = funded(), funded()
    _refused(chain, thief, f.tx("proposeRebind", 370000, thief.address), "AccessControlUnauthorizedAccount")
    _refused(chain, new, f.tx("acceptRebind", 370000),
             f"EvidenceRegistryNotProposedNotary({new.address.lower()}, 370000, "
             f"0x{'0' * 40}")
    chain.transact(registry.admin, f.tx("proposeRebind", 370000, new.address))
    assert f.read("logOf", 370000)[0] == old.address  # proposing alone moves nothing
    _refused(chain, thief, f.tx("acceptRebind", 370000), "EvidenceRegistryNotProposedNotary")
    chain.transact(registry.admin, f.tx("proposeRebind", 370000, "0x" + "00" * 20))  # withdrawn
    _refused(chain, new, f.tx("acceptRebind", 370000), "EvidenceRegistryNotProposedNotary")
    chain.transact(registry.admin, f.tx("proposeRebind", 370000, new.address))
    chain.transact(new, f.tx("acceptRebind", 370000))
    assert (f.read("logOf", 370000)[0], f.read("regionOf", old.address)) == (new.address, 0)
    assert not f.read("hasRole", f.read("NOTARY_ROLE"), old.address)
    _refused(chain, old, f.tx("anchor", 370000, 1, b"\x01" * 32, []), "AccessControlUnauthorizedAccount")
    _refused(chain, old, f.tx("rotateCheckpointKey", b"\x22" * 32, 1), "AccessControlUnauthorizedAccount")
    chain.transact(new, f.tx("anchor", 370000, 1, b"\x01" * 32, []))
