"""Verification speed in the SDK, measured offline (no server, no chain): figures, printed by nothing.

``proofs_per_second``: RFC 9162 inclusion proofs verified per second, ``verify_inclusion`` in a
loop over 20,000 random proofs of a 1,000,000-leaf tree (target ≥ 60,000/s).
"""
from __future__ import annotations

import random
import time

from lianzheng.sdk.merkle import SHA256, MerkleTree, verify_inclusion


def proofs_per_second(size: int = 1_000_000, proofs: int = 20_000) -> float:
    """Inclusion proofs verified per second (the same measurement as ``bench ingest``)."""
    tree = MerkleTree()
    rng = random.Random(1)
    tree.extend_leaf_hashes([SHA256.hash_leaf(rng.randbytes(32)) for _ in range(size)])
    root = tree.root()
    cases = [(i, tree.leaf_hash(i), tree.inclusion_proof(i)) for i in rng.sample(range(size), proofs)]
    start = time.perf_counter()
    for index, leaf, proof in cases:
        verify_inclusion(SHA256, index, size, leaf, proof, root)
    return len(cases) / (time.perf_counter() - start)

