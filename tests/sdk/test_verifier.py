"""Verification of real anchored receipts; every kind of tampering fails with its reason."""
from __future__ import annotations

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lianzheng.sdk.checkpoint import Checkpoint, SignedNote, TlogProof, sign_checkpoint
from lianzheng.sdk.errors import (
    AnchorError,
    EventMismatchError,
    MalformedError,
    PendingError,
    ProofError,
    SignatureError,
)
from lianzheng.sdk.merkle import SHA256, MerkleTree
from lianzheng.sdk.receipt import parse_receipt
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import make_event


@pytest.fixture
def anchored(notary):
    notary.log.submit([make_event(i) for i in range(5)], "ts")
    first = notary.worker.anchor_once()
    notary.log.submit([make_event(i) for i in range(5, 9)], "ts")
    second = notary.worker.anchor_once()
    receipt = notary.log.receipt("evt-3")
    assert receipt.status == "anchored" and receipt.anchor.tree_size == first.tree_size == 5
    verifier = Verifier(RegistryReader(notary.chain.rpc, notary.registry.address))
    return notary, receipt, verifier, first, second


def _mutate(receipt, fn):
    data = copy.deepcopy(receipt.model_dump(mode="json"))
    fn(data)
    return parse_receipt(data)


def test_untampered_receipt_verifies_with_event_and_document(anchored):
    notary, receipt, verifier, first, _ = anchored
    held = make_event(3)
    result = verifier.verify(receipt, event=held)
    assert (result.region, result.index, result.tree_size) == ("370000", receipt.index, 5)
    assert (result.block_number, result.tx_hash) == (first.block_number if first.block_number else
                                                      receipt.anchor.block_number, first.tx_hash)
    assert verifier.verify(receipt, document_sha256=f"{3:064x}").index == receipt.index
    later = notary.log.receipt("evt-7")
    assert verifier.verify(later, event=make_event(7)).tree_size == 9


def test_public_receipt_verifies_the_document_but_not_a_held_event(anchored):
    _, receipt, verifier, _, _ = anchored
    public = receipt.public()
    assert "payload" not in public.event and "salt" not in public.event
    assert verifier.verify(public, document_sha256=f"{3:064x}").index == receipt.index
    with pytest.raises(EventMismatchError, match="not referenced"):
        verifier.verify(public, document_sha256=f"{4:064x}")
    with pytest.raises(EventMismatchError, match="public receipt"):
        verifier.verify(public, event=make_event(3))
    for change in ({"project": "OTHER"}, {"sealed": "00" * 32}, {"documents": [{"sha256": f"{4:064x}"}]}):
        with pytest.raises(EventMismatchError, match="does not hash"):
            verifier.verify(_mutate(public, lambda d: d["event"].update(change)))


def _flip_proof_hash(d):
    proof = TlogProof.parse(d["proof"])
    hashes = list(proof.hashes)
    hashes[0] = bytes([hashes[0][0] ^ 1]) + hashes[0][1:]
    d["proof"] = TlogProof(proof.index, tuple(hashes), proof.checkpoint_note).text()


def _drop_proof_hash(d):
    proof = TlogProof.parse(d["proof"])
    d["proof"] = TlogProof(proof.index, proof.hashes[:-1], proof.checkpoint_note).text()


def _reindex(d):
    d["index"] += 1
    proof = TlogProof.parse(d["proof"])
    d["proof"] = TlogProof(proof.index + 1, proof.hashes, proof.checkpoint_note).text()


def _edit_note(d, old, new):
    proof = TlogProof.parse(d["proof"])
    d["proof"] = TlogProof(proof.index, proof.hashes, proof.checkpoint_note.replace(old, new, 1)).text()


def _flip_signature(d):
    proof = TlogProof.parse(d["proof"])
    note = SignedNote.parse(proof.checkpoint_note)
    name, sig = note.signatures[0]
    bad = SignedNote(note.body, ((name, sig[:-1] + bytes([sig[-1] ^ 1])),)).text()
    d["proof"] = TlogProof(proof.index, proof.hashes, bad).text()


