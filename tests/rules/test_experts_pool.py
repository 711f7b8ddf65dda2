"""The plan, the committee profiles, the strata pools (assignment, 回避) and their commitments:
pure functions of the published inputs."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta
from importlib import resources

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from lianzheng.rules.experts.pool import (
    POOL_FORMAT,
    REASONS,
    TIE_YEARS,
    Pool,
    assignment,
    covers,
    leaf_of,
    years_before,
)
from lianzheng.rules.experts.profiles import check_committee, load_committee_profiles
from lianzheng.rules.experts.roster import (
    DrawPlan,
    Expert,
    PastDraw,
    Penalty,
    Relation,
    Roster,
    RosterError,
    Stratum,
    load_plan,
    load_roster,
)
from lianzheng.sdk.merkle import SHA256, verify_inclusion
from tests.rules.experts_data import (
    AGENCY,
    AS_OF,
    BIDDER_IDS,
    BIDDERS,
    DEPARTMENT,
    MAIN_A,
    MAIN_B,
    OTHER_COMPANY,
    PARTIES,
    REMOTE_A,
    SECRET,
    TENDERER,
    A,
    B,
    C,
    build_pool,
    plan,
    random_roster,
    registry,
    roster_with_pool,
)

THREE_YEARS_BEFORE = date(2023, 11, 23)  # AS_OF - TIE_YEARS


def _expert(eid, **kw):
    base = {"id": eid, "name": f"name-{eid}", "specialities": (A,), "region": "370100", "employer": None}
    return Expert(**{**base, **kw})


def _pool(experts, relations=(), penalties=(), history=(), the_plan=None, secret=SECRET):
    """Shandong's pools, not checked against the quotas (``Pool`` itself, not ``Pool.build``)."""
    roster = Roster(experts=tuple(experts), relations=tuple(relations), penalties=tuple(penalties),
                    history=tuple(history))
    return Pool(the_plan or plan(), registry(roster), BIDDER_IDS, secret)


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


# --- avoidance -------------------------------------------------------------------------


def test_each_avoidance_reason_is_hit_alone():
    cases = {  # expert id -> (expert changes, its rows, the reasons expected)
        "E01": ({"available": False}, [], ["unavailable"]),
        "E02": ({"employer": TENDERER}, [], ["employer_is_tenderer"]),
        "E03": ({"employer": BIDDERS[1]}, [], ["employer_is_bidder"]),
        "E04": ({"employer": AGENCY}, [], ["employer_is_agency"]),
        "E05": ({"employer": DEPARTMENT}, [], ["department_staff"]),
        "E06": ({}, [Relation(expert_id="E06", party=TENDERER, kind="interest")], ["related_to_tenderer"]),
        "E07": ({}, [Relation(expert_id="E07", party=BIDDERS[2], kind="relative")], ["related_to_bidder"]),
        "E08": ({}, [Relation(expert_id="E08", party=AGENCY, kind="past_employment")], ["related_to_agency"]),
        "E09": ({}, [Penalty(expert_id="E09", decided_on=date(2026, 1, 1), note="x")], ["penalised"]),
        "E10": ({}, [PastDraw(expert_id="E10", tenderer=TENDERER, drawn_on=AS_OF - timedelta(10))],
                ["recently_drawn_for_tenderer"]),
        "E11": ({"employer": BIDDERS[0], "available": False},
                [Penalty(expert_id="E11", decided_on=date(2026, 1, 1), note="x")],
                ["unavailable", "employer_is_bidder", "penalised"]),
        # none of these count
        "E20": ({"employer": OTHER_COMPANY}, [Relation(expert_id="E20", party=OTHER_COMPANY, kind="relative"),
                                               PastDraw(expert_id="E20", tenderer=OTHER_COMPANY, drawn_on=AS_OF)], []),
        "E21": ({}, [PastDraw(expert_id="E21", tenderer=TENDERER, drawn_on=AS_OF - timedelta(40))], []),
    }
    assert {r for *_, reasons in cases.values() for r in reasons} == set(REASONS)
    experts = [_expert(eid, **changes) for eid, (changes, _, _) in cases.items()]
    rows = [row for _, rs, _ in cases.values() for row in rs]
    pool = _pool(experts, [r for r in rows if isinstance(r, Relation)], [r for r in rows if isinstance(r, Penalty)],
                 [r for r in rows if isinstance(r, PastDraw)])
    main = pool.stratum(MAIN_A)
    assert main.excluded == {eid: reasons for eid, (_, _, reasons) in cases.items() if reasons}
    assert [e.id for e in main.experts] == ["E20", "E21"]
    # agency and departments are optional: without them, nobody is avoided for them
    free = _pool(experts, the_plan=plan(agency=None, departments=()))
    assert {"E04", "E05"} <= {e.id for e in free.stratum(MAIN_A).experts}


