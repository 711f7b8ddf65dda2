"""What a witness is shown for each kind of rule event (pure: public forms in, outcomes out)."""
from __future__ import annotations

import pytest
from lianzheng.sdk.witness import label, outcome


def _event(kind: str, **public) -> dict:
    return {"type": kind, "region": "370000", "project": "P", "section": "S1",
            "occurred_at": "2026-11-23T09:30:00Z", "actor": "0xabc", "public": public, "sealed": "00" * 32}


@pytest.mark.parametrize("kind, public, level, code, words", [
    ("bid.committed.rejected", {"reason": "BidDeadlinePassed(1795000000, 1795000100)"}, "notice",
     "rejected:BidDeadlinePassed", "deadline had passed"),
    ("bid.committed", {}, "ok", "bid_in_time", "before the deadline"),
    ("tender.flag.duplicate_bid_file", {"firstBidder": "aa" * 32, "secondBidder": "bb" * 32}, "warning",
     "collusion:duplicate_file", "collusion warning"),
    ("tender.flag.shared_device_fingerprint", {"firstBidder": "aa" * 32, "secondBidder": "cc" * 32}, "warning",
     "collusion:shared_device", "same device"),
    ("tender.flag.bid_file_inconsistent", {"bidderId": "dd" * 32}, "warning", "inconsistent", "bid invalid"),
    ("tender.section_failed", {"validBids": 2}, "warning", "section_failed", "only 2 valid bids"),
    ("tender.section_proceeded", {"validBids": 3}, "ok", "section_proceeded", "3 valid bids"),
    ("experts.drawn", {"positions": [4, 17, 2]}, "ok", "experts_drawn", "3 experts drawn (positions [4, 17, 2])"),
    ("experts.draw_voided", {"defaulters": ["0x1234567890abcdef"]}, "warning", "draw_voided", "did not act"),
    ("experts.expert_replaced", {"ordinal": 1, "reason": "refused"}, "notice", "expert_replaced", "#1 replaced"),
    ("archive.filed", {"archive": "room 3"}, "info", "recorded", "recorded"),
])
def test_outcomes(kind, public, level, code, words):
    found = outcome(_event(kind, **public))
    assert (found.level, found.code) == (level, code) and words in found.en and found.zh


def test_labels_name_refusals_in_both_languages():
    assert label("bid.committed.rejected") == {"zh": "投标承诺上链（被规则拒绝）",
                                               "en": "bid commitment recorded (refused by the rule)"}
    assert label("custom.thing") == {"zh": "custom.thing", "en": "custom.thing"}
