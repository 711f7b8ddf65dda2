"""The eligible pool (回避) and its commitment: pure functions of the published inputs."""
from __future__ import annotations

import json
import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianzheng.rules.experts.pool import Pool, avoidance, leaf_of
from lianzheng.rules.experts.roster import (
    Expert,
    PastDraw,
    Relation,
    Roster,
    RosterError,
    load_request,
    load_roster,
)
from lianzheng.rules.experts.sequence import positions
from lianzheng.sdk.merkle import SHA256, verify_inclusion
from tests.rules.experts_data import (
    BIDDERS,
    OTHER_COMPANY,
    TENDERER,
    random_roster,
    request,
)


def _expert(eid, **kw):
    base = dict(id=eid, name=f"name-{eid}", specialities=("A010101",), region="370100", employer=None)
    return Expert(**{**base, **kw})


def test_avoidance_excludes_every_tie_and_only_ties():
    experts = [
        _expert("E01"),                                             # eligible
        _expert("E02", employer=BIDDERS[1]),                        # works for a bidder
        _expert("E03", employer=TENDERER),                          # works for the tenderer
        _expert("E04"),                                             # related to a bidder
        _expert("E05"),                                             # related to the tenderer
        _expert("E06"),                                             # drawn for this tenderer 10 days ago
        _expert("E07"),                                             # drawn for this tenderer 40 days ago: fine
        _expert("E08", available=False),                            # on leave
        _expert("E09", specialities=("B020202",)),                  # other speciality: out of scope
        _expert("E10", region="620400"),                            # Baiyin, Gansu: out of a local draw
        _expert("E11", region="370200", employer=OTHER_COMPANY),    # Qingdao, tied to a non-party: eligible
        _expert("E12", employer=BIDDERS[0], available=False),       # two reasons
    ]
    roster = Roster(experts=tuple(experts), relations=(
        Relation(expert_id="E04", party=BIDDERS[2], relation="former employee"),
        Relation(expert_id="E05", party=TENDERER, relation="shareholder"),
        Relation(expert_id="E11", party=OTHER_COMPANY, relation="spouse"),
    ), history=(
        PastDraw(expert_id="E06", tenderer=TENDERER, drawn_on=date(2026, 11, 13)),
        PastDraw(expert_id="E07", tenderer=TENDERER, drawn_on=date(2026, 10, 14)),
        PastDraw(expert_id="E01", tenderer=OTHER_COMPANY, drawn_on=date(2026, 11, 20)),
    ))
    pool = Pool.build(roster, request(k=3))
    assert [e.id for e in pool.experts] == ["E01", "E07", "E11"]
    assert pool.excluded == {
        "E02": ["employer_is_bidder"], "E03": ["employer_is_tenderer"], "E04": ["related_to_bidder"],
        "E05": ["related_to_tenderer"], "E06": ["recently_drawn_for_tenderer"], "E08": ["unavailable"],
        "E12": ["unavailable", "employer_is_bidder"]}
    remote = Pool.build(roster, request(k=1, mode="remote"))  # 异地: experts of other provinces only
    assert [e.id for e in remote.experts] == ["E10"]
    assert Pool.build(roster, request(k=1, mode="remote", remote_provinces=("62",))).size == 1
    with pytest.raises(RosterError, match="only 0 eligible"):
        Pool.build(roster, request(k=1, mode="remote", remote_provinces=("15",)))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=10**6),
       st.floats(min_value=0.0, max_value=0.9))
def test_no_expert_tied_to_a_bidder_or_the_tenderer_is_ever_eligible(size, seed, tie_rate):
    roster = random_roster(size, seed, tie_rate)
    req = request(k=1)
    pool = Pool(req, roster, b"\x01" * 32)
    parties = {TENDERER, *BIDDERS}
    tied = {r.expert_id for r in roster.relations if r.party in parties}
    recent = {h.expert_id for h in roster.history}  # all within the 30 days before as_of
    for e in pool.experts:
        assert e.employer not in parties and e.id not in tied and e.id not in recent and e.available
        assert "A010101" in e.specialities and e.region.startswith("37")
    # and nobody else is dropped: in scope and untied means in the pool
    in_scope = [e for e in roster.experts if "A010101" in e.specialities]
    assert len(pool.experts) + len(avoidance(roster, req)) == len(in_scope)


def test_commitment_is_deterministic_and_binds_inputs():
    roster = random_roster(200, seed=7)
    secret = bytes(range(32))
    a, b = Pool(request(), roster, secret), Pool(request(), roster, secret)
    assert (a.root, a.size, a.exclusion_hash) == (b.root, b.size, b.exclusion_hash)
    assert Pool(request(), roster, bytes(32)).root != a.root  # salted: the secret changes every leaf
    # one more relation (an expert now tied to a bidder) changes pool and exclusion list
    victim = a.experts[0].id
    tied = roster.model_copy(update={"relations": (*roster.relations,
                                                     Relation(expert_id=victim, party=BIDDERS[0], relation="x"))})
    c = Pool(request(), tied, secret)
    assert c.size == a.size - 1 and c.root != a.root and c.exclusion_hash != a.exclusion_hash
    # a reason changed but the same experts avoided: only the exclusion hash tells
    moved = roster.model_copy(update={"history": ()})
    for e in moved.experts:
        if e.id in {h.expert_id for h in roster.history}:
            moved = moved.model_copy(update={"relations": (*moved.relations,
                                                           Relation(expert_id=e.id, party=TENDERER, relation="y"))})
    d = Pool(request(), moved, secret)
    assert (d.root, d.size) == (a.root, a.size) and d.exclusion_hash != a.exclusion_hash