def test_dated_windows_at_their_edges():
    day = timedelta(days=1)
    experts = [_expert(f"E{i:02d}") for i in range(14)]
    relations = [
        Relation(expert_id="E00", party=TENDERER, kind="past_employment", until=THREE_YEARS_BEFORE - day),  # over
        Relation(expert_id="E01", party=TENDERER, kind="past_employment", until=THREE_YEARS_BEFORE),  # counts
        Relation(expert_id="E02", party=BIDDERS[0], kind="relative", since=AS_OF + day),  # begins later
        Relation(expert_id="E03", party=BIDDERS[0], kind="relative", since=AS_OF),  # begins today
        Relation(expert_id="E04", party=AGENCY, kind="other", since=date(2001, 1, 1)),  # ongoing
    ]
    penalties = [
        Penalty(expert_id="E05", decided_on=date(2025, 1, 1), until=AS_OF - day, note="lapsed yesterday"),
        Penalty(expert_id="E06", decided_on=date(2025, 1, 1), until=AS_OF, note="lapses tonight"),
        Penalty(expert_id="E07", decided_on=AS_OF + day, note="decided tomorrow"),
        Penalty(expert_id="E08", decided_on=AS_OF, note="decided today, never lapses"),
    ]
    history = [
        PastDraw(expert_id="E09", tenderer=TENDERER, drawn_on=AS_OF - timedelta(30)),  # cooldown edge: counts
        PastDraw(expert_id="E10", tenderer=TENDERER, drawn_on=AS_OF - timedelta(31)),
        PastDraw(expert_id="E11", tenderer=TENDERER, drawn_on=AS_OF + day),  # a later draw does not count
        PastDraw(expert_id="E12", tenderer=TENDERER, drawn_on=AS_OF),
    ]
    pool = _pool(experts, relations, penalties, history)
    assert pool.stratum(MAIN_A).excluded == {
        "E01": ["related_to_tenderer"], "E03": ["related_to_bidder"], "E04": ["related_to_agency"],
        "E06": ["penalised"], "E08": ["penalised"], "E09": ["recently_drawn_for_tenderer"],
        "E12": ["recently_drawn_for_tenderer"]}
    assert _pool(experts, history=history, the_plan=plan(cooldown_days=0)).stratum(MAIN_A).excluded == {
        "E12": ["recently_drawn_for_tenderer"]}
    assert TIE_YEARS == 3 and years_before(AS_OF, TIE_YEARS) == THREE_YEARS_BEFORE
    assert years_before(date(2028, 2, 29), 3) == date(2025, 2, 28)
    assert years_before(date(2028, 2, 29), 4) == date(2024, 2, 29)


_DAYS = [None, AS_OF, AS_OF + timedelta(1), AS_OF - timedelta(1), AS_OF - timedelta(30), AS_OF - timedelta(31),
         THREE_YEARS_BEFORE, THREE_YEARS_BEFORE - timedelta(1), date(2001, 1, 1)]
_CODES = (*PARTIES, OTHER_COMPANY)


