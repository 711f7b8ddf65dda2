"""TenderRules on the embedded EVM and on anvil, chain time moved forward by the tests."""
from __future__ import annotations

import os

import pytest
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.tender.contract import SealedBid, bidder_id, commitment_of

REGION = 370000


def _section(tender, name, lead=1000, window=600):
    deadline = max(tender.chain.block_time(), int(__import__("time").time())) + lead
    return tender.open_section(tender.centre, REGION, "SDGP-2026-0042", name, deadline, window), deadline


def _commit(tender, section_id, i, sealed, nonce=1):
    message = tender.sign_commitment(tender.bidder_keys[i], section_id, tender.bidder_ids[i],
                                     sealed.commitment(section_id, tender.bidder_ids[i]), nonce)
    return tender.relay(tender.relayer, message)


def _withdraw(tender, section_id, i, nonce):
    return tender.relay(tender.relayer, tender.sign_withdrawal(tender.bidder_keys[i], section_id,
                                                               tender.bidder_ids[i], nonce))


def _sealed(file_byte=None, fingerprint=None):
    return SealedBid(bytes([file_byte]) * 32 if file_byte is not None else os.urandom(32), os.urandom(32),
                     bytes([fingerprint]) * 32 if fingerprint is not None else b"\x00" * 32)


def _rejected(fn, *args, error):
    with pytest.raises(RuleRejected) as info:
        fn(*args)
    assert info.value.error_name == error, info.value.reason
    return info.value


def test_commit_one_second_before_deadline_is_accepted_at_deadline_refused(tender):
    clock = tender.chain
    section_id, deadline = _section(tender, "S1")
    _commit(tender, section_id, 0, _sealed(), nonce=1)  # early bidder, to replace and withdraw later
    clock.set_next_block_time(deadline - 1)
    outcome = _commit(tender, section_id, 1, _sealed())
    assert outcome.block_time == deadline - 1
    assert tender.bid(section_id, tender.bidder_ids[1]).state == "committed"
    clock.set_next_block_time(deadline)
    late = _rejected(_commit, tender, section_id, 2, _sealed(), error="BidDeadlinePassed")
    assert late.tx_hash is not None  # the refusal is a mined transaction: a decision on chain
    mined = tender.chain.outcome(late.tx_hash)
    assert mined.status == 0 and mined.block_time == deadline
    _rejected(_commit, tender, section_id, 0, _sealed(), 2, error="BidDeadlinePassed")      # replace
    _rejected(_withdraw, tender, section_id, 0, 3, error="BidDeadlinePassed")              # withdraw
    assert [tender.bid(section_id, b).state for b in tender.bidder_ids[:3]] == ["committed", "committed", "none"]


def test_replace_and_withdraw_one_second_before_deadline_are_accepted(tender):
    clock = tender.chain
    s1, d1 = _section(tender, "S2")
    s2, d2 = _section(tender, "S3", lead=2000)
    first, second = _sealed(), _sealed()
    _commit(tender, s1, 0, first)
    _commit(tender, s2, 0, first)
    clock.set_next_block_time(d1 - 1)
    _commit(tender, s1, 0, second, nonce=2)
    bid = tender.bid(s1, tender.bidder_ids[0])
    assert (bid.state, bid.nonce, bid.commitment) == ("committed", 2, second.commitment(s1, tender.bidder_ids[0]))
    clock.set_next_block_time(d2 - 1)
    _withdraw(tender, s2, 0, 2)
    assert tender.bid(s2, tender.bidder_ids[0]).state == "withdrawn"
    assert tender.section(s2).active_bids == 0
    history = tender.contract.logs("BidCommitted", sectionId=s1)
    assert [e.args["replaced"] for e in history] == [False, True]


def test_opening_before_deadline_reverts_and_after_window_too(tender):
    clock = tender.chain
    section_id, deadline = _section(tender, "S4", window=100)
    clock.set_next_block_time(deadline - 1)
    _rejected(tender.start_opening, tender.centre, section_id, error="TenderRulesOpeningBeforeDeadline")
    clock.set_next_block_time(deadline + 100)
    _rejected(tender.start_opening, tender.centre, section_id, error="TenderRulesOpeningWindowClosed")
    # Nobody opened it in time: anyone may close it, and it fails.
    assert tender.close_opening(tender.relayer, section_id).state == "failed"


def test_forged_replayed_and_altered_commitments_are_rejected(tender):
    s1, _ = _section(tender, "S5")
    s2, _ = _section(tender, "S6")
    ids, keys = tender.bidder_ids, tender.bidder_keys
    c = _sealed().commitment(s1, ids[0])
    other_key = tender.sign_commitment(keys[1], s1, ids[0], c, 1)
    _rejected(tender.relay, tender.relayer, other_key, error="TenderRulesInvalidSignature")
    good = tender.sign_commitment(keys[0], s1, ids[0], c, 1)
    for forged in (
        good.__class__(s1, ids[1], 1, good.signature, c),             # replayed for another bidder
        good.__class__(s2, ids[0], 1, good.signature, c),             # replayed for another section
        good.__class__(s1, ids[0], 1, good.signature, b"\x07" * 32),  # commitment altered by the relay
        good.__class__(s1, ids[0], 2, good.signature, c),             # nonce altered by the relay
    ):
        _rejected(tender.relay, tender.relayer, forged, error="TenderRulesInvalidSignature")
    tender.relay(tender.relayer, good)
    _rejected(tender.relay, tender.relayer, good, error="TenderRulesStaleNonce")  # the same message again
    unknown = tender.sign_commitment(keys[0], s1, b"\x42" * 32, c, 1)
    _rejected(tender.relay, tender.relayer, unknown, error="TenderRulesInvalidBidder")
    assert tender.bidders(s1) == [ids[0]]


