"""EvidenceRegistry on a real EVM: roles, regions, growth with consistency proofs, key periods,
rebinding, gas, on-chain inclusion."""
from __future__ import annotations

import random

import pytest
from eth_account import Account

from lianzheng.chain_node import TransactionReverted
from lianzheng.sdk.contract import CallReverted
from lianzheng.sdk.merkle import SHA256, MerkleTree
from lianzheng.sdk.uniform_tree import UniformTree

KEY = b"\x11" * 32
NEW_KEY = b"\x33" * 32
UNIFORM = UniformTree(SHA256.hash_leaf(b"bench event"))


@pytest.fixture
def registry(chain, funded):
    admin, notary = funded(), funded()
    address = chain.deploy(admin, "EvidenceRegistry", admin.address)
    reg = chain.contract("EvidenceRegistry", address)
    chain.transact(admin, reg.tx("bindNotary", notary.address, 370000))
    chain.transact(notary, reg.tx("registerCheckpointKey", KEY, 0, "lianzheng.notary/370000"))
    reg.admin, reg.notary = admin, notary
    return reg


def _tree(size: int, seed: int = 62) -> MerkleTree:
    rng, tree = random.Random(seed), MerkleTree()
    for _ in range(size):
        tree.append(rng.randbytes(20))
    return tree


def _fresh_notary(chain):
    account = Account.create()
    chain.fund(account.address, 10**20)
    return account


def _reverts(chain, account, call, error: str):
    with pytest.raises(TransactionReverted) as info:
        chain.transact(account, call)
    assert info.value.reason.startswith(error), info.value.reason


def _grow(chain, reg, tree, old: int, new: int, region: int = 370000, account=None):
    """Anchor ``tree`` at ``new`` with the consistency proof from ``old`` (0: the first anchor)."""
    proof = tree.consistency_proof(old, new) if old else []
    return chain.transact(account or reg.notary, reg.tx("anchor", region, new, tree.root(new), proof))


def test_anchor_records_root_and_sizes_must_grow(chain, registry):
    f, n, tree = registry, registry.notary, _tree(9)
    out = _grow(chain, registry, tree, 0, 5)
    root, at, block = f.read("checkpointAt", 370000, 5)
    assert (bytes(root), at, block) == (tree.root(5), out.block_time, out.block_number)
    assert f.read("latestCheckpoint", 370000)[0] == 5
    _reverts(chain, n, f.tx("anchor", 370000, 5, tree.root(5), []), "EvidenceRegistryTreeSizeNotGrowing(370000, 5, 5)")
    _reverts(chain, n, f.tx("anchor", 370000, 4, tree.root(4), []), "EvidenceRegistryTreeSizeNotGrowing")
    _grow(chain, registry, tree, 5, 9)
    assert bytes(f.read("checkpointAt", 370000, 5)[0]) == tree.root(5)
    logs = registry.logs("CheckpointAnchored")
    assert [(e.args["treeSize"], bytes(e.args["root"])) for e in logs] == [(5, tree.root(5)), (9, tree.root(9))]


def test_first_anchor_takes_an_empty_proof(chain, registry):
    f, tree = registry, _tree(4)
    _reverts(chain, registry.notary, f.tx("anchor", 370000, 4, tree.root(4), [tree.root(2)]),
             "EvidenceRegistryInconsistentCheckpoint(370000, 0, " + "00" * 32 + ", 4, ")


def test_consistency_checked_on_chain_agrees_with_the_python_verifier(chain, registry):
    f, tree = registry, _tree(70)
    rng = random.Random(9162)
    accepted = rejected = 0
    pairs = [(1, 2), (2, 3), (3, 8), (4, 70), (7, 8), (8, 9), (31, 33), (32, 64)]
    pairs += [tuple(sorted(rng.sample(range(1, 71), 2))) for _ in range(12)]
    for i, (old, new) in enumerate(pairs):
        region, fresh = 620100 + i * 100, _fresh_notary(chain)
        chain.transact(registry.admin, f.tx("bindNotary", fresh.address, region))
        chain.transact(fresh, f.tx("registerCheckpointKey", KEY, 0, f"lianzheng.notary/{region}"))
        _grow(chain, registry, tree, 0, old, region, fresh)
        proof = tree.consistency_proof(old, new)
        assert f.read("anchor", region, new, tree.root(new), proof, sender=fresh.address) == ()
        accepted += 1
        mutations = {"wrong-new-root": (tree.root(new - 1), proof), "proof-truncated": (tree.root(new), proof[:-1]),
                     "trailing-garbage": (tree.root(new), [*proof, b"\x07" * 32]),
                     "modified-proof@0": (tree.root(new), [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]])}
        for name, (root, bad) in mutations.items():
            with pytest.raises(CallReverted) as info:
                f.read("anchor", region, new, root, bad, sender=fresh.address)
            assert info.value.reason.startswith("EvidenceRegistryInconsistentCheckpoint"), name
            rejected += 1
    assert accepted == 20 and rejected == 80