@st.composite
def _rosters(draw):
    n = draw(st.integers(1, 25))
    experts, relations, penalties, history = [], [], [], []
    for i in range(n):
        eid = f"E{i:03d}"
        specs = draw(st.lists(st.sampled_from((A, B, C)), min_size=1, max_size=3, unique=True))
        experts.append(Expert(id=eid, name=f"n{i}", specialities=tuple(specs),
                              region=draw(st.sampled_from(("370100", "370202", "370305", "371002"))),
                              employer=draw(st.sampled_from((None, *_CODES))), available=draw(st.booleans())))
        for _ in range(draw(st.integers(0, 2))):
            since, until = sorted(draw(st.lists(st.sampled_from(_DAYS[1:]), min_size=2, max_size=2)))
            relations.append(Relation(expert_id=eid, party=draw(st.sampled_from(_CODES)), kind="other",
                                      since=draw(st.sampled_from((None, since))),
                                      until=draw(st.sampled_from((None, until)))))
        if draw(st.booleans()):
            decided, until = sorted(draw(st.lists(st.sampled_from(_DAYS[1:]), min_size=2, max_size=2)))
            penalties.append(Penalty(expert_id=eid, decided_on=decided, until=draw(st.sampled_from((None, until))),
                                     note="n"))
        if draw(st.booleans()):
            history.append(PastDraw(expert_id=eid, tenderer=draw(st.sampled_from((TENDERER, OTHER_COMPANY))),
                                    drawn_on=draw(st.sampled_from(_DAYS[1:]))))
    return Roster(experts=tuple(experts), relations=tuple(relations), penalties=tuple(penalties),
                  history=tuple(history))


def _must_avoid(expert, roster, the_plan) -> bool:
    """Avoidance written out plainly, from the credit codes (not the bidder ids)."""
    parties = {TENDERER, AGENCY, *BIDDERS}
    as_of = the_plan.as_of
    return (not expert.available or expert.employer in parties | {DEPARTMENT}
            or any(r.expert_id == expert.id and r.party in parties
                   and (r.since is None or r.since <= as_of) and (r.until is None or r.until >= THREE_YEARS_BEFORE)
                   for r in roster.relations)
            or any(p.expert_id == expert.id and p.decided_on <= as_of and (p.until is None or p.until >= as_of)
                   for p in roster.penalties)
            or any(h.expert_id == expert.id and h.tenderer == TENDERER
                   and 0 <= (as_of - h.drawn_on).days <= the_plan.cooldown_days for h in roster.history))


@settings(max_examples=150, deadline=None)
@given(_rosters(), st.sampled_from((0, 30)))
def test_the_pool_never_holds_an_avoided_expert_and_drops_nobody_else(roster, cooldown):
    the_plan = plan(cooldown_days=cooldown)
    pool = Pool(the_plan, registry(roster), BIDDER_IDS, SECRET)
    placed: dict[str, int] = {}
    for sp in pool.strata:
        for e in sp.experts:
            assert not _must_avoid(e, roster, the_plan)
            assert sp.stratum.speciality in e.specialities and covers(the_plan, sp.stratum, e)
            placed[e.id] = sp.index
        for eid, reasons in sp.excluded.items():
            assert reasons and set(reasons) <= set(REASONS) and eid not in placed
            placed[eid] = sp.index
    for e in roster.experts:  # every expert of some stratum is in its pool or avoided, nowhere else
        fits = [i for i, s in enumerate(the_plan.strata) if s.speciality in e.specialities
                and covers(the_plan, s, e)]
        assert (e.id in placed) == bool(fits)
        if e.id in placed:
            assert _must_avoid(e, roster, the_plan) == (e.id in pool.excluded)


# --- assignment --------------------------------------------------------------------------


