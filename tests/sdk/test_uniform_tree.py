"""The identical-leaves tree helper agrees with sdk.merkle.MerkleTree and its verifiers."""
from __future__ import annotations

from lianzheng.sdk.merkle import SHA256, MerkleTree, verify_consistency, verify_inclusion
from lianzheng.sdk.uniform_tree import UniformTree

LEAF = SHA256.hash_leaf(b"same event")


def test_roots_and_proofs_match_a_built_tree_for_every_small_size():
    built, uniform = MerkleTree(), UniformTree(LEAF)
    for _ in range(70):
        built.append_leaf_hash(LEAF)
    for n in range(1, 71):
        assert uniform.root(n) == built.root(n), n
        for m in range(0, n + 1):
            assert uniform.consistency_proof(m, n) == built.consistency_proof(m, n), (m, n)
        for i in range(n):
            assert uniform.inclusion_proof(i, n) == built.inclusion_proof(i, n), (i, n)
    assert uniform.root(0) == built.root(0)


def test_proofs_of_a_billion_leaves_verify():
    uniform = UniformTree(LEAF)
    for old, new in ((10**9, 10**9 + 100), (10**6, 10**9), (2**30, 2**30 + 1)):
        verify_consistency(SHA256, old, new, uniform.consistency_proof(old, new), uniform.root(old), uniform.root(new))
    index = 10**9 - 7
    verify_inclusion(SHA256, index, 10**9 + 100, LEAF, uniform.inclusion_proof(index, 10**9 + 100),
                     uniform.root(10**9 + 100))