def test_only_the_regions_notary_anchors(chain, registry, funded):
    f = registry
    stranger, city = funded(), funded()
    _reverts(chain, stranger, f.tx("anchor", 370000, 1, b"\x01" * 32, []), "AccessControlUnauthorizedAccount")
    chain.transact(registry.admin, f.tx("bindNotary", city.address, 370100))
    chain.transact(city, f.tx("registerCheckpointKey", b"\x22" * 32, 0, "lianzheng.notary/370100"))
    _reverts(chain, city, f.tx("anchor", 370000, 1, b"\x01" * 32, []), "EvidenceRegistryNotRegionNotary")
    chain.transact(city, f.tx("anchor", 370100, 1, b"\x03" * 32, []))
    _reverts(chain, registry.notary, f.tx("anchor", 370100, 2, b"\x01" * 32, []), "EvidenceRegistryNotRegionNotary")


def test_binding_rules(chain, registry, funded):
    f = registry
    other = funded()
    _reverts(chain, other, f.tx("bindNotary", other.address, 370200), "AccessControlUnauthorizedAccount")
    _reverts(chain, registry.admin, f.tx("bindNotary", other.address, 370000), "EvidenceRegistryRegionTaken")
    _reverts(chain, registry.admin, f.tx("bindNotary", registry.notary.address, 370200), "EvidenceRegistryAccountBound")
    _reverts(chain, registry.admin, f.tx("bindNotary", other.address, 99), "EvidenceRegistryInvalidRegion(99)")
    _reverts(chain, registry.admin, f.tx("bindNotary", other.address, 900000), "EvidenceRegistryInvalidRegion")
    _reverts(chain, registry.notary, f.tx("registerCheckpointKey", KEY, 0, "x"), "EvidenceRegistryKeyAlreadyRegistered")
    chain.transact(registry.admin, f.tx("bindNotary", other.address, 620400))
    _reverts(chain, other, f.tx("anchor", 620400, 1, b"\x01" * 32, []), "EvidenceRegistryKeyNotRegistered(620400)")
    _reverts(chain, other, f.tx("registerCheckpointKey", b"\x00" * 32, 0, "x"), "EvidenceRegistryInvalidKey")
    _reverts(chain, other, f.tx("registerCheckpointKey", KEY, 0, ""), "EvidenceRegistryInvalidKey")
    notary, key, alg, origin, latest = f.read("logOf", 370000)
    assert (notary, bytes(key), alg, origin, latest) == (registry.notary.address, KEY, 0,
                                                         "lianzheng.notary/370000", 0)
    assert f.read("regionOf", registry.notary.address) == 370000
    unbound = funded()  # the role alone, granted by the admin, binds no region
    chain.transact(registry.admin, f.tx("grantRole", f.read("NOTARY_ROLE"), unbound.address))
    _reverts(chain, unbound, f.tx("registerCheckpointKey", KEY, 0, "x"), "EvidenceRegistryNotRegionNotary")