def test_reveal_is_an_rfc9162_inclusion_proof_of_the_salted_leaf():
    pool = Pool(request(), random_roster(333, seed=3), b"\x07" * 32)
    for position in (0, 1, pool.size // 2, pool.size - 1):
        shown = pool.reveal(position)
        expert = pool.experts[position]
        assert shown["expert"] == {"id": expert.id, "name": expert.name}
        assert leaf_of(bytes.fromhex(shown["salt"]), expert).hex() == shown["leaf"]
        verify_inclusion(SHA256, position, pool.size, SHA256.hash_leaf(bytes.fromhex(shown["leaf"])),
                         [bytes.fromhex(p) for p in shown["proof"]], pool.root)  # raises when wrong


def test_pool_file_round_trip_and_bad_files(tmp_path):
    pool = Pool.build(random_roster(50, seed=5), request(k=5))
    path = tmp_path / "pool.json"
    pool.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = Pool.load(path)
    assert (again.root, again.size, again.exclusion_hash) == (pool.root, pool.size, pool.exclusion_hash)
    path.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(RosterError, match="not a pool file"):
        Pool.load(path)


def test_registry_csv_and_json_inputs(tmp_path):
    (tmp_path / "experts.csv").write_text(
        "id,name,specialities,region,employer,available\n"
        "E1,张三,A010101;B020202,370100,91370100MA3C120001,true\n"
        "E2,李四,A010101,370200,,false\n", encoding="utf-8")
    (tmp_path / "relations.csv").write_text("expert_id,party,relation\nE2,12370000MB1234567X,former employee\n")
    (tmp_path / "history.csv").write_text("expert_id,tenderer,drawn_on\nE1,12370000MB1234567X,2026-11-01\n")
    roster = load_roster(tmp_path / "experts.csv", tmp_path / "relations.csv", tmp_path / "history.csv")
    assert roster.experts[0].specialities == ("A010101", "B020202") and roster.experts[1].employer is None
    assert not roster.experts[1].available and roster.history[0].drawn_on == date(2026, 11, 1)
    (tmp_path / "roster.json").write_text(roster.model_dump_json())
    assert load_roster(tmp_path / "roster.json") == roster
    (tmp_path / "relations.csv").write_text("expert_id,party,relation\nE9,12370000MB1234567X,typo\n")
    with pytest.raises(RosterError, match="unknown expert 'E9'"):
        load_roster(tmp_path / "experts.csv", tmp_path / "relations.csv")
    (tmp_path / "bad.csv").write_text("id,name,specialities,region\nE1,x,A01,999999\n")
    with pytest.raises(RosterError, match=r"bad.csv: experts.0.region"):
        load_roster(tmp_path / "bad.csv")
    (tmp_path / "req.json").write_text(json.dumps({"region": "370100", "project": "P", "section": "S",
                                                   "speciality": "A010101", "tenderer": TENDERER,
                                                   "as_of": "2026-11-23", "k": 99}))
    with pytest.raises(RosterError, match="k"):
        load_request(tmp_path / "req.json")


def test_positions_are_distinct_and_alternates_extend_the_same_sequence():
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(1, 5000)
        seed = rng.randbytes(32)
        k = rng.randint(1, min(30, n))
        drawn = positions(seed, n, k)
        assert len(set(drawn)) == k and all(0 <= p < n for p in drawn)
        more = positions(seed, n, min(n, k + 3))
        assert more[:k] == drawn
    assert positions(b"\x00" * 32, 1, 1) == [0]


CHI2_CRITICAL_19_DOF_P001 = 43.820  # chi-square quantile, 19 degrees of freedom, significance 0.001


def test_every_eligible_expert_is_drawn_with_the_expected_frequency():
    """20 experts, k = 5, 4,000 draws with seeds SHA-256("draw-i"): each expert expected 1,000 times.
    Pearson's chi-square over the 20 counts must stay below the 0.1% critical value (43.82, 19 dof);
    and the first position alone must be uniform too (expected 200 each)."""
    import hashlib

    n, k, draws = 20, 5, 4000
    counts, first = [0] * n, [0] * n
    for i in range(draws):
        drawn = positions(hashlib.sha256(f"draw-{i}".encode()).digest(), n, k)
        first[drawn[0]] += 1
        for p in drawn:
            counts[p] += 1

    def chi2(observed, expected):
        return sum((o - expected) ** 2 / expected for o in observed)

    assert chi2(counts, draws * k / n) < CHI2_CRITICAL_19_DOF_P001
    assert chi2(first, draws / n) < CHI2_CRITICAL_19_DOF_P001
    # the test can fail: a procedure that clamps 32 values onto 20 (the last expert 13/32 of the time) is caught
    biased = [0] * n
    for i in range(draws):
        x = hashlib.sha256(f"draw-{i}".encode()).digest()[0]
        biased[min(x % 32, n - 1)] += 1
    assert chi2(biased, draws / n) > CHI2_CRITICAL_19_DOF_P001
