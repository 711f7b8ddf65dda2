"""Attacks on the tender procedure (issue 13), each reproduced against TenderRules and refused.

Who could cheat, and how it is refused:
- another centre, or any writer's account, acts on a section it did not open: NotOwner;
- a centre opens with too short a bidding period, or opens (seals) before the deadline, or weeks
  after it: the profile's period and the seal/opening windows are contract code;
- a centre opens with two bids: the seal fails the section, nothing is decrypted;
- a centre skips a bid, or marks it undecryptable to punish the bidder: closing needs every
  entry settled, the cause of an undecryptable entry is derived from the holders' releases, and
  the first half of the opening window is the bidders' own to decrypt their bids;
- a centre registers another region's company, or rotates a bidder's key to void its bid;
- the notary leaves an entry out of the box: the bidder's signed receipt proves it;
- a late entry (received after the deadline) is put in the box: it cannot be opened;
- rejecting all bids without the committee: refused;
- a centre names key holders it controls, or registers a key for an honest holder: holders are
  named by the rules admin and register their own keys under their signature.
"""
from __future__ import annotations

import pytest
from eth_account import Account

from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.tender.box import SealedBox, check_receipt
from lianzheng.rules.tender.crypto import HolderKey, new_holder_key, public_bytes
from lianzheng.rules.tender.sealing import BoxEntry
from lianzheng.sdk.errors import VerificationError
from tests.rules.tender_flow import REGION, deploy_tender


@pytest.fixture
def tender(chain, funded):
    return deploy_tender(chain, funded)


def _sealed_tender(t, bidders=None):
    t.open()
    for b in bidders or t.bidders:
        t.submit(b)
    t.at_deadline()
    assert t.seal() == "sealed"
    return t


def test_only_the_owning_centre_acts_on_its_section(tender, funded):
    t = tender
    t.open()
    other_centre = funded()
    t.rules.grant_centre(t.admin, REGION, other_centre.address)  # same region, another trading system
    for account in (other_centre, funded()):
        with pytest.raises(RuleRejected, match="NotOwner"):
            t.rules.extend_deadline(account, t.section_id, t.rules.section(t.section_id).deadline + 60, "mine now")
    for b in t.bidders:
        t.submit(b)
    t.at_deadline()
    with pytest.raises(RuleRejected, match="NotOwner"):
        t.rules.seal_box(other_centre, t.section_id, len(t.box), t.box.root())


def test_a_centre_cannot_choose_who_holds_the_keys_nor_their_keys(tender, funded):
    """Holders are named by the rules admin and register their own X25519 keys: a centre that puts
    accounts of its own (or a key it controls) among the holders is refused on chain."""
    t = tender
    mine = funded()
    key = public_bytes(new_holder_key())
    with pytest.raises(RuleRejected, match="HolderWithoutKey"):  # nobody named it a holder
        t.rules.set_holder_key(t.centre, mine.address, key, t.rules.sign_holder_key(mine, key))
    with pytest.raises(RuleRejected, match="AccessControlUnauthorizedAccount"):  # naming is the admin's
        t.rules.grant_holder(t.centre, mine.address)
    honest = t.holders[0]
    with pytest.raises(RuleRejected, match="HolderWithoutKey"):  # its key, not under its signature
        t.rules.set_holder_key(t.centre, honest.account.address, key, t.rules.sign_holder_key(mine, key))
    deadline = t.chain.block_time() + 3600
    holders = [h.key for h in t.holders[:1]] + [HolderKey(mine.address, key)]
    with pytest.raises(RuleRejected, match="HolderWithoutKey"):
        t.rules.open_section(t.centre, REGION, "P-2026-7", "S-mine", "test", deadline, holders, 2)


def test_the_profile_bidding_period_binds_every_centre(tender):
    t = tender
    now = t.chain.block_time()
    with pytest.raises(RuleRejected, match="BiddingPeriodTooShort"):
        t.rules.open_section(t.centre, REGION, "P-1", "S-short", "engineering", now + 19 * 86400,
                             [h.key for h in t.holders], 2)
    t.rules.open_section(t.centre, REGION, "P-1", "S-ok", "engineering", now + 21 * 86400,
                         [h.key for h in t.holders], 2)


def test_no_sealing_before_the_deadline_and_none_weeks_after(tender, chain):
    t = tender
    t.open()
    for b in t.bidders:
        t.submit(b)
    with pytest.raises(RuleRejected, match="OutsideSealWindow"):
        t.seal()
    deadline = t.rules.section(t.section_id).deadline
    chain.set_next_block_time(deadline + 301)
    with pytest.raises(RuleRejected, match="OutsideSealWindow"):
        t.seal()
    t.rules.fail_unsealed(t.holders[0].account, t.section_id)  # anyone may
    info = t.rules.section(t.section_id)
    assert (info.state, info.fail_reason) == ("failed", "not_sealed")