def test_assignment_follows_the_registered_speciality_order():
    experts = [
        _expert("X1", specialities=(A, B)),                       # A first: main A
        _expert("X2", specialities=(B, A)),                       # B first: main B
        _expert("X3", specialities=(B, A), region="370202"),      # Qingdao: no main stratum, remote A
        _expert("X4", specialities=(B,), region="370202"),        # Qingdao, B only: in no stratum
        _expert("X5", specialities=(C,)),                         # no stratum asks C
        _expert("X6", specialities=(C, A), region="370300"),      # Zibo: main A
        _expert("X7", specialities=(A, B), employer=BIDDERS[0]),  # avoided in main A: not moved to main B
    ]
    pool = _pool(experts)
    assert pool.assigned == {"X1": MAIN_A, "X2": MAIN_B, "X3": REMOTE_A, "X6": MAIN_A, "X7": MAIN_A}
    assert [[e.id for e in sp.experts] for sp in pool.strata] == [["X1", "X6"], ["X2"], ["X3"]]
    assert pool.stratum(MAIN_A).excluded == {"X7": ["employer_is_bidder"]}
    assert pool.stratum(MAIN_B).excluded == {} == pool.stratum(REMOTE_A).excluded


def test_main_and_remote_city_scopes_are_disjoint_and_cover_the_province():
    roster = random_roster(400, seed=2)
    the_plan = plan()
    for e in roster.experts:
        main, remote = covers(the_plan, the_plan.strata[MAIN_A], e), covers(the_plan, the_plan.strata[REMOTE_A], e)
        assert main != remote  # exactly one of them: every expert is of Shandong
        assert remote == e.region.startswith("3702")
    assigned = assignment(roster, the_plan)
    for e in roster.experts:
        if e.region.startswith("3702"):  # Qingdao: the remote A stratum only (no main stratum covers it)
            expected = REMOTE_A if A in e.specialities else None
        else:
            firsts = [s for s in e.specialities if s in (A, B)]
            expected = {A: MAIN_A, B: MAIN_B}[firsts[0]] if firsts else None
        assert assigned.get(e.id) == expected


# --- plan and committee profiles ---------------------------------------------------------


def _stratum(speciality=A, venue="main", scope="37", quota=1):
    return Stratum(speciality=speciality, venue=venue, scope=scope, quota=quota)


def test_plan_properties_and_stratum_rules():
    p = plan()
    assert (p.experts_total, p.members, p.province, p.provinces) == (5, 7, "37", ["37"])
    assert plan(strata=(*p.strata, _stratum(venue="remote", scope="62"))).provinces == ["37", "62"]
    bad = [
        ((_stratum(scope="62"),), "strata.0 (A010101, main, 62): a main stratum's scope is the draw's province 37"),
        ((_stratum(scope="3701"),), "main stratum's scope is the draw's province"),
        ((_stratum(venue="remote"),), "a remote province must not be the draw's province 37"),
        ((_stratum(venue="remote", scope="3701"),), "another city of the draw's province 37 (not 3701)"),
        ((_stratum(venue="remote", scope="6204"),), "another city of the draw's province"),
        ((_stratum(), _stratum(quota=2)), "strata.1 (A010101, main, 37): the same stratum twice"),
        ((_stratum(quota=20), _stratum(speciality=B, quota=13)), "strata ask 33 experts in all, at most 32"),
    ]
    for strata, message in bad:
        with pytest.raises(ValueError, match=re.escape(message)):
            plan(strata=strata)
    with pytest.raises(ValueError, match="unknown committee profile 'works'"):
        plan(profile="works")
    with pytest.raises(ValueError, match="speciality"):
        plan(strata=(_stratum(speciality="A" * 33),))  # goes on chain as bytes32
    with pytest.raises(ValueError, match="strata"):
        plan(strata=tuple(_stratum(speciality=f"S{i}") for i in range(9)))