def test_only_the_registrar_names_a_regions_rule_contracts(chain, registry, funded):
    """A witness counts rule outcomes only from the contracts bound here: a copy of the same code
    elsewhere (deployed by anyone, the notary included) counts for nothing."""
    f = registry
    tender = chain.deploy(registry.admin, "TenderRules", registry.admin.address)
    draw = chain.deploy(registry.admin, "ExpertDraw", registry.admin.address, tender)
    assert f.read("rulesOf", 370000) == []
    _reverts(chain, registry.notary, f.tx("bindRules", 370000, tender, draw), "AccessControlUnauthorizedAccount")
    _reverts(chain, registry.admin, f.tx("bindRules", 370000, registry.notary.address, draw),
             "EvidenceRegistryNotAContract")
    _reverts(chain, registry.admin, f.tx("bindRules", 99, tender, draw), "EvidenceRegistryInvalidRegion(99)")
    chain.transact(registry.admin, f.tx("bindRules", 370000, tender, draw))
    assert f.read("rulesOf", 370000) == [(tender, draw)] and f.read("rulesOf", 370100) == []
    newer = chain.deploy(registry.admin, "TenderRules", registry.admin.address)  # an upgrade adds, keeps the old
    chain.transact(registry.admin, f.tx("bindRules", 370000, newer, draw))
    assert f.read("rulesOf", 370000) == [(tender, draw), (newer, draw)]
    for _ in range(f.read("MAX_RULE_BINDINGS") - 2):
        chain.transact(registry.admin, f.tx("bindRules", 370000, newer, draw))
    _reverts(chain, registry.admin, f.tx("bindRules", 370000, newer, draw), "EvidenceRegistryTooManyRuleBindings")


def test_key_periods_choose_the_key_by_size(chain, registry):
    f, n, tree = registry, registry.notary, _tree(12)
    _grow(chain, registry, tree, 0, 5)
    _reverts(chain, n, f.tx("rotateCheckpointKey", NEW_KEY, 5), "EvidenceRegistryInvalidKeyRotation(370000, 5, 6)")
    _reverts(chain, n, f.tx("rotateCheckpointKey", KEY, 6), "EvidenceRegistryInvalidKey")
    _reverts(chain, n, f.tx("rotateCheckpointKey", NEW_KEY, 2**40 + 1), "EvidenceRegistryInvalidKeyRotation")
    chain.transact(n, f.tx("rotateCheckpointKey", NEW_KEY, 8))
    [rotated] = registry.logs("CheckpointKeyRotated")
    assert (bytes(rotated.args["checkpointKey"]), rotated.args["fromSize"]) == (NEW_KEY, 8)
    assert [bytes(f.read("checkpointKeyAt", 370000, s)) for s in (0, 1, 5, 7, 8, 9, 2**40)] == [KEY] * 4 + [NEW_KEY] * 3
    assert bytes(f.read("logOf", 370000)[1]) == NEW_KEY  # logOf names the newest key
    _reverts(chain, n, f.tx("rotateCheckpointKey", b"\x44" * 32, 8), "EvidenceRegistryInvalidKeyRotation(370000, 8, 9)")
    third = b"\x44" * 32
    chain.transact(n, f.tx("rotateCheckpointKey", third, 11))
    assert [bytes(f.read("checkpointKeyAt", 370000, s)) for s in (7, 10, 11)] == [KEY, NEW_KEY, third]
    with pytest.raises(CallReverted) as info:
        f.read("checkpointKeyAt", 370100, 1)
    assert info.value.reason == "EvidenceRegistryKeyNotRegistered(370100)"


def test_rebind_moves_the_region_to_the_account_that_accepts(chain, registry, funded):
    f, old, tree = registry, registry.notary, _tree(6)
    new, intruder = funded(), funded()
    _grow(chain, registry, tree, 0, 3)
    _reverts(chain, new, f.tx("acceptRebind", 370000), "EvidenceRegistryNotProposedNotary")
    _reverts(chain, new, f.tx("proposeRebind", 370000, new.address), "AccessControlUnauthorizedAccount")
    _reverts(chain, registry.admin, f.tx("proposeRebind", 370100, new.address), "EvidenceRegistryRegionUnbound(370100)")
    _reverts(chain, registry.admin, f.tx("proposeRebind", 370000, old.address), "EvidenceRegistryAccountBound")
    chain.transact(registry.admin, f.tx("proposeRebind", 370000, new.address))
    assert f.read("proposedNotaryOf", 370000) == new.address
    _reverts(chain, intruder, f.tx("acceptRebind", 370000), "EvidenceRegistryNotProposedNotary")
    _grow(chain, registry, tree, 3, 4, account=old)  # nothing changed before the acceptance
    chain.transact(new, f.tx("acceptRebind", 370000))
    role = f.read("NOTARY_ROLE")
    assert (f.read("hasRole", role, old.address), f.read("hasRole", role, new.address)) == (False, True)
    assert (f.read("regionOf", old.address), f.read("regionOf", new.address)) == (0, 370000)
    assert f.read("logOf", 370000)[0] == new.address
    assert f.read("proposedNotaryOf", 370000) == "0x" + "00" * 20
    _reverts(chain, old, f.tx("anchor", 370000, 5, tree.root(5), tree.consistency_proof(4, 5)),
             "AccessControlUnauthorizedAccount")
    _grow(chain, registry, tree, 4, 6, account=new)  # the same log goes on, under the new account
    [proposed] = registry.logs("NotaryRebindProposed")
    [rebound] = registry.logs("NotaryRebound")
    assert (proposed.args["current"], proposed.args["proposed"]) == (old.address, new.address)
    assert (rebound.args["previous"], rebound.args["notary"]) == (old.address, new.address)


