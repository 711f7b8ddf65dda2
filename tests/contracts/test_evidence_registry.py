"""EvidenceRegistry on a real EVM: roles, regions, growth, constant gas, on-chain inclusion."""
from __future__ import annotations

import random

import pytest

from chain_node import TransactionReverted
from sdk.merkle import MerkleTree

KEY = b"\x11" * 32


@pytest.fixture
def registry(chain, funded):
    admin, notary = funded(), funded()
    address = chain.deploy(admin, "EvidenceRegistry", admin.address)
    reg = chain.contract("EvidenceRegistry", address)
    chain.transact(admin, reg.functions.bindNotary(notary.address, 370000))
    chain.transact(notary, reg.functions.registerCheckpointKey(KEY, 0, "lianzheng.notary/370000"))
    reg.admin, reg.notary = admin, notary
    return reg


def _reverts(chain, account, call, error: str):
    with pytest.raises(TransactionReverted) as info:
        chain.transact(account, call)
    assert info.value.reason.startswith(error), info.value.reason


def test_anchor_records_root_and_sizes_must_grow(chain, registry):
    f, n = registry.functions, registry.notary
    out = chain.transact(n, f.anchor(370000, 5, b"\x01" * 32))
    root, at, block = f.checkpointAt(370000, 5).call()
    assert (bytes(root), at, block) == (b"\x01" * 32, out.block_time, out.block_number)
    assert f.latestCheckpoint(370000).call()[0] == 5
    _reverts(chain, n, f.anchor(370000, 5, b"\x02" * 32), "EvidenceRegistryTreeSizeNotGrowing(370000, 5, 5)")
    _reverts(chain, n, f.anchor(370000, 4, b"\x02" * 32), "EvidenceRegistryTreeSizeNotGrowing")
    assert bytes(f.checkpointAt(370000, 5).call()[0]) == b"\x01" * 32
    logs = registry.events.CheckpointAnchored().get_logs(from_block=0)
    assert [(e["args"]["treeSize"], bytes(e["args"]["root"])) for e in logs] == [(5, b"\x01" * 32)]


def test_only_the_regions_notary_anchors(chain, registry, funded):
    f = registry.functions
    stranger, city = funded(), funded()
    _reverts(chain, stranger, f.anchor(370000, 1, b"\x01" * 32), "EvidenceRegistryNotRegionNotary")
    chain.transact(registry.admin, f.bindNotary(city.address, 370100))
    chain.transact(city, f.registerCheckpointKey(b"\x22" * 32, 0, "lianzheng.notary/370100"))
    _reverts(chain, city, f.anchor(370000, 1, b"\x01" * 32), "EvidenceRegistryNotRegionNotary")
    chain.transact(city, f.anchor(370100, 1, b"\x03" * 32))
    _reverts(chain, registry.notary, f.anchor(370100, 2, b"\x01" * 32), "EvidenceRegistryNotRegionNotary")


def test_binding_rules(chain, registry, funded):
    f = registry.functions
    other = funded()
    _reverts(chain, other, f.bindNotary(other.address, 370200), "AccessControlUnauthorizedAccount")
    _reverts(chain, registry.admin, f.bindNotary(other.address, 370000), "EvidenceRegistryRegionTaken")
    _reverts(chain, registry.admin, f.bindNotary(registry.notary.address, 370200), "EvidenceRegistryAccountBound")
    _reverts(chain, registry.admin, f.bindNotary(other.address, 99), "EvidenceRegistryInvalidRegion(99)")
    _reverts(chain, registry.admin, f.bindNotary(other.address, 900000), "EvidenceRegistryInvalidRegion")
    _reverts(chain, registry.notary, f.registerCheckpointKey(KEY, 0, "x"), "EvidenceRegistryKeyAlreadyRegistered")
    chain.transact(registry.admin, f.bindNotary(other.address, 620400))
    _reverts(chain, other, f.anchor(620400, 1, b"\x01" * 32), "EvidenceRegistryKeyNotRegistered(620400)")
    _reverts(chain, other, f.registerCheckpointKey(b"\x00" * 32, 0, "x"), "EvidenceRegistryInvalidKey")
    _reverts(chain, other, f.registerCheckpointKey(KEY, 0, ""), "EvidenceRegistryInvalidKey")
    notary, key, alg, origin, latest = f.logOf(370000).call()
    assert (notary, bytes(key), alg, origin, latest) == (registry.notary.address, KEY, 0,
                                                         "lianzheng.notary/370000", 0)
    assert f.regionOf(registry.notary.address).call() == 370000


def test_anchor_gas_does_not_depend_on_batch_size(chain, registry):
    f, n = registry.functions, registry.notary
    chain.transact(n, f.anchor(370000, 1, b"\x01" * 32))
    small = chain.transact(n, f.anchor(370000, 2, b"\x02" * 32)).gas_used
    huge = chain.transact(n, f.anchor(370000, 10_000_000_000, b"\x03" * 32)).gas_used
    # Only calldata bytes of the larger number differ (16 gas per non-zero byte).
    assert abs(huge - small) <= 100, (small, huge)
    assert small < 100_000


def test_on_chain_inclusion_check_agrees_with_the_python_verifier(chain, registry):
    f, n = registry.functions, registry.notary
    rng = random.Random(62)
    tree = MerkleTree()
    for _ in range(37):
        tree.append(rng.randbytes(20))
    chain.transact(n, f.anchor(370000, 37, tree.root()))
    for index in (0, 1, 17, 31, 36):
        proof = tree.inclusion_proof(index)
        assert f.verifyInclusion(370000, 37, index, tree.leaf_hash(index), proof).call() is True
        assert f.verifyInclusion(370000, 37, index, tree.leaf_hash((index + 1) % 37), proof).call() is False
        assert f.verifyInclusion(370000, 37, (index + 1) % 37, tree.leaf_hash(index), proof).call() is False
        assert f.verifyInclusion(370000, 37, index, tree.leaf_hash(index), proof[:-1]).call() is False
    with pytest.raises(Exception) as info:
        f.verifyInclusion(370000, 36, 0, tree.leaf_hash(0), tree.inclusion_proof(0, 36)).call()
    assert chain.decode_error(info.value) == "EvidenceRegistryUnknownCheckpoint(370000, 36)"


def test_inclusion_view_refuses_sm3_logs(chain, registry, funded):
    f = registry.functions
    sm3 = funded()
    chain.transact(registry.admin, f.bindNotary(sm3.address, 150700))
    chain.transact(sm3, f.registerCheckpointKey(KEY, 1, "lianzheng.notary/150700"))
    chain.transact(sm3, f.anchor(150700, 1, b"\x01" * 32))
    assert f.logOf(150700).call()[2] == 1
    with pytest.raises(Exception) as info:
        f.verifyInclusion(150700, 1, 0, b"\x01" * 32, []).call()
    assert chain.decode_error(info.value) == "EvidenceRegistryNotSha256Log(150700)"