def test_the_deadline_moves_only_later_and_only_before_it(tender, chain):
    t = tender
    t.open()
    deadline = t.rules.section(t.section_id).deadline
    with pytest.raises(RuleRejected, match="DeadlineNotLater"):
        t.rules.extend_deadline(t.centre, t.section_id, deadline - 10, "earlier")
    t.rules.extend_deadline(t.centre, t.section_id, deadline + 600, "clarification No. 2 changes the quantities")
    chain.set_next_block_time(deadline + 600)
    with pytest.raises(RuleRejected, match="BidDeadlinePassed"):
        t.rules.extend_deadline(t.centre, t.section_id, deadline + 1200, "too late")


def test_opening_after_the_grace_is_refused_and_the_rest_expires_as_others_fault(tender, chain):
    t = _sealed_tender(tender)
    released = [t.release(h) for h in t.holders[:2]]
    t.open_bid(0, released)
    deadline = t.rules.section(t.section_id).deadline
    chain.set_next_block_time(deadline + 1801)
    with pytest.raises(RuleRejected, match="OutsideOpeningWindow"):
        t.open_bid(1, released)
    info = t.rules.expire_opening(t.holders[0].account, t.section_id)  # anyone
    assert (info.state, info.valid, info.settled) == ("evaluation", 1, 4)
    assert [t.rules.bid(t.section_id, i)["state"] for i in range(4)] == ["valid"] + ["withdrawn"] * 3


def test_closing_is_refused_while_an_entry_is_unsettled(tender):
    t = _sealed_tender(tender)
    released = [t.release(h) for h in t.holders[:2]]
    for i in range(3):
        t.open_bid(i, released)
    with pytest.raises(RuleRejected, match="UnsettledBids"):
        t.rules.close_opening(t.centre, t.section_id)


def test_the_cause_of_an_undecryptable_bid_is_not_the_centres_choice(tender, chain):
    t = _sealed_tender(tender)
    deadline = t.rules.section(t.section_id).deadline
    with pytest.raises(RuleRejected, match="TooEarlyToSettle"):  # the first half is the bidders'
        t.mark_undecryptable(0)
    t.release(t.holders[0])  # 1 of 3 released, threshold 2: the key was not there
    chain.set_next_block_time(deadline + 901)
    assert t.mark_undecryptable(0) == "withdrawn"
    t.release(t.holders[1])  # now 2: a file that still does not open is the bidder's doing
    assert t.mark_undecryptable(1) == "revoked"


def test_a_bidder_opens_its_own_bid_itself(tender):
    t = _sealed_tender(tender)
    released = [t.release(h) for h in t.holders[:2]]
    stranger = t.holders[2].account  # not the owner: any account may submit an opening the bidder holds
    assert t.open_bid(2, released, opener=stranger) == "valid"


def test_inconsistent_means_the_bidders_own_file_against_its_own_commitment(tender, chain):
    """Nobody records "inconsistent" by claim: the file key must be the one the bidder signed, the
    first half of the window only consistent openings pass (the bidder's time to open its own),
    and afterwards only the owner records it, with the key public so anyone re-checks."""
    t = _sealed_tender(tender)
    t.release(t.holders[0]), t.release(t.holders[1])
    bid = t.sealed[0]
    wrong = t.opening_of(0, bid.file_key, clear_hash=bytes(32))
    with pytest.raises(RuleRejected, match="InconsistentTooEarly"):
        t.rules.open_bid(t.centre, t.section_id, 0, t.box.entries[0], t.box.inclusion(0), wrong)
    with pytest.raises(RuleRejected, match="SealMismatch"):  # not the key the bidder signed
        t.rules.open_bid(t.centre, t.section_id, 0, t.box.entries[0], t.box.inclusion(0),
                         t.opening_of(0, bytes(16), clear_hash=bytes(32)))
    chain.set_next_block_time(t.rules.section(t.section_id).deadline + 901)
    with pytest.raises(RuleRejected, match="NotOwner"):
        t.rules.open_bid(t.holders[2].account, t.section_id, 0, t.box.entries[0], t.box.inclusion(0), wrong)
    state = t.rules.open_bid(t.centre, t.section_id, 0, t.box.entries[0], t.box.inclusion(0), wrong)
    assert state == "inconsistent"  # re-checkable by anyone holding the ciphertext: fileKey is published
    [event] = t.rules.contract.logs("BidFileInconsistent", sectionId=t.section_id)
    assert bytes(event.args["fileKey"]) == bid.file_key


