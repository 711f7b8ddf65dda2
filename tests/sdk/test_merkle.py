"""The proof code against the RFC 6962 vectors and against pymerkle, an independent tree."""
from __future__ import annotations

import base64
import json
import random

import pytest
from pymerkle import InmemoryTree

from lianzheng.sdk.errors import VerificationError
from lianzheng.sdk.merkle import SHA256, MerkleTree, hasher, verify_consistency, verify_inclusion


def _b64(value):
    return base64.b64decode(value) if value else b""


def _cases(root, kind):
    files = sorted((root / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {root}"
    return [(f.relative_to(root).as_posix(), json.loads(f.read_text())) for f in files]


def test_inclusion_vectors(rfc6962_vectors):
    for name, case in _cases(rfc6962_vectors, "inclusion"):
        proof = [_b64(p) for p in case["proof"] or []]
        args = (SHA256, case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"]))
        if case["wantErr"]:
            with pytest.raises(VerificationError):
                verify_inclusion(*args)
        else:
            verify_inclusion(*args)


def test_consistency_vectors(rfc6962_vectors):
    for name, case in _cases(rfc6962_vectors, "consistency"):
        proof = [_b64(p) for p in case["proof"] or []]
        args = (SHA256, case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"]))
        if case["wantErr"]:
            with pytest.raises(VerificationError):
                verify_consistency(*args)
        else:
            verify_consistency(*args)


def _trees(n, seed):
    rng = random.Random(seed)
    ours, theirs = MerkleTree(), InmemoryTree(algorithm="sha256")
    for _ in range(n):
        data = rng.randbytes(rng.randrange(0, 40))
        ours.append(data)
        theirs.append_entry(data)
    return ours, theirs


def test_roots_and_inclusion_match_pymerkle_for_every_size_to_300():
    ours, theirs = _trees(300, seed=9162)
    for size in range(1, 301):
        root = theirs.get_root(size)
        assert ours.root(size) == root
        for index in {0, size // 3, size // 2, size - 1}:
            proof = ours.inclusion_proof(index, size)
            verify_inclusion(SHA256, index, size, ours.leaf_hash(index), proof, root)
            # pymerkle's path lists the leaf's own hash beside its siblings, bottom-up.
            path = [bytes.fromhex(x) for x in theirs.prove_inclusion(index + 1, size).serialize()["path"]]
            assert sorted(path) == sorted(proof + [ours.leaf_hash(index)])


def test_consistency_proofs_verify_against_pymerkle_roots():
    ours, theirs = _trees(300, seed=6962)
    rng = random.Random(1)
    for size2 in range(1, 301):
        for size1 in {1, size2 // 2 or 1, rng.randrange(1, size2 + 1), size2}:
            proof = ours.consistency_proof(size1, size2)
            verify_consistency(SHA256, size1, size2, proof, theirs.get_root(size1), theirs.get_root(size2))


def test_every_single_bit_flip_of_a_proof_fails():
    ours, _ = _trees(77, seed=3)
    root = ours.root()
    proof = ours.inclusion_proof(42)
    for i in range(len(proof)):
        for bit in range(0, 256, 37):
            bad = list(proof)
            flipped = bytearray(bad[i])
            flipped[bit // 8] ^= 1 << (bit % 8)
            bad[i] = bytes(flipped)
            with pytest.raises(VerificationError):
                verify_inclusion(SHA256, 42, 77, ours.leaf_hash(42), bad, root)
    cproof = ours.consistency_proof(20, 77)
    with pytest.raises(VerificationError):
        verify_consistency(SHA256, 20, 77, cproof[:-1], ours.root(20), root)
    with pytest.raises(VerificationError):
        verify_consistency(SHA256, 21, 77, cproof, ours.root(20), root)


def test_sm3_log_differs_from_sha256_and_verifies():
    sm3 = hasher("sm3")
    # GB/T 32905 sample: SM3("abc")
    assert sm3.digest(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    tree = MerkleTree(sm3)
    for i in range(10):
        tree.append(b"%d" % i)
    verify_inclusion(sm3, 3, 10, tree.leaf_hash(3), tree.inclusion_proof(3), tree.root())
    verify_consistency(sm3, 4, 10, tree.consistency_proof(4), tree.root(4), tree.root())
    sha = MerkleTree()
    for i in range(10):
        sha.append(b"%d" % i)
    assert sha.root() != tree.root()


def test_empty_tree_root_is_hash_of_nothing():
    assert MerkleTree().root() == SHA256.empty_root()
