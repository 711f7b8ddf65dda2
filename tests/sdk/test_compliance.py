"""The witness-element catalogue and its evaluator: each element met, not met or missing from
hand-built public event forms (no chain), at the edges of the periods the law counts."""
from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from lianzheng.sdk import compliance as c
from lianzheng.sdk import event_types as et
from lianzheng.sdk.errors import MalformedError
from tests.conftest import ROOT

BJ = timezone(timedelta(hours=8))
ISSUED = datetime(2026, 3, 2, 9, 0, tzinfo=BJ)
DEADLINE = ISSUED + timedelta(days=25)


def at(moment: datetime) -> str:
    return moment.isoformat()


def ev(kind: str, when: datetime, **public) -> dict:
    return {"id": f"{kind}-{when.timestamp():.0f}", "type": kind, "region": "110000", "project": "P-1",
            "section": "S-1", "occurred_at": at(when), "actor": "system", "public": public, "sealed": "00" * 32}


def announced(when: datetime = ISSUED, **public) -> dict:
    return ev(et.TENDER_ANNOUNCED, when, **public)


def section(deadline: datetime = DEADLINE, profile: str = "engineering") -> dict:
    return ev(et.SECTION_OPENED, ISSUED, deadline=int(deadline.timestamp()), profile=profile, status="accepted")


def sealed(size: int, when: datetime = DEADLINE) -> list[dict]:
    out = [ev(et.BOX_SEALED, when + timedelta(minutes=1), box_size=size, status="accepted")]
    if size < 3:
        out.append(ev(et.SECTION_FAILED, when + timedelta(minutes=1), reason=1, bids=size, status="accepted"))
    return out


def opened(when: datetime) -> dict:
    return ev(et.BID_OPENED, when, index=0, status="accepted")


def draw(reps: int, quotas: list[int], profile: str = "engineering", drawn: bool = True, pools: bool = True,
         draw_id: str = "d1" * 32) -> list[dict]:
    base = {"draw_id": draw_id, "round": 1, "status": "accepted"}
    t = DEADLINE + timedelta(hours=2)
    out = [ev(et.DRAW_PLANNED, t, profile=profile, tenderer_reps=reps, **base,
              strata=[{"speciality": "A01", "venue": "local", "scope": "110100", "quota": q} for q in quotas])]
    if pools:
        out += [ev(et.POOL_COMMITTED, t, stratum=i, exclusion_hash="ab" * 32, excluded=2, **base)
                for i in range(len(quotas))]
    if drawn:
        out += [ev(et.EXPERTS_DRAWN, t + timedelta(hours=1), stratum=i, positions=list(range(q)), **base)
                for i, q in enumerate(quotas)]
    return out


def element(trading_type: str, events: list[dict], element_id: str, anchor_times=None) -> c.Element:
    [found] = [e for e in c.evaluate(trading_type, events, anchor_times) if e.id == element_id]
    return found


# --- the catalogue ----------------------------------------------------------------------


def test_every_element_of_every_trading_type_has_names_a_check_and_a_source():
    catalogue = c.catalogue()
    assert {"engineering", "government_procurement"} <= set(catalogue["trading_types"])
    for name, spec in catalogue["trading_types"].items():
        assert spec["name"]["zh"] and spec["name"]["en"]
        assert len({e["id"] for e in spec["elements"]}) == len(spec["elements"])
        for e in spec["elements"]:
            assert e["zh"] and e["en"] and e["check"] in c.CHECKS, (name, e["id"])
            assert e["sources"], (name, e["id"])
            assert all(s["law"] and s["article"] and s["zh"] and isinstance(s["verified"], bool) for s in e["sources"])


def test_trading_types_reuse_the_tender_profile_names():
    import json

    profiles = json.loads((ROOT / "rules" / "tender" / "profiles.json").read_text(encoding="utf-8"))["profiles"]
    assert set(c.trading_types()) <= set(profiles)


def test_the_new_event_types_are_in_the_shared_label_table():
    kinds = c.catalogue()["event_types"]
    assert set(kinds) == {c.EVALUATION_REPORTED, c.CANDIDATES_PUBLISHED, c.RESULT_ANNOUNCED, c.AWARD_NOTIFIED,
                          c.CONTRACT_SIGNED}
    assert all(v["public"] for v in kinds.values())  # the catalogue documents their public fields
    assert all(et.LABELS[k][0] and et.LABELS[k][1] for k in kinds)  # one label table, read by the page too
    assert not any(et.is_rule_type(k) for k in kinds)  # trading systems may write them


def test_the_catalogue_ships_in_the_sdk_distribution():
    data = tomllib.loads((ROOT / "sdk" / "pyproject.toml").read_text(encoding="utf-8"))
    assert "compliance.json" in data["tool"]["setuptools"]["package-data"]["lianzheng.sdk"]