def test_anchor_gas_grows_with_the_proof_only(chain, registry):
    """+100 leaves from 10^3, 10^6 and 10^9 leaves (identical leaves: closed-form subtrees);
    target ≤ 2 × 74,656 (the gas of an anchor before consistency proofs) at 10^6."""
    f = registry
    gas = {}
    for i, size in enumerate((10**3, 10**6, 10**9)):
        region, account = 370100 + i * 100, _fresh_notary(chain)
        chain.transact(registry.admin, f.tx("bindNotary", account.address, region))
        chain.transact(account, f.tx("registerCheckpointKey", KEY, 0, f"lianzheng.notary/{region}"))
        _grow(chain, registry, UNIFORM, 0, size, region, account)
        gas[size] = _grow(chain, registry, UNIFORM, size, size + 100, region, account).gas_used
    assert gas[10**6] <= 2 * 74_656, gas
    assert gas[10**3] < gas[10**6] < gas[10**9] < 2 * gas[10**3], gas


def test_tree_size_is_bounded(chain, registry):
    f, n = registry, registry.notary
    assert f.read("MAX_TREE_SIZE") == 2**40
    _reverts(chain, n, f.tx("anchor", 370000, 2**64 - 1, b"\x01" * 32, []),
             f"EvidenceRegistryTreeSizeTooLarge({2**64 - 1}, {2**40})")
    chain.transact(n, f.tx("anchor", 370000, 2**40, UNIFORM.root(2**40), []))


def test_on_chain_inclusion_check_agrees_with_the_python_verifier(chain, registry):
    f = registry
    tree = _tree(37)
    _grow(chain, registry, tree, 0, 37)
    for index in (0, 1, 17, 31, 36):
        proof = tree.inclusion_proof(index)
        assert f.read("verifyInclusion", 370000, 37, index, tree.leaf_hash(index), proof) is True
        assert f.read("verifyInclusion", 370000, 37, index, tree.leaf_hash((index + 1) % 37), proof) is False
        assert f.read("verifyInclusion", 370000, 37, (index + 1) % 37, tree.leaf_hash(index), proof) is False
        assert f.read("verifyInclusion", 370000, 37, index, tree.leaf_hash(index), proof[:-1]) is False
    with pytest.raises(CallReverted) as info:
        f.read("verifyInclusion", 370000, 36, 0, tree.leaf_hash(0), tree.inclusion_proof(0, 36))
    assert info.value.reason == "EvidenceRegistryUnknownCheckpoint(370000, 36)"


def test_sm3_logs_carry_the_proof_unchecked_and_have_no_inclusion_view(chain, registry, funded):
    f = registry
    sm3 = funded()
    chain.transact(registry.admin, f.tx("bindNotary", sm3.address, 150700))
    chain.transact(sm3, f.tx("registerCheckpointKey", KEY, 1, "lianzheng.notary/150700"))
    chain.transact(sm3, f.tx("anchor", 150700, 1, b"\x01" * 32, []))
    chain.transact(sm3, f.tx("anchor", 150700, 3, b"\x03" * 32, [b"\x09" * 32]))  # no SM3 on chain: not checked
    assert f.read("logOf", 150700)[2] == 1
    with pytest.raises(CallReverted) as info:
        f.read("verifyInclusion", 150700, 1, 0, b"\x01" * 32, [])
    assert info.value.reason == "EvidenceRegistryNotSha256Log(150700)"
