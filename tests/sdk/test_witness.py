"""What a witness is shown for each kind of rule event (pure: public forms in, outcomes out)."""
from __future__ import annotations

import pytest

from lianzheng.sdk.witness import label, outcome


def _event(event_type: str, **public) -> dict:
    return {"type": event_type, "region": "370000", "project": "P", "section": "S1",
            "occurred_at": "2026-11-23T09:30:00Z", "actor": "0xabc", "public": public, "sealed": "00" * 32}


@pytest.mark.parametrize("kind, public, level, code, words", [
    ("bid.sealed.rejected", {"reason": "the entry is not signed with the bidder's registered key"}, "notice",
     "rejected:the entry is not signed with the bidder's registered key", "refused"),
    ("tender.section_opened.rejected", {"reason": "TenderRulesBiddingPeriodTooShort(1795000000, 1796000000)"},
     "notice", "rejected:TenderRulesBiddingPeriodTooShort", "refused by the rule"),
    ("bid.sealed", {"index": 0}, "ok", "bid_in_time", "before the deadline"),
    ("tender.flag.shared_signal", {"kind": 0, "firstPseudonym": "aa" * 32, "secondPseudonym": "bb" * 32}, "warning",
     "collusion:duplicate_file", "same bid file"),
    ("tender.flag.shared_signal", {"kind": 4, "firstPseudonym": "aa" * 32, "secondPseudonym": "cc" * 32}, "warning",
     "collusion:shared_device", "same device"),
    ("tender.flag.shared_signal", {"kind": 2, "firstPseudonym": "aa" * 32, "secondPseudonym": "cc" * 32}, "notice",
     "collusion:same_software", "same software"),
    ("tender.flag.bid_file_inconsistent", {"bidderId": "dd" * 32}, "warning", "inconsistent", "bid invalid"),
    ("tender.section_failed", {"reason": 1, "bids": 2}, "warning", "section_failed", "only 2 bidders"),
    ("tender.section_failed", {"reason": "not_sealed"}, "warning", "section_failed:not_sealed", "not sealed"),
    ("tender.box_sealed", {"box_size": 5}, "info", "box_sealed", "5 bids sealed"),
    ("bid.undecryptable", {"byBidder": True}, "notice", "revoked", "revoked"),
    ("bid.undecryptable", {"byBidder": False}, "warning", "withdrawn", "others' fault"),
    ("tender.holder_withheld", {"holder": "0x" + "11" * 20}, "warning", "holder_withheld", "withheld"),
    ("tender.opening_closed", {"valid_bids": 4}, "ok", "opening_closed", "4 valid bids"),
    ("tender.deadline_extended", {"deadline": 1795000000, "reason": "clarification 2"}, "notice",
     "deadline_extended", "clarification 2"),
    ("tender.bids_rejected", {"decision": "none meets the requirements"}, "notice", "bids_rejected", "rejected all"),
    ("experts.drawn", {"positions": [4, 17, 2]}, "ok", "experts_drawn", "3 experts drawn (positions [4, 17, 2])"),
    ("experts.draw_voided", {"defaulters": ["0x1234567890abcdef"]}, "warning", "draw_voided", "did not act"),
    ("experts.expert_replaced", {"ordinal": 1, "reason": "refused"}, "notice", "expert_replaced", "#1 replaced"),
    ("archive.filed", {"archive": "room 3"}, "info", "recorded", "recorded"),
])
def test_outcomes(kind, public, level, code, words):
    found = outcome(_event(kind, **public))
    assert (found.level, found.code) == (level, code) and words in found.en and found.zh


def test_labels_name_refusals_in_both_languages():
    assert label("bid.sealed.rejected") == {"zh": "投标文件已封存（被规则拒绝）",
                                            "en": "bid sealed in the box (refused by the rule)"}
    assert label("custom.thing") == {"zh": "custom.thing", "en": "custom.thing"}