def test_an_unknown_trading_type_is_refused_with_the_known_ones():
    with pytest.raises(MalformedError, match="unknown trading type 'land_auction'") as caught:
        c.evaluate("land_auction", [])
    assert caught.value.evidence["known"] == list(c.trading_types())


def test_malformed_inputs_are_refused():
    with pytest.raises(MalformedError):
        c.evaluate("engineering", [{"public": {}}])
    with pytest.raises(MalformedError, match="one Unix time per event"):
        c.evaluate("engineering", [announced()], anchor_times=[])


def test_an_empty_log_meets_nothing_and_says_what_is_missing():
    for trading_type in c.trading_types():
        elements = c.evaluate(trading_type, [])
        assert {e.status for e in elements} == {"missing"}
        assert all("no '" in e.detail_en and "日志中没有" in e.detail_zh for e in elements)
        assert all(e.as_dict()["sources"] for e in elements)


# --- announcement period (招标投标法 Art. 24; calendar days, Civil Code Art. 201/203) ----------


@pytest.mark.parametrize(("issued", "deadline", "status"), [
    (datetime(2026, 3, 1, 9, 0, tzinfo=BJ), datetime(2026, 3, 21, 9, 0, tzinfo=BJ), "met"),  # exactly 20 days
    # 19 d 23 h, but the deadline falls on the 20th day after the issue day: the law counts days, not hours
    (datetime(2026, 3, 1, 10, 0, tzinfo=BJ), datetime(2026, 3, 21, 9, 0, tzinfo=BJ), "met"),
    # 19 d 23 h that end on the 19th day after the issue day
    (datetime(2026, 3, 1, 0, 30, tzinfo=BJ), datetime(2026, 3, 20, 23, 30, tzinfo=BJ), "not_met"),
    # 20 x 24 h ending at 00:00: the bids were due by 24:00 of the 19th day
    (datetime(2026, 3, 1, 0, 0, tzinfo=BJ), datetime(2026, 3, 21, 0, 0, tzinfo=BJ), "not_met"),
    # the dates are Beijing dates even when the times are given in UTC: 1 Mar 17:00Z is 2 Mar in Beijing
    (datetime(2026, 3, 1, 17, 0, tzinfo=UTC), datetime(2026, 3, 21, 1, 0, tzinfo=UTC), "not_met"),
])
def test_the_announcement_period_counts_calendar_days(issued, deadline, status):
    found = element("engineering", [announced(issued), section(deadline)], "announcement_period")
    assert found.status == status, found.detail_en


def test_the_announcement_period_figures_are_in_the_detail():
    found = element("engineering", [announced(datetime(2026, 3, 1, 9, tzinfo=BJ)),
                                    section(datetime(2026, 3, 22, 9, tzinfo=BJ))], "announcement_period")
    assert "21 日 ≥ 20 日" in found.detail_zh and "21 days ≥ 20 days" in found.detail_en


def test_documents_issued_at_overrides_the_announcement_time():
    late = datetime(2026, 3, 10, 9, tzinfo=BJ)
    found = element("engineering", [announced(ISSUED, documents_issued_at=at(late)), section()], "announcement_period")
    assert found.status == "not_met" and "17 days" in found.detail_en


def test_the_last_extension_sets_the_deadline():
    short = ISSUED + timedelta(days=18)
    events = [announced(), section(short),
              ev(et.DEADLINE_EXTENDED, ISSUED + timedelta(days=5),
                 deadline=int((ISSUED + timedelta(days=19)).timestamp()), status="accepted"),
              ev(et.DEADLINE_EXTENDED, ISSUED + timedelta(days=6),
                 deadline=int((ISSUED + timedelta(days=21)).timestamp()), status="accepted")]
    assert element("engineering", events, "announcement_period").status == "met"
    assert element("engineering", events[:3], "announcement_period").status == "not_met"


def test_a_refused_extension_counts_for_nothing():
    events = [announced(), section(ISSUED + timedelta(days=18)),
              ev(et.DEADLINE_EXTENDED + et.REJECTED, ISSUED + timedelta(days=5),
                 deadline=int((ISSUED + timedelta(days=30)).timestamp()), status="rejected")]
    assert element("engineering", events, "announcement_period").status == "not_met"


def test_an_announcement_anchored_long_after_its_stated_time_says_so():
    events = [announced(), section()]
    anchors = [int((ISSUED + timedelta(days=9)).timestamp()), int(ISSUED.timestamp())]
    found = element("engineering", events, "announcement_period", anchors)
    assert found.status == "met" and "anchored only at" in found.detail_en and "才锚定上链" in found.detail_zh
    assert "anchored" not in element("engineering", events, "announcement_period",
                                     [int(ISSUED.timestamp())] * 2).detail_en


