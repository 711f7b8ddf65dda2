"""The tender procedure as the law writes it, on the embedded EVM and on anvil."""
from __future__ import annotations

import pytest

from lianzheng.rules.errors import RuleRejected
from tests.rules.tender_flow import deploy_tender


@pytest.fixture
def tender(chain, funded):
    return deploy_tender(chain, funded)


def _released(t, holders):
    return [t.release(h) for h in holders]


def test_a_whole_tender_opens_every_bid_at_the_deadline(tender):
    t = tender
    t.open()
    for b in t.bidders:
        t.submit(b)
    t.at_deadline()
    assert t.seal() == "sealed"
    released = _released(t, t.holders[:2])  # 2 of 3: the threshold
    states = [t.open_bid(i, released) for i in range(len(t.bidders))]
    assert states == ["valid"] * 4
    info = t.rules.close_opening(t.centre, t.section_id)
    assert (info.state, info.valid, info.box_size) == ("evaluation", 4, 4)
    withheld = t.rules.contract.logs("HolderWithheld", sectionId=t.section_id)
    assert [w.args["holder"] for w in withheld] == [t.holders[2].account.address]  # named


def test_fewer_than_three_bids_fail_at_the_seal_and_nothing_opens(tender):
    t = tender
    t.open()
    for b in t.bidders[:2]:
        t.submit(b)
    t.at_deadline()
    assert t.seal() == "failed"
    info = t.rules.section(t.section_id)
    assert (info.fail_reason, info.box_size) == ("fewer_than_min_bidders", 2)
    with pytest.raises(RuleRejected, match="WrongState"):
        t.release(t.holders[0])


def test_an_identical_clear_file_is_flagged_though_ciphertexts_differ(tender):
    t = tender
    t.bidders[1].file = t.bidders[0].file
    t.open()
    for b in t.bidders:
        t.submit(b)
    assert t.sealed[0].ciphertext != t.sealed[1].ciphertext
    t.at_deadline()
    t.seal()
    released = _released(t, t.holders)
    for i in range(4):
        t.open_bid(i, released)
    [flag] = t.rules.contract.logs("SharedSignal", sectionId=t.section_id)
    assert (flag.args["kind"], flag.args["firstPseudonym"], flag.args["secondPseudonym"]) == (
        0, t.box.entries[0].pseudonym, t.box.entries[1].pseudonym)
