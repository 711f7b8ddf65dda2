"""Attacks on the AllianceRelay (issue 12, item 11), each reproduced and shown refused.

Who cheats, how, what refuses it, and the test:
- anyone holding one conflicting attestation
  how: replays it to grow storage and the read's gas (6.24M gas at 203 entries before)
  refused by: one equivocation per (log, size, member); paged reads
  test: replay
- a member removed for cause, re-added later
  how: its signatures (or attestations) from before count again
  refused by: signatures bind the member epoch
  test: re_added_member
- nobody cheats: the alliance lowers k
  how: a checkpoint attested by k' < k members stays pending forever
  refused by: `confirm` recounts under the current members and threshold
  test: lowered_threshold
"""
from __future__ import annotations

import os

import pytest

from lianzheng.alliance.relay_contract import ATTEST_GAS, AllianceRelay, ForeignCheckpoint
from lianzheng.chain_node import TransactionReverted

SOURCE = (3700, "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB", 370000)


def _cp(size: int) -> ForeignCheckpoint:
    return ForeignCheckpoint(*SOURCE, size, os.urandom(32))


@pytest.fixture
def relay(chain, funded):
    admin = funded()
    members = [funded() for _ in range(3)]
    r = AllianceRelay.deploy(chain, admin, [m.address for m in members], 2)
    r.admin, r.members, r.submitter = admin, members, funded()
    return r


def _gas(relay, c, attestation) -> int:
    call = relay.contract.tx("attest", (*c.as_tuple(), attestation.member_epoch), attestation.signature)
    return relay.chain.transact(relay.submitter, call, gas=ATTEST_GAS).gas_used


def test_replayed_conflicting_attestation_stores_nothing(relay):
    a, b, c = relay.members
    honest, lie = _cp(20), ForeignCheckpoint(*SOURCE, 20, b"\x66" * 32)
    relay.attest(a, honest, relay.sign(a, honest))
    relay.attest(b, honest, relay.sign(b, honest))  # accepted
    signed_lie = relay.sign(c, lie)
    first = _gas(relay, lie, signed_lie)  # the first conflicting attestation is evidence: stored
    assert relay.equivocation_count(*SOURCE) == 1
    replays = [_gas(relay, lie, signed_lie) for _ in range(5)]
    assert relay.equivocation_count(*SOURCE) == 1  # nothing new
    assert max(replays) < 50_000 < 250_000 < first, (first, replays)
    other_lie = ForeignCheckpoint(*SOURCE, 20, b"\x67" * 32)  # the same member, another root, same size
    relay.attest(relay.submitter, other_lie, relay.sign(c, other_lie))
    assert relay.equivocation_count(*SOURCE) == 1
    assert relay.latest_accepted(*SOURCE) == (20, honest.root)
    [e] = relay.equivocations(*SOURCE)
    assert (e.second_member, e.second_root) == (c.address, lie.root)
    print(f"equivocation: first {first:,} gas, replay {max(replays):,} gas")


def test_signature_of_a_removed_and_re_added_member_no_longer_counts(relay):
    a, b, c = relay.members
    cp = _cp(30)
    old = relay.sign(a, cp)  # signed in a's first membership
    relay.attest(relay.submitter, cp, old)
    relay.set_members(relay.admin, [b.address, c.address], 2)  # a removed ...
    relay.set_members(relay.admin, [a.address, b.address, c.address], 2)  # ... and added again
    assert relay.contract.read("attestersOf", *SOURCE, 30, cp.root) == []  # its attestation is gone
    with pytest.raises(TransactionReverted, match=f"AllianceRelayWrongEpoch\\({a.address.lower()}, 1, 4\\)"):
        relay.attest(relay.submitter, cp, old)  # its old signature is refused, not counted
    assert relay.attest(relay.submitter, cp, relay.sign(b, cp)) is False  # b alone: 1 of 2, a's old one is not counted
    later = _cp(31)
    with pytest.raises(TransactionReverted, match="AllianceRelayWrongEpoch"):
        relay.attest(relay.submitter, later, relay.sign(a, later, epoch=1))  # nor any new message of the old epoch
    assert relay.attest(relay.submitter, cp, relay.sign(a, cp)) is True  # a, signing anew in epoch 4, counts
    assert relay.contract.read("attestersOf", *SOURCE, 30, cp.root) == [b.address, a.address]


def test_lowering_the_threshold_lets_a_pending_checkpoint_be_confirmed(relay):
    a, b, c = relay.members
    relay.set_members(relay.admin, [a.address, b.address, c.address], 3)
    cp = _cp(40)
    relay.attest(relay.submitter, cp, relay.sign(a, cp))
    assert relay.attest(relay.submitter, cp, relay.sign(b, cp)) is False  # 2 of 3: pending
    with pytest.raises(TransactionReverted, match=r"AllianceRelayBelowThreshold\(2, 3\)"):
        relay.confirm(relay.submitter, cp)
    relay.set_members(relay.admin, [a.address, b.address, c.address], 2)
    assert relay.accepted_root(cp) is None  # lowering alone accepts nothing ...
    assert relay.confirm(relay.submitter, cp) is True  # ... a recount under k = 2 does
    assert relay.latest_accepted(*SOURCE) == (40, cp.root)