# --- opening at the deadline (Art. 34) ----------------------------------------------------


@pytest.mark.parametrize(("offset", "status"), [
    (timedelta(0), "met"), (timedelta(minutes=30), "met"),
    (timedelta(minutes=31), "not_met"), (timedelta(seconds=-1), "not_met")])
def test_the_first_opening_falls_within_the_profiles_grace(offset, status):
    events = [section(), *sealed(3), opened(DEADLINE + offset), opened(DEADLINE + timedelta(hours=5))]
    assert element("engineering", events, "opening_on_time").status == status


def test_an_unknown_profile_checks_only_not_before_the_deadline():
    events = [section(profile="county_rules"), *sealed(3), opened(DEADLINE + timedelta(hours=3))]
    found = element("engineering", events, "opening_on_time")
    assert found.status == "met" and "no upper bound" in found.detail_en


def test_no_opening_after_a_lawful_failure_is_the_law_followed():
    assert element("engineering", [section(), *sealed(2)], "opening_on_time").status == "met"
    not_sealed = ev(et.SECTION_FAILED, DEADLINE + timedelta(minutes=10), reason="not_sealed", status="accepted")
    assert element("engineering", [section(), not_sealed], "opening_on_time").status == "not_met"
    assert element("engineering", [section(), *sealed(3)], "opening_on_time").status == "missing"


# --- three bidders (Art. 28; Reg. Art. 44) ----------------------------------------------


def test_three_bids_allow_an_opening():
    found = element("engineering", [section(), *sealed(3), opened(DEADLINE)], "at_least_three_bidders")
    assert found.status == "met" and "3 bids sealed" in found.detail_en


def test_two_bids_and_a_failed_section_is_the_law_followed():
    found = element("engineering", [section(), *sealed(2)], "at_least_three_bidders")
    assert found.status == "met" and "no opening" in found.detail_en and "重新招标" in found.detail_zh


def test_two_bids_opened_is_not_met():
    found = element("engineering", [section(), *sealed(2), opened(DEADLINE)], "at_least_three_bidders")
    assert found.status == "not_met"


def test_two_bids_without_the_failure_on_record_is_missing():
    events = [section(), sealed(2)[0]]
    assert element("engineering", events, "at_least_three_bidders").status == "missing"


def test_a_failure_event_alone_gives_the_count():
    failed = ev(et.SECTION_FAILED, DEADLINE, reason=1, bids=1, status="accepted")
    assert element("government_procurement", [failed], "at_least_three_bidders").status == "met"


# --- the committee (Art. 37; 87号令) ------------------------------------------------------


@pytest.mark.parametrize(("reps", "quotas", "status"), [
    (1, [4], "met"),          # 5: odd, experts 4/5
    (1, [2, 2], "met"),
    (1, [3], "not_met"),      # 4 members
    (2, [4], "not_met"),      # 6: even
    (2, [3], "not_met"),      # 5 but experts 3/5 < 2/3
    (2, [5], "met"),          # 7, experts 5/7
])
def test_committee_size_parity_and_expert_share(reps, quotas, status):
    found = element("engineering", draw(reps, quotas), "committee_composition")
    assert found.status == status, found.detail_en


def test_a_major_procurement_needs_seven():
    five = draw(1, [4], profile="government_procurement_major")
    assert element("government_procurement", five, "committee_composition").status == "not_met"
    assert element("government_procurement", draw(2, [5], profile="government_procurement_major"),
                   "committee_composition").status == "met"
    assert element("government_procurement", draw(1, [4], profile="government_procurement"),
                   "committee_composition").status == "met"


def test_a_committee_set_without_a_draw_checks_its_size_only():
    committee = ev(et.COMMITTEE_SET, DEADLINE, members=[f"0x{i:040x}" for i in range(4)], status="accepted")
    found = element("engineering", [committee], "committee_composition")
    assert found.status == "not_met" and "committee 4" in found.detail_en
    committee["public"]["members"].append("0x" + "f" * 40)
    found = element("engineering", [committee], "committee_composition")
    assert found.status == "met" and "cannot be checked" in found.detail_en


def test_a_planned_but_undrawn_committee_is_missing():
    assert element("engineering", draw(1, [4], drawn=False), "committee_composition").status == "missing"


def test_avoidance_is_met_only_for_a_completed_draw_with_every_pool_committed():
    assert element("engineering", draw(1, [2, 2]), "committee_avoidance").status == "met"
    assert element("engineering", draw(1, [2, 2], drawn=False), "committee_avoidance").status == "missing"
    assert element("engineering", draw(1, [2, 2], pools=False), "committee_avoidance").status == "missing"
    assert element("engineering", [], "committee_avoidance").detail_en.startswith("no 'expert draw planned'")