def test_committee_profiles_carry_their_sources():
    profiles = load_committee_profiles()
    assert {n: (p.min_members, p.odd, p.experts_min_share, p.max_replacements) for n, p in profiles.items()} == {
        "engineering": (5, True, (2, 3), 6), "government_procurement": (5, True, (2, 3), 6),
        "government_procurement_major": (7, True, (2, 3), 8), "demo": (5, True, (2, 3), 4)}
    assert profiles["engineering"].profile_id == keccak(text="engineering")
    raw = json.loads((resources.files("lianzheng.rules.experts") / "profiles.json").read_text(encoding="utf-8"))
    assert raw["format"] == "lianzheng-committee-profiles/1"
    for name, p in raw["profiles"].items():
        for key in ("min_members", "odd", "experts_min_share", "max_replacements"):
            assert p[key]["source"]
        assert ("not_legal" in p) == (name == "demo")
    assert "第三十七条" in raw["profiles"]["engineering"]["min_members"]["source"]
    assert "第四十七条" in raw["profiles"]["government_procurement_major"]["min_members"]["source"]


@pytest.mark.parametrize("profile, quotas, reps, reason", [
    ("engineering", (2,), 2, "a committee of 4 (2 experts + 2 tenderer representatives) has fewer than 5 members"),
    ("engineering", (3, 1), 2, "must have an odd number of members"),
    ("engineering", (3,), 2, "needs experts to be at least 2/3 of the members"),
    ("government_procurement", (3,), 1, "has fewer than 5 members"),
    ("government_procurement", (5, 1), 0, "must have an odd number of members"),
    ("government_procurement", (3, 1), 3, "needs experts to be at least 2/3"),
    ("government_procurement_major", (5,), 0, "has fewer than 7 members"),
    ("government_procurement_major", (6, 2), 0, "must have an odd number of members"),
    ("government_procurement_major", (4,), 3, "needs experts to be at least 2/3"),
    ("demo", (3,), 0, "has fewer than 5 members"),
    ("demo", (3,), 2, "needs experts to be at least 2/3"),
])
def test_a_plan_that_breaks_its_profile_is_refused(profile, quotas, reps, reason):
    strata = tuple(_stratum(speciality=f"S{i}", quota=q) for i, q in enumerate(quotas))
    the_plan = plan(profile=profile, strata=strata, tenderer_reps=reps)
    roster = Roster(experts=tuple(_expert(f"E{i:02d}", specialities=tuple(f"S{j}" for j in range(len(quotas))))
                                  for i in range(40)))
    with pytest.raises(RosterError) as caught:
        Pool.build(registry(roster), the_plan, BIDDER_IDS)
    assert reason in _one_line(caught) and f"profile {profile!r}" in str(caught.value)
    with pytest.raises(RosterError, match=re.escape(reason)):
        check_committee(load_committee_profiles()[profile], sum(quotas), reps)


def test_committees_the_profiles_allow():
    profiles = load_committee_profiles()
    for name, experts, reps in [("engineering", 5, 0), ("engineering", 4, 1), ("engineering", 5, 2),
                                ("government_procurement", 9, 0), ("government_procurement_major", 5, 2),
                                ("demo", 7, 2)]:
        check_committee(profiles[name], experts, reps)
        plan(profile=name, strata=(_stratum(quota=experts),), tenderer_reps=reps).check_committee()


# --- building, commitments, the pool file ------------------------------------------------


def test_build_refuses_short_strata_and_a_registry_of_another_province():
    pool = build_pool(roster_with_pool(12))
    assert [sp.size for sp in pool.strata] == [12, 3, 3] and len(pool.stratum(MAIN_A).excluded) == 10
    with pytest.raises(RosterError) as caught:
        build_pool(roster_with_pool(2))
    assert _one_line(caught) == "stratum 0 (A010101, main, 37): only 2 eligible experts for a quota of 3"
    with pytest.raises(RosterError, match=r"stratum 1 \(B020202, main, 37\): only 0 eligible"):
        build_pool(roster_with_pool(12, others=0))
    gansu = Roster(experts=tuple(_expert(f"G{i}", region="620400") for i in range(5)))
    with pytest.raises(RosterError, match="the plan has no stratum in province 62 \\(it draws from 37\\)"):
        Pool.build(registry(gansu, province="62"), plan(), BIDDER_IDS)
    # a remote-province stratum is built from that province's registry only
    the_plan = plan(strata=(_stratum(quota=3), _stratum(venue="remote", scope="62", quota=1)), tenderer_reps=1)
    remote = Pool.build(registry(gansu, province="62"), the_plan, BIDDER_IDS, SECRET)
    assert [sp.index for sp in remote.strata] == [1] and remote.stratum(1).size == 5 and remote.province == "62"
    with pytest.raises(RosterError, match="stratum 0 is not one of province 62's strata"):
        remote.stratum(0)