def test_opening_marks_inconsistent_files_and_flags_collusion(tender):
    clock = tender.chain
    section_id, deadline = _section(tender, "S7")
    ids = tender.bidder_ids
    bids = [_sealed(file_byte=9), _sealed(file_byte=9), _sealed(fingerprint=5), _sealed(fingerprint=5), _sealed()]
    for i, sealed in enumerate(bids):
        _commit(tender, section_id, i, sealed)
    clock.set_next_block_time(deadline)
    tender.start_opening(tender.centre, section_id)
    assert [tender.reveal(tender.centre, section_id, ids[i], bids[i]) for i in range(4)] == ["valid"] * 4
    swapped = SealedBid(os.urandom(32), bids[4].salt, bids[4].fingerprint)  # not the committed file
    assert tender.reveal(tender.centre, section_id, ids[4], swapped) == "inconsistent"
    flags = tender.flags(section_id)
    assert [(f.kind, f.first_bidder, f.second_bidder) for f in flags] == [
        ("DuplicateBidFile", ids[0], ids[1]), ("SharedDeviceFingerprint", ids[2], ids[3])]
    assert flags[0].value == b"\x09" * 32 and flags[1].value == b"\x05" * 32
    inconsistent = tender.contract.logs("BidFileInconsistent")
    assert [e.args["bidderId"] for e in inconsistent] == [ids[4]]
    _rejected(tender.reveal, tender.centre, section_id, ids[0], bids[0], error="TenderRulesNoActiveBid")
    view = tender.close_opening(tender.centre, section_id)
    assert (view.state, view.valid_bids, view.inconsistent_bids) == ("evaluation", 4, 1)


def test_fewer_than_three_valid_bids_fail_the_section(tender):
    clock = tender.chain
    section_id, deadline = _section(tender, "S8")
    bids = [_sealed() for _ in range(3)]
    for i, sealed in enumerate(bids):
        _commit(tender, section_id, i, sealed)
    clock.set_next_block_time(deadline)
    tender.start_opening(tender.centre, section_id)
    tender.reveal(tender.centre, section_id, tender.bidder_ids[0], bids[0])
    tender.reveal(tender.centre, section_id, tender.bidder_ids[1], bids[1])
    tender.reveal(tender.centre, section_id, tender.bidder_ids[2], SealedBid(os.urandom(32), bids[2].salt))
    view = tender.close_opening(tender.centre, section_id)
    assert (view.state, view.valid_bids) == ("failed", 2)
    failed = tender.contract.logs("SectionFailed", sectionId=section_id)
    assert failed[0].args["validBids"] == 2


def test_only_the_regions_centre_opens_sections_and_bids(tender, funded):
    stranger, jinan = funded(), funded()
    tender.grant_centre(tender.admin, 370100, jinan.address)
    deadline = max(tender.chain.block_time(), int(__import__("time").time())) + 1000
    for account, region in ((stranger, REGION), (jinan, REGION), (stranger, 370100)):
        _rejected(tender.open_section, account, region, "P", "S", deadline, 600,
                  error="AccessControlUnauthorizedAccount")
    _rejected(tender.grant_centre, jinan, REGION, jinan.address, error="AccessControlUnauthorizedAccount")
    section_id, deadline = _section(tender, "S9")
    _rejected(tender.register_bidder, jinan, REGION, b"\x33" * 32, jinan.address,
              error="AccessControlUnauthorizedAccount")
    sealed = _sealed()
    _commit(tender, section_id, 0, sealed)
    tender.chain.set_next_block_time(deadline)
    for account in (stranger, jinan, tender.relayer):
        _rejected(tender.start_opening, account, section_id, error="AccessControlUnauthorizedAccount")
    tender.start_opening(tender.centre, section_id)
    _rejected(tender.reveal, jinan, section_id, tender.bidder_ids[0], sealed,
              error="AccessControlUnauthorizedAccount")
    _rejected(tender.close_opening, stranger, section_id, error="AccessControlUnauthorizedAccount")


def test_commitment_matches_the_contract_and_bidder_ids_hash_the_credit_code(tender):
    section_id, _ = _section(tender, "S10")
    sealed = _sealed(fingerprint=3)
    on_chain = tender.contract.read("commitmentOf", section_id, tender.bidder_ids[0], sealed.file_hash,
                                                      sealed.salt, sealed.fingerprint)
    assert bytes(on_chain) == commitment_of(section_id, tender.bidder_ids[0], sealed.file_hash, sealed.salt,
                                            sealed.fingerprint)
    assert bidder_id("91370100MA3C1234X5") == bidder_id(" 91370100ma3c1234x5 ")
    with pytest.raises(ValueError):
        bidder_id("123")
