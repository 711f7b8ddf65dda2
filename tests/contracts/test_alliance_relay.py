"""AllianceRelay on the embedded EVM and on anvil: k-of-n acceptance, governance, equivocation."""
from __future__ import annotations

import os

import pytest

from lianzheng.alliance.relay_contract import AllianceRelay, ForeignCheckpoint, SignedAttestation
from lianzheng.chain_node import TransactionReverted

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
    assert relay.contract.read("attestersOf", *SOURCE, 10, cp.root) == [a.address, b.address]
    older = _cp(9)
    with pytest.raises(TransactionReverted, match="AllianceRelayStale"):
        relay.attest(a, older, relay.sign(a, older))
    with pytest.raises(TransactionReverted, match="AllianceRelayNotMember"):
        relay.attest(relay.outsider, _cp(11), relay.sign(relay.outsider, _cp(11)))
    forged = _cp(12)
    signed = relay.sign(a, forged)
    signature = bytearray(signed.signature)
    signature[5] ^= 1  # a damaged signature recovers someone else
    with pytest.raises(TransactionReverted, match="AllianceRelayNotMember"):
        relay.attest(a, forged, SignedAttestation(signed.member_epoch, bytes(signature)))
    with pytest.raises(TransactionReverted, match="AllianceRelayNotMember"):  # another epoch: another message
        relay.attest(a, forged, SignedAttestation(signed.member_epoch + 1, signed.signature))
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
    assert (e.tree_size, e.first_member, e.first_root, e.first_signature) == (20, a.address, honest.root,
                                                                              sig_a.signature)
    assert (e.second_member, e.second_root, e.second_signature) == (b.address, lie.root, sig_b.signature)
    assert (e.first_epoch, e.second_epoch) == (sig_a.member_epoch, sig_b.member_epoch)
    late_lie = _cp(20)  # after acceptance a conflicting root is still recorded, and changes nothing
    assert relay.attest(c, late_lie, relay.sign(c, late_lie)) is False
    assert len(relay.equivocations(*SOURCE)) == 2 and relay.latest_accepted(*SOURCE) == (20, honest.root)
    assert relay.attest(a, lie, sig_b) is False  # b's lie again: recorded once per member and size
    assert relay.equivocation_count(*SOURCE) == 2


def test_equivocations_are_read_in_pages(relay):
    a, b, c, _ = relay.members
    for size in range(40, 43):
        honest, lie = _cp(size), _cp(size)
        relay.attest(a, honest, relay.sign(a, honest))
        relay.attest(b, lie, relay.sign(b, lie))
    f = relay.contract
    assert relay.equivocation_count(*SOURCE) == 3
    assert [e[0] for e in f.read("equivocationsOf", *SOURCE, 1, 10)] == [41, 42]
    assert [e[0] for e in f.read("equivocationsOf", *SOURCE, 0, 2)] == [40, 41]
    assert f.read("equivocationsOf", *SOURCE, 3, 10) == [] and f.read("equivocationsOf", *SOURCE, 2**200, 1) == []
    assert f.read("MAX_PAGE") == 50
    assert [e.tree_size for e in relay.equivocations(*SOURCE, start=1)] == [41, 42]


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
    assert relay.contract.read("isMember", a.address) is False
    assert relay.attest(b, cp, relay.sign(b, cp)) is False  # a's attestation no longer counts
    with pytest.raises(TransactionReverted, match="AllianceRelayNotMember"):
        relay.attest(a, _cp(31), relay.sign(a, _cp(31)))
    assert relay.attest(d, cp, relay.sign(d, cp)) is True
    assert relay.contract.read("attestersOf", *SOURCE, 30, cp.root) == [b.address, d.address]


def test_a_member_gets_a_new_epoch_each_time_it_is_added(relay):
    a, b, c, d = relay.members
    epochs = [relay.member_epoch(m.address) for m in (a, b, c)]
    assert epochs == [1, 2, 3] and relay.member_epoch(d.address) == 0
    relay.set_members(relay.admin, [a.address, b.address, d.address], 2)  # a and b stay, c leaves, d joins
    assert [relay.member_epoch(m.address) for m in (a, b, c, d)] == [1, 2, 0, 4]
    relay.set_members(relay.admin, [a.address, b.address, c.address, d.address], 2)
    assert relay.member_epoch(c.address) == 5
    logs = relay.contract.logs("MemberAdded")
    assert [(e.args["member"], e.args["epoch"]) for e in logs] == [
        (a.address, 1), (b.address, 2), (c.address, 3), (d.address, 4), (c.address, 5)]


def test_confirm_accepts_a_pending_checkpoint_once_it_reaches_the_threshold(relay):
    a, b, c, _ = relay.members
    relay.set_members(relay.admin, [a.address, b.address, c.address], 3)
    cp = _cp(50)
    relay.attest(a, cp, relay.sign(a, cp))
    assert relay.attest(b, cp, relay.sign(b, cp)) is False
    with pytest.raises(TransactionReverted, match=r"AllianceRelayBelowThreshold\(2, 3\)"):
        relay.confirm(c, cp)
    with pytest.raises(TransactionReverted, match="AllianceRelayInvalidCheckpoint"):
        relay.confirm(c, _cp(0))
    relay.set_members(relay.admin, [a.address, b.address, c.address], 2)
    assert relay.confirm(relay.outsider, cp) is True  # anyone may confirm
    assert relay.latest_accepted(*SOURCE) == (50, cp.root)
    with pytest.raises(TransactionReverted, match="AllianceRelayStale"):
        relay.confirm(relay.outsider, cp)