def test_commitment_is_deterministic_and_binds_inputs():
    roster = random_roster(200, seed=7)
    a, b = build_pool(roster), build_pool(roster)
    assert [(s.root, s.size, s.exclusion_hash) for s in a.strata] == [(s.root, s.size, s.exclusion_hash)
                                                                      for s in b.strata]
    other = build_pool(roster, secret=bytes(32))
    assert all(x.root != y.root for x, y in zip(a.strata, other.strata))  # salted: the secret changes every leaf
    assert len({s.root for s in a.strata}) == 3
    # the stratum index is in the salt: the same expert in another stratum has another leaf
    e = a.stratum(MAIN_A).experts[0]
    assert a.stratum(MAIN_A).salt(e.id) != a.stratum(MAIN_B).salt(e.id)
    # one more relation (an expert now tied to a bidder) changes its stratum's pool and exclusion list
    victim = a.stratum(MAIN_A).experts[0].id
    tied = roster.model_copy(update={"relations": (*roster.relations,
                                                     Relation(expert_id=victim, party=BIDDERS[0], kind="other"))})
    c = build_pool(tied)
    x, y = c.stratum(MAIN_A), a.stratum(MAIN_A)
    assert x.size == y.size - 1 and x.root != y.root and x.exclusion_hash != y.exclusion_hash
    assert [(s.root, s.exclusion_hash) for s in c.strata[1:]] == [(s.root, s.exclusion_hash) for s in a.strata[1:]]
    # the bidders are inputs too: without that bidder, the victim is eligible again
    assert victim in x.excluded and victim not in build_pool(tied, bidders=BIDDER_IDS[1:]).stratum(MAIN_A).excluded


def test_exclusion_hash_changes_when_only_a_reason_changes():
    experts = [_expert(f"E{i}") for i in range(6)]
    drawn = build_pool(Roster(experts=tuple(experts), history=(
        PastDraw(expert_id="E1", tenderer=TENDERER, drawn_on=AS_OF),)), plan(strata=(_stratum(quota=5),)))
    penalised = build_pool(Roster(experts=tuple(experts), penalties=(
        Penalty(expert_id="E1", decided_on=AS_OF, note="x"),)), plan(strata=(_stratum(quota=5),)))
    x, y = drawn.stratum(0), penalised.stratum(0)
    assert (x.root, x.size) == (y.root, y.size) and x.exclusion_hash != y.exclusion_hash
    assert x.excluded == {"E1": ["recently_drawn_for_tenderer"]} and y.excluded == {"E1": ["penalised"]}


