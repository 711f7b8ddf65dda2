"""``scripts/bench registry``: gas of one anchor with its on-chain consistency proof.

Anchors a growth of 100 leaves from 10^3, 10^6 and 10^9 leaves (each region first anchored at
that size, with an empty proof), on the embedded EVM (gas is the same on any EVM at the same
fork). Trees of identical leaves stand in for real logs: the proof's length and shape depend on
the sizes only, and their subtrees have a closed form (tests/uniform_tree.py), so 10^9 leaves
need no building. Target: at most twice the gas of an anchor without proofs (74,656) at 10^6.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from eth_account import Account

from lianzheng.chain_node.embedded import EmbeddedChain
from lianzheng.sdk.merkle import SHA256
from lianzheng.sdk.uniform_tree import UniformTree

BEFORE_PROOFS = 74_656  # anchor() gas at 10^6 leaves before it took a consistency proof
TARGET = 2 * BEFORE_PROOFS
GROWTH = 100


def run() -> None:
    chain = EmbeddedChain(Path(tempfile.mkdtemp(prefix="lz-bench-registry-")))
    dev = chain.dev
    admin = Account.create()
    chain.transfer(dev, admin.address, 10**22)
    registry = chain.contract("EvidenceRegistry", chain.deploy(admin, "EvidenceRegistry", admin.address))
    fns = registry
    tree = UniformTree(SHA256.hash_leaf(b"bench event"))
    print(f"lianzheng bench registry — anchor gas, +{GROWTH} leaves with its consistency proof (embedded EVM)")
    print(f"  {'from size':>13}  {'proof hashes':>12}  {'first anchor':>12}  {'anchor +100':>11}  target")
    for i, size in enumerate((10**3, 10**6, 10**9)):
        region, notary = 370100 + 100 * i, Account.create()
        chain.transfer(dev, notary.address, 10**20)
        chain.transact(admin, fns.tx("bindNotary", notary.address, region))
        chain.transact(notary, fns.tx("registerCheckpointKey", b"\x11" * 32, 0, f"lianzheng.notary/{region}"))
        first = chain.transact(notary, fns.tx("anchor", region, size, tree.root(size), [])).gas_used
        proof = tree.consistency_proof(size, size + GROWTH)
        grown = chain.transact(notary, fns.tx("anchor", region, size + GROWTH, tree.root(size + GROWTH),
                                              proof)).gas_used
        verdict = "ok" if grown <= TARGET else "OVER"
        print(f"  {size:>13,}  {len(proof):>12}  {first:>12,}  {grown:>11,}  "
              f"≤ {TARGET:,} (2 × {BEFORE_PROOFS:,}) {verdict}")
    chain.close()
