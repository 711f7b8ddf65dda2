"""AllianceRelay on the embedded EVM and on anvil: k-of-n acceptance, governance, equivocation."""
from __future__ import annotations

import os

import pytest

from alliance.relay import AllianceRelay, ForeignCheckpoint
from chain_node import TransactionReverted

SOURCE = (3700, "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB", 370000)


def _cp(size: int, root: bytes | None = None) -> ForeignCheckpoint:
    return ForeignCheckpoint(*SOURCE, size, root or os.urandom(32))


@pytest.fixture
def relay(chain, funded):
    admin = funded()
    members = [funded() for _ in range(4)]
    r = AllianceRelay.deploy(chain, admin, [m.address for m in members[:3]], 2)
    r.admin, r.members, r.outsider = admin, members, funded()
    return r


def test_k_distinct_members_accept_and_sizes_only_grow(relay):
    a, b, c, _ = relay.members
    cp = _cp(10)
    assert relay.attest(a, cp, relay.sign(a, cp)) is False
    with pytest.raises(TransactionReverted, match="AllianceRelayAlreadyAttested"):
        relay.attest(a, cp, relay.sign(a, cp))  # the same member twice is one attestation...
    assert relay.accepted_root(cp) is None
    assert relay.attest(c, cp, relay.sign(b, cp)) is True  # ...anyone may submit a member's signature
    assert relay.latest_accepted(*SOURCE) == (10, cp.root)
    assert relay.contract.functions.attestersOf(*SOURCE, 10, cp.root).call() == [a.address, b.address]
    older = _cp(9)
    with pytest.raises(TransactionReverted, match="AllianceRelayStale"):
        relay.attest(a, older, relay.sign(a, older))
    with pytest.raises(TransactionReverted, match="AllianceRelayNotMember"):
        relay.attest(relay.outsider, _cp(11), relay.sign(relay.outsider, _cp(11)))
    forged = _cp(12)
    signature = bytearray(relay.sign(a, forged))
    signature[5] ^= 1  # a damaged signature recovers someone else
    with pytest.raises(TransactionReverted, match="AllianceRelayNotMember"):
        relay.attest(a, forged, bytes(signature))
    with pytest.raises(TransactionReverted, match="AllianceRelayInvalidCheckpoint"):
        relay.attest(a, _cp(0), relay.sign(a, _cp(0)))


def test_equivocation_is_recorded_with_both_signed_attestations(relay):
    a, b, c, _ = relay.members
    honest, lie = _cp(20), _cp(20)
    sig_a, sig_b = relay.sign(a, honest), relay.sign(b, lie)
    relay.attest(a, honest, sig_a)
    assert relay.attest(b, lie, sig_b) is False  # conflicting root for the same size: recorded
    relay.attest(c, honest, relay.sign(c, honest))  # one liar cannot block the honest root
    assert relay.latest_accepted(*SOURCE) == (20, honest.root)
    [e] = relay.equivocations(*SOURCE)
    assert (e.tree_size, e.first_member, e.first_root, e.first_signature) == (20, a.address, honest.root, sig_a)
    assert (e.second_member, e.second_root, e.second_signature) == (b.address, lie.root, sig_b)
    late_lie = _cp(20)  # after acceptance a conflicting root is still recorded, and changes nothing
    assert relay.attest(c, late_lie, relay.sign(c, late_lie)) is False
    assert len(relay.equivocations(*SOURCE)) == 2 and relay.latest_accepted(*SOURCE) == (20, honest.root)


def test_only_the_alliance_admin_governs_members_and_threshold(relay):
    a, b, c, d = relay.members
    with pytest.raises(TransactionReverted, match="AccessControlUnauthorizedAccount"):
        relay.set_members(a, [a.address], 1)
    for members, k in (([], 1), ([a.address, a.address], 1), ([a.address], 2), ([a.address], 0)):
        with pytest.raises(TransactionReverted, match="AllianceRelayInvalidMembers"):
            relay.set_members(relay.admin, members, k)
    cp = _cp(30)
    relay.attest(a, cp, relay.sign(a, cp))
    relay.set_members(relay.admin, [b.address, c.address, d.address], 2)  # a leaves, d joins
    assert relay.contract.functions.isMember(a.address).call() is False
    assert relay.attest(b, cp, relay.sign(b, cp)) is False  # a's attestation no longer counts
    with pytest.raises(TransactionReverted, match="AllianceRelayNotMember"):
        relay.attest(a, _cp(31), relay.sign(a, _cp(31)))
    assert relay.attest(d, cp, relay.sign(d, cp)) is True