MUTATIONS = {
    "event-field-in-receipt": (lambda d: d["event"].update(actor="bidder-X"), EventMismatchError),
    "event-payload-in-receipt": (lambda d: d["event"]["payload"].update(round=2), EventMismatchError),
    "event-salt": (lambda d: d["event"].update(salt="00" * 32), EventMismatchError),
    "event-digest": (lambda d: d.update(event_digest="11" * 32), EventMismatchError),
    "proof-hash-bit": (_flip_proof_hash, ProofError),
    "proof-truncated": (_drop_proof_hash, ProofError),
    "leaf-index": (_reindex, ProofError),
    "checkpoint-size": (lambda d: _edit_note(d, "\n5\n", "\n6\n"), AnchorError),
    "checkpoint-origin": (lambda d: _edit_note(d, "370000\n5", "370100\n5"), MalformedError),
    "signature-bit": (_flip_signature, SignatureError),
    "anchor-other-size": (lambda d: d["anchor"].update(tree_size=9), AnchorError),
    "anchor-other-chain": (lambda d: d["anchor"].update(chain_id=31337), AnchorError),
    "anchor-other-registry": (lambda d: d["anchor"].update(registry="0x" + "12" * 20), AnchorError),
    "anchor-block-number": (lambda d: d["anchor"].update(block_number=d["anchor"]["block_number"] - 1), AnchorError),
    "anchor-block-time": (lambda d: d["anchor"].update(block_time=d["anchor"]["block_time"] + 1), AnchorError),
    "pending": (lambda d: d.update(status="pending", proof=None, anchor=None), PendingError),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_tampered_receipt_fails_with_its_reason(anchored, name):
    _, receipt, verifier, _, _ = anchored
    mutate, error = MUTATIONS[name]
    with pytest.raises(error) as info:
        verifier.verify(_mutate(receipt, mutate))
    assert str(info.value)


def test_anchor_pointing_at_another_anchor_transaction_fails(anchored):
    _, receipt, verifier, _, second = anchored
    bad = _mutate(receipt, lambda d: d["anchor"].update(tx_hash=second.tx_hash))
    with pytest.raises(AnchorError, match="do not match transaction"):
        verifier.verify(bad)


def test_changed_event_you_hold_names_the_fields(anchored):
    _, receipt, verifier, _, _ = anchored
    with pytest.raises(EventMismatchError, match="actor, payload"):
        verifier.verify(receipt, event=make_event(3, actor="bidder-X", payload={"round": 9}))


def test_changed_document_byte_is_not_found_in_event(anchored):
    _, receipt, verifier, _, _ = anchored
    changed = f"{3:064x}"[:-1] + "1"
    with pytest.raises(EventMismatchError, match="not referenced"):
        verifier.verify(receipt, document_sha256=changed)


def test_a_forged_log_signed_by_another_key_fails(anchored):
    """An operator who rewrites the event and re-signs with a key not on chain is caught."""
    _, receipt, verifier, _, _ = anchored
    forged_event = dict(receipt.event, actor="bidder-X")
    from lianzheng.sdk.event import event_digest

    digest = event_digest(forged_event, SHA256)
    tree = MerkleTree()
    for i in range(5):
        tree.append(digest if i == receipt.index else bytes([i]) * 32)
    note = sign_checkpoint(Checkpoint(receipt.log.origin, 5, tree.root()), Ed25519PrivateKey.generate())
    proof = TlogProof(receipt.index, tuple(tree.inclusion_proof(receipt.index, 5)), note).text()
    forged = _mutate(receipt, lambda d: d.update(event=forged_event, event_digest=digest.hex(), proof=proof))
    with pytest.raises(SignatureError):
        verifier.verify(forged)


def test_a_checkpoint_signed_by_the_notary_but_never_anchored_fails(anchored):
    """A real, correctly signed tree head of size 7 proves nothing until size 7 is on chain."""
    notary, receipt, verifier, _, _ = anchored
    tree = notary.log.tree
    note = sign_checkpoint(Checkpoint(receipt.log.origin, 7, tree.root(7)), notary.checkpoint_key)
    proof = TlogProof(receipt.index, tuple(tree.inclusion_proof(receipt.index, 7)), note).text()
    unanchored = _mutate(receipt, lambda d: (d.update(proof=proof), d["anchor"].update(tree_size=7)))
    with pytest.raises(AnchorError, match="nothing anchored for region 370000 at tree size 7"):
        verifier.verify(unanchored)