def test_reveal_is_an_rfc9162_inclusion_proof_of_the_salted_leaf():
    pool = build_pool(random_roster(333, seed=3))
    for sp in pool.strata:
        for position in sorted({0, 1, sp.size // 2, sp.size - 1}):
            shown = sp.reveal(position)
            expert = sp.experts[position]
            assert shown["expert"] == {"id": expert.id, "name": expert.name} and shown["stratum"] == sp.index
            assert (shown["pool_root"], shown["pool_size"]) == (sp.root.hex(), sp.size)
            assert leaf_of(bytes.fromhex(shown["salt"]), expert).hex() == shown["leaf"]
            verify_inclusion(SHA256, position, sp.size, SHA256.hash_leaf(bytes.fromhex(shown["leaf"])),
                             [bytes.fromhex(p) for p in shown["proof"]], sp.root)  # raises when wrong


def test_pool_file_round_trip_and_bad_files(tmp_path):
    pool = build_pool(random_roster(60, seed=5))
    path = tmp_path / "pool.json"
    path.write_text("{}")
    path.chmod(0o644)
    pool.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = Pool.load(path)
    assert again.plan == pool.plan and again.bidders == pool.bidders and again.registry.root == pool.registry.root
    assert [(s.index, s.root, s.size, s.exclusion_hash, s.excluded) for s in again.strata] == \
        [(s.index, s.root, s.size, s.exclusion_hash, s.excluded) for s in pool.strata]
    assert "secret" not in repr(pool.strata[0]) and pool.secret.hex() not in repr(pool)
    good = json.loads(path.read_text())
    assert good["format"] == POOL_FORMAT and set(good) == {"format", "plan", "registry", "bidders", "secret"}
    for data, message in [
        ({"format": "something else"}, "not a pool file (lianzheng-expert-pool/3)"),
        ({**good, "secret": "abcd"}, "secret must be 32 bytes of hex"),
        ({**good, "bidders": ["00" * 31]}, "bidders must be a list of bidder ids"),
        ({**good, "plan": {**good["plan"], "region": "99"}}, "plan: region: String should match pattern"),
        ({**good, "registry": {**good["registry"], "secret": None}}, "registry: secret must be 32 bytes of hex"),
    ]:
        path.write_text(json.dumps(data))
        with pytest.raises(RosterError) as caught:
            Pool.load(path)
        assert _one_line(caught).startswith(str(path)) and message in str(caught.value)
    path.write_text("{not json")
    with pytest.raises(RosterError, match="pool.json: not valid JSON"):
        Pool.load(path)


# --- reading rosters and plans -----------------------------------------------------------


def test_roster_csv_and_json_inputs(tmp_path):
    (tmp_path / "experts.csv").write_text(
        "id,name,specialities,region,employer,available\n"
        "E1,张三,A010101;B020202,370100,91370100MA3C120001,true\n"
        "E2,李四,A010101,370200,,false\n"
        "E3,王五,B020202,370300,,\n", encoding="utf-8")
    (tmp_path / "relations.csv").write_text(
        "expert_id,party,kind,since,until\nE2,12370000MB1234567X,past_employment,2019-03-01,2024-06-30\n"
        "E1,12370000mb1234567x,relative,,\n")
    (tmp_path / "history.csv").write_text("expert_id,tenderer,drawn_on\nE1,12370000MB1234567X,2026-11-01\n")
    (tmp_path / "penalties.csv").write_text("expert_id,decided_on,until,note\nE3,2026-02-01,,absent twice\n")
    roster = load_roster(tmp_path / "experts.csv", tmp_path / "relations.csv", tmp_path / "history.csv",
                         tmp_path / "penalties.csv")
    assert roster.experts[0].specialities == ("A010101", "B020202") and roster.experts[1].employer is None
    assert not roster.experts[1].available and roster.experts[2].available  # empty cell: the default
    assert roster.relations[0].until == date(2024, 6, 30) and roster.relations[1].since is None
    assert roster.relations[1].party == TENDERER  # credit codes are upper-cased
    assert roster.history[0].drawn_on == date(2026, 11, 1) and roster.penalties[0].until is None
    (tmp_path / "roster.json").write_text(roster.model_dump_json())
    assert load_roster(tmp_path / "roster.json") == roster


@pytest.mark.parametrize("files, message", [
    ({"experts.csv": "id,name,specialities,region\nE1,x,A01,370100\nE2,y,A01,999999\n"},
     "experts.csv: row 3: region: String should match pattern"),
    ({"experts.csv": "id,name,specialities,region\nE1,x,,370100\n"},
     "experts.csv: row 2: specialities: Field required"),
    ({"experts.csv": "id,name,specialities,region\nE1,x,A01,370100,surplus\n"},
     "experts.csv: row 2: more cells than the header has columns"),
    ({"relations.csv": "expert_id,party,relation\nE1,12370000MB1234567X,kin\n"},
     "relations.csv: row 2: kind: Field required"),
    ({"relations.csv": "expert_id,party,kind\nE1,12370000MB1234567X,cousin\n"},
     "relations.csv: row 2: kind: Input should be 'relative', 'past_employment', 'interest' or 'other'"),
    ({"relations.csv": "expert_id,party,kind,since,until\nE1,12370000MB1234567X,other,2020-01-02,2020-01-01\n"},
     "relations.csv: row 2: until 2020-01-01 is before since 2020-01-02"),
    ({"relations.csv": "expert_id,party,kind\nE9,12370000MB1234567X,other\n"},
     "relations.csv: row 2: expert_id: unknown expert 'E9'"),
    ({"history.csv": "expert_id,tenderer,drawn_on\nE1,12370000MB1234567X,yesterday\n"},
     "history.csv: row 2: drawn_on: Input should be a valid date"),
    ({"penalties.csv": "expert_id,decided_on,until,note\nE1,2026-01-01,2025-01-01,x\n"},
     "penalties.csv: row 2: until 2025-01-01 is before decided_on 2026-01-01"),
    ({"roster.json": '{"experts": [{"id": "E1", "name": "x", "specialities": ["A"], "region": "370100"}],'
                     ' "penalties": [{"expert_id": "E2", "decided_on": "2026-01-01", "note": "x"}]}'},
     "roster.json: penalties.0.expert_id: unknown expert 'E2'"),
    ({"roster.json": '{"experts": [{"id": "E1", "name": "x", "specialities": ["A"], "region": "370100"},'
                     ' {"id": "E1", "name": "y", "specialities": ["A"], "region": "370100"}]}'},
     "roster.json: experts.1.id: expert id 'E1' is not unique"),
    ({"roster.json": '{"experts": [}'}, "roster.json: not valid JSON: Expecting value"),
])
def test_bad_roster_files_are_named_in_one_line(tmp_path, files, message):
    (tmp_path / "experts.csv").write_text("id,name,specialities,region\nE1,x,A01,370100\n")
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    extra = {k: tmp_path / f"{k}.csv" for k in ("relations", "history", "penalties") if f"{k}.csv" in files}
    main = tmp_path / ("roster.json" if "roster.json" in files else "experts.csv")
    with pytest.raises(RosterError) as caught:
        load_roster(main, **extra)
    assert message in _one_line(caught) and str(tmp_path) in str(caught.value)


def test_missing_files_and_json_roster_with_csv_parts(tmp_path):
    with pytest.raises(RosterError, match="cannot read .*nowhere.csv: No such file"):
        load_roster(tmp_path / "nowhere.csv")
    (tmp_path / "roster.json").write_text('{"experts": []}')
    with pytest.raises(RosterError, match="a JSON roster holds its relations, history and penalties itself"):
        load_roster(tmp_path / "roster.json", penalties=tmp_path / "p.csv")


def test_load_plan(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(plan().model_dump_json())
    assert load_plan(path) == plan()
    data = json.loads(plan().model_dump_json())
    for changes, message in [
        ({"strata": [{**data["strata"][0], "quota": 0}]}, "plan.json: strata.0.quota: Input should be greater"),
        ({"strata": [{**data["strata"][0], "scope": "3701"}]}, "plan.json: strata.0 (A010101, main, 3701)"),
        ({"tenderer_reps": 11}, "plan.json: tenderer_reps: Input should be less than or equal to 10"),
        ({"departments": ["nope"]}, "plan.json: departments.0: String should match pattern"),
        ({"k": 7}, "plan.json: k: Extra inputs are not permitted"),
        ({"strata": []}, "plan.json: strata: Tuple should have at least 1 item"),
    ]:
        path.write_text(json.dumps({**data, **changes}))
        with pytest.raises(RosterError) as caught:
            load_plan(path)
        assert message in _one_line(caught)
    assert DrawPlan.model_validate({**data, "agency": ""}).agency is None
