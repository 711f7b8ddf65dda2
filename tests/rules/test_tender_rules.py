"""The tender procedure as the law writes it, on the embedded EVM and on anvil."""
from __future__ import annotations

import pytest

from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.tender import sealing
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


def test_a_bidders_later_bid_replaces_its_earlier_one_whichever_opens_first(tender):
    """Art. 29: a bidder may change its bid before the deadline; its later entry counts, and a
    bidder shares no collusion signal with itself (same device, same file)."""
    t = tender
    t.open()
    first = t.bidders[0]
    first.observed = sealing.Observed(device="pc-1")
    t.submit(first)
    for b in t.bidders[1:3]:
        t.submit(b)
    t.submit(first)  # the same file again, from the same device: a change, not collusion
    t.at_deadline()
    t.seal()
    released = _released(t, t.holders[:2])
    assert t.open_bid(3, released) == "valid"  # the later entry opens first
    assert t.open_bid(0, released) == "replaced"
    assert [t.open_bid(i, released) for i in (1, 2)] == ["valid", "valid"]
    [replaced] = t.rules.contract.logs("BidReplaced", sectionId=t.section_id)
    assert (replaced.args["replaced"], replaced.args["by"]) == (0, 3)
    assert t.rules.contract.logs("SharedSignal", sectionId=t.section_id) == []
    info = t.rules.close_opening(t.centre, t.section_id)
    assert (info.state, info.valid, info.box_size) == ("evaluation", 3, 4)


def test_three_entries_of_one_bidder_are_one_bidder(tender):
    """Padding the box with one bidder's entries passes the seal's count, never the opening's."""
    t = tender
    t.open()
    for _ in range(2):
        t.submit(t.bidders[0])
    t.submit(t.bidders[1])
    t.at_deadline()
    assert t.seal() == "sealed"
    released = _released(t, t.holders[:2])
    for i in range(3):
        t.open_bid(i, released)
    assert [t.rules.bid(t.section_id, i)["state"] for i in range(3)] == ["replaced", "valid", "valid"]
    info = t.rules.close_opening(t.centre, t.section_id)
    assert (info.state, info.fail_reason, info.valid) == ("failed", "fewer_than_min_bidders", 2)
    [failed] = t.rules.contract.logs("SectionFailed", sectionId=t.section_id)
    assert failed.args["bids"] == 2


def test_a_replayed_older_entry_loses_wherever_it_sits_in_the_box(tender):
    """Art. 29 cannot be undone by replaying the bidder's old entry after its change: the signed
    version decides, not the position in the box."""
    t = tender
    t.open()
    first = t.submit(t.bidders[0])
    t.submit(t.bidders[0])  # the change (a higher version)
    for b in t.bidders[1:3]:
        t.submit(b)
    replay = len(t.box)  # the relay puts the old entry in again, last
    t.box.add(t.box.entries[first], t.centre)
    t.sealed[replay], t.raw[replay] = t.sealed[first], t.raw[first]
    t.at_deadline()
    t.seal()
    released = _released(t, t.holders[:2])
    for i in range(len(t.box)):
        t.open_bid(i, released)
    states = [t.rules.bid(t.section_id, i)["state"] for i in range(len(t.box))]
    assert states == ["replaced", "valid", "valid", "valid", "replaced"]


def test_undecryptable_entries_of_one_bidder_count_once(tender, chain):
    """Padding the box with a bidder's entries that never decrypt does not make bidders either."""
    t = tender
    t.open()
    for _ in range(3):
        t.submit(t.bidders[0])
    t.submit(t.bidders[1])
    t.at_deadline()
    t.seal()
    released = _released(t, t.holders[:2])
    t.open_bid(2, released)  # bidder 0's latest
    t.open_bid(3, released)
    chain.set_next_block_time(t.rules.section(t.section_id).deadline + 901)
    assert [t.mark_undecryptable(i) for i in (0, 1)] == ["replaced", "replaced"]
    info = t.rules.close_opening(t.centre, t.section_id)
    assert (info.state, info.fail_reason, info.valid) == ("failed", "fewer_than_min_bidders", 2)