def test_a_voided_draw_then_a_completed_one_counts_the_completed_one():
    voided = draw(1, [4], drawn=False, draw_id="aa" * 32) + [
        ev(et.DRAW_VOIDED, DEADLINE, draw_id="aa" * 32, phase="reveal", defaulters=[], status="accepted")]
    events = voided + draw(2, [5], draw_id="bb" * 32)
    assert element("engineering", events, "committee_avoidance").status == "met"
    assert "7 members" in element("engineering", events, "committee_composition").detail_en


# --- result publicity (Reg. Art. 54) ------------------------------------------------------

REPORT = datetime(2026, 4, 1, 16, 0, tzinfo=BJ)


def publicity(start: datetime, until: datetime) -> dict:
    return ev(c.CANDIDATES_PUBLISHED, start, **{"from": at(start), "until": at(until)})


@pytest.mark.parametrize(("days", "status"), [(3, "met"), (2, "not_met"), (5, "met")])
def test_candidates_are_published_for_at_least_three_days(days, status):
    start = REPORT + timedelta(days=1)
    events = [ev(c.EVALUATION_REPORTED, REPORT), publicity(start, start + timedelta(days=days))]
    found = element("engineering", events, "result_publicity")
    assert found.status == status, found.detail_en


def test_candidates_are_published_within_three_days_of_the_report():
    late = REPORT + timedelta(days=4)
    events = [ev(c.EVALUATION_REPORTED, REPORT), publicity(late, late + timedelta(days=3))]
    assert element("engineering", events, "result_publicity").status == "not_met"
    found = element("engineering", events[1:], "result_publicity")
    assert found.status == "met" and "not checked" in found.detail_en


def test_publicity_without_its_period_is_missing():
    bare = ev(c.CANDIDATES_PUBLISHED, REPORT)
    assert element("engineering", [bare], "result_publicity").status == "missing"


def test_procurement_announces_the_result_instead():
    events = [ev(c.RESULT_ANNOUNCED, REPORT), ev(c.AWARD_NOTIFIED, REPORT)]
    assert element("government_procurement", events, "result_announcement").status == "met"
    assert element("government_procurement", events[:1], "result_announcement").status == "missing"
    assert "result_publicity" not in {e.id for e in c.evaluate("government_procurement", events)}


# --- the contract (Art. 46; 政府采购法 Art. 46) ----------------------------------------------

NOTICE = datetime(2026, 4, 10, 10, 0, tzinfo=BJ)


@pytest.mark.parametrize(("trading_type", "days", "status"), [
    ("engineering", 30, "met"), ("engineering", 31, "not_met"),
    ("government_procurement", 30, "met"), ("government_procurement", 31, "not_met")])
def test_the_contract_is_signed_within_thirty_days(trading_type, days, status):
    events = [ev(c.AWARD_NOTIFIED, NOTICE), ev(c.CONTRACT_SIGNED, NOTICE + timedelta(days=days, hours=8))]
    found = element(trading_type, events, "contract_within_30_days")
    assert found.status == status and f"day {days}" in found.detail_en


def test_a_contract_before_the_notice_is_not_met_and_signed_at_overrides():
    events = [ev(c.AWARD_NOTIFIED, NOTICE), ev(c.CONTRACT_SIGNED, NOTICE, signed_at=at(NOTICE - timedelta(days=1)))]
    found = element("engineering", events, "contract_within_30_days")
    assert found.status == "not_met" and "before the award notice" in found.detail_en


def test_a_contract_without_the_notice_is_missing():
    found = element("engineering", [ev(c.CONTRACT_SIGNED, NOTICE)], "contract_within_30_days")
    assert found.status == "missing" and c.AWARD_NOTIFIED in found.detail_en


def test_a_whole_lawful_section_meets_every_element_and_round_trips_as_json():
    import json

    start = REPORT + timedelta(days=1)
    events = [announced(), section(), *sealed(4), opened(DEADLINE + timedelta(minutes=3)),
              ev(et.OPENING_CLOSED, DEADLINE + timedelta(minutes=20), valid_bids=4, bids=4, status="accepted"),
              *draw(1, [4]), ev(c.EVALUATION_REPORTED, REPORT), publicity(start, start + timedelta(days=3)),
              ev(c.AWARD_NOTIFIED, NOTICE), ev(c.RESULT_ANNOUNCED, NOTICE),
              ev(c.CONTRACT_SIGNED, NOTICE + timedelta(days=12))]
    for trading_type in c.trading_types():
        elements = c.evaluate(trading_type, events)
        assert [e.status for e in elements] == ["met"] * len(elements), [(e.id, e.detail_en) for e in elements]
        assert json.loads(json.dumps([e.as_dict() for e in elements], ensure_ascii=False))[0]["sources"]