def test_an_entry_is_opened_only_with_its_bidders_identity_and_signature(tender):
    t = _sealed_tender(tender)
    released = [t.release(h) for h in t.holders[:2]]
    good = t.opening_of(0, t.sealed[0].file_key)
    ident = good.identity
    for forged_id in (ident.__class__(**{**ident.__dict__, "bidder_id": t.bidders[1].bidder_id}),
                      ident.__class__(**{**ident.__dict__, "signature": t.sealed[1].signature})):
        forged = good.__class__(**{**good.__dict__, "identity": forged_id})
        with pytest.raises(RuleRejected, match="WrongIdentity|InvalidSignature"):
            t.rules.open_bid(t.centre, t.section_id, 0, t.box.entries[0], t.box.inclusion(0), forged)
    assert t.open_bid(0, released) == "valid"


def test_registries_are_per_region_and_a_rotation_cannot_void_a_bid(tender, funded):
    t = tender
    with pytest.raises(RuleRejected, match="AccessControlUnauthorizedAccount"):
        t.rules.register_bidder(t.centre, 620400, b"\x07" * 32, b"\x08" * 32, Account.create().address)
    t.open()
    for b in t.bidders:
        t.submit(b)
    t.rules.rotate_bidder_key(t.centre, REGION, t.bidders[0].bidder_id, Account.create().address)
    t.rules.revoke_bidder(t.centre, REGION, t.bidders[1].bidder_id)
    t.at_deadline()
    t.seal()
    released = [t.release(h) for h in t.holders[:2]]
    assert t.open_bid(0, released) == "valid"  # received before the rotation: the key was the bidder's
    assert t.open_bid(1, released) == "valid"
    events = t.rules.contract.logs("BidderKeyRotated") + t.rules.contract.logs("BidderRevoked")
    assert len(events) == 2


def test_a_late_entry_cannot_be_opened(tender, chain):
    t = tender
    t.open()
    for b in t.bidders[:3]:
        t.submit(b)
    t.at_deadline()
    chain.fund(Account.create().address, 1)  # a block at the deadline
    t.submit(t.bidders[3])  # received at the deadline: late
    t.seal()
    released = [t.release(h) for h in t.holders[:2]]
    with pytest.raises(RuleRejected, match="BidDeadlinePassed"):
        t.open_bid(3, released)


def test_an_omitted_entry_is_proven_by_the_bidders_receipt(tender):
    t = tender
    t.open()
    for b in t.bidders:
        t.submit(b)
    receipt, domain = t.receipts[2], t.rules.domain()
    assert not {"index", "box_size", "box_root"} & set(receipt.to_json())  # a bidder learns no count from it
    assert check_receipt(receipt, t.centre.address, domain, len(t.box), t.box.root(), t.box.entries) == 2
    # the notary seals a box without the third entry, and publishes it
    pruned = SealedBox(t.section_id, domain, [e for i, e in enumerate(t.box.entries) if i != 2])
    with pytest.raises(VerificationError, match="omitted"):
        check_receipt(receipt, t.centre.address, domain, len(pruned), pruned.root(), pruned.entries)
    # ... or seals the pruned box but publishes the honest entries: they are not the sealed box
    with pytest.raises(VerificationError, match="not the box sealed on chain"):
        check_receipt(receipt, t.centre.address, domain, len(pruned), pruned.root(), t.box.entries)
    # a receipt the notary did not sign proves nothing
    forged = type(receipt)(receipt.section_id, receipt.leaf_hash, receipt.signer, t.rules.sign_release(
        t.holders[0].account, t.section_id, receipt.leaf_hash))
    with pytest.raises(VerificationError, match="not signed by the section's notary"):
        check_receipt(forged, t.centre.address, domain, len(pruned), pruned.root(), pruned.entries)


def test_rejecting_all_bids_is_the_committees_signed_decision(tender):
    t = _sealed_tender(tender)
    released = [t.release(h) for h in t.holders[:2]]
    for i in range(4):
        t.open_bid(i, released)
    t.rules.close_opening(t.centre, t.section_id)
    members = [Account.create() for _ in range(5)]
    t.rules.set_committee(t.centre, t.section_id, [m.address for m in members])
    decision = "none of the bids meets the technical requirements"
    sigs = [t.rules.sign_rejection(m, t.section_id, decision) for m in members[:2]]
    with pytest.raises(RuleRejected, match="NotEnoughSignatures"):
        t.rules.reject_all(t.centre, t.section_id, decision, sigs + [sigs[0]])  # a repeated signer counts once
    sigs.append(t.rules.sign_rejection(members[2], t.section_id, decision))
    t.rules.reject_all(t.centre, t.section_id, decision, sigs)
    assert t.rules.section(t.section_id).state == "rejected"


def test_box_entries_of_another_section_are_refused(tender):
    t = tender
    t.open()
    stray = BoxEntry(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, b"\x04" * 32, b"\x05" * 32, b"\x06" * 32, 1)
    with pytest.raises(Exception, match="another section"):
        t.box.add(stray, t.centre)
