"""RFC 9162 roots and proofs of a tree whose leaves all have one leaf hash, without building it.

With identical leaves every subtree hash depends on its leaf count only: the perfect subtree
of 2**k leaves is the leaf hash hashed with itself k times (P(k) = H(0x01 ‖ P(k-1) ‖ P(k-1))),
and any other count n splits as RFC 9162 §2.1.1 does (k = the largest power of two below n).
So a root or a proof of a tree of 10**9 leaves costs O(log² n) hashes: enough to anchor
such sizes on chain in tests and benches (scripts/bench registry). The proofs follow RFC 9162
§2.1.3.1 (PATH) and §2.1.4.1 (SUBPROOF) literally; tests check them against
``sdk.merkle.MerkleTree`` on small sizes.
"""
from __future__ import annotations

from functools import lru_cache

from lianzheng.sdk.merkle import SHA256, Hasher


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


class UniformTree:
    """Trees of any size whose every leaf hash is ``leaf_hash``."""

    def __init__(self, leaf_hash: bytes, h: Hasher = SHA256) -> None:
        self.hasher = h
        self._perfect = [bytes(leaf_hash)]
        self.subtree = lru_cache(maxsize=None)(self._subtree)

    def _perfect_hash(self, level: int) -> bytes:
        while len(self._perfect) <= level:
            top = self._perfect[-1]
            self._perfect.append(self.hasher.hash_children(top, top))
        return self._perfect[level]

    def _subtree(self, n: int) -> bytes:
        """MTH of n identical leaves (n ≥ 1)."""
        if n & (n - 1) == 0:
            return self._perfect_hash(n.bit_length() - 1)
        k = _split(n)
        return self.hasher.hash_children(self.subtree(k), self.subtree(n - k))

    def root(self, size: int) -> bytes:
        return self.hasher.empty_root() if size == 0 else self.subtree(size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size]), bottom-up."""
        if not 0 <= index < size:
            raise ValueError(f"no leaf {index} in a tree of {size}")
        proof: list[bytes] = []
        n, m = size, index
        while n > 1:
            k = _split(n)
            if m < k:
                proof.append(self.subtree(n - k))
                n = k
            else:
                proof.append(self.subtree(k))
                n, m = n - k, m - k
        proof.reverse()
        return proof

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """SUBPROOF(size1, D[0:size2], true)."""
        if not 0 <= size1 <= size2:
            raise ValueError(f"no consistency proof from {size1} to {size2}")
        if size1 in (0, size2):
            return []
        proof: list[bytes] = []
        n, m, complete = size2, size1, True
        while m != n:
            k = _split(n)
            if m <= k:
                proof.append(self.subtree(n - k))
                n = k
            else:
                proof.append(self.subtree(k))
                n, m, complete = n - k, m - k, False
        if not complete:
            proof.append(self.subtree(n))
        proof.reverse()
        return proof
