"""Consistency proofs are checked as transparency-dev/merkle checks them (proof.VerifyConsistency):
a proof from the empty tree proves nothing and is refused; for equal sizes the roots are
compared as given, before any length check (a short "root" cannot slip through a length error
into a different answer)."""
from __future__ import annotations

import pytest

from lianzheng.sdk.errors import MalformedError, ProofError, RootMismatchError
from lianzheng.sdk.merkle import SHA256, MerkleTree, verify_consistency


@pytest.fixture(scope="module")
def tree():
    t = MerkleTree()
    for i in range(20):
        t.append(bytes([i]))
    return t


def test_a_proof_from_size_zero_is_refused(tree):
    for size2 in (0, 1, 20):
        with pytest.raises(ProofError, match="empty tree is meaningless"):
            verify_consistency(SHA256, 0, size2, [], SHA256.empty_root(), tree.root(size2))


def test_equal_sizes_compare_the_roots_first(tree):
    verify_consistency(SHA256, 7, 7, [], tree.root(7), tree.root(7))
    with pytest.raises(RootMismatchError):
        verify_consistency(SHA256, 7, 7, [], tree.root(7), tree.root(8))
    with pytest.raises(RootMismatchError):  # not a MalformedError about the length
        verify_consistency(SHA256, 7, 7, [], tree.root(7)[:5], tree.root(7))
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(SHA256, 7, 7, [tree.root(1)], tree.root(7), tree.root(7))


def test_different_sizes_still_check_lengths(tree):
    proof = tree.consistency_proof(5, 20)
    verify_consistency(SHA256, 5, 20, proof, tree.root(5), tree.root(20))
    with pytest.raises(MalformedError):
        verify_consistency(SHA256, 5, 20, proof, tree.root(5)[:31], tree.root(20))
    with pytest.raises(ProofError, match="not ordered"):
        verify_consistency(SHA256, 20, 5, proof, tree.root(20), tree.root(5))
