"""Rosters, registries and plans for the expert-draw tests, with avoidance cases built on purpose.

``plan()`` draws for a Jinan (370100) engineering section: 3 experts A010101 from Shandong
(main), 1 expert B020202 from Shandong (main), 1 expert A010101 from Qingdao (remote city 3702),
plus 2 representatives of the tenderer: a committee of 7. Every roster here is of Shandong (37).
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.registry import Registry
from lianzheng.rules.experts.roster import DrawPlan, Expert, PastDraw, Penalty, Relation, Roster, Stratum
from lianzheng.rules.tender.sealing import bidder_id_of

TENDERER = "12370000MB1234567X"
AGENCY = "91370100MA3AGENCY1"
DEPARTMENT = "11370000MB0DEPT001"
BIDDERS = ("91370100MA3C120001", "91370100MA3C120002", "91370100MA3C120003")
BIDDER_IDS = tuple(bidder_id_of(b) for b in BIDDERS)
OTHER_COMPANY = "91370200MA3D450009"
PARTIES = (TENDERER, AGENCY, DEPARTMENT, *BIDDERS)
AS_OF = date(2026, 11, 23)
SECRET = bytes(range(32))

A, B, C = "A010101", "B020202", "C030303"
MAIN_A, MAIN_B, REMOTE_A = 0, 1, 2  # the strata of plan()
STRATA = (Stratum(speciality=A, venue="main", scope="37", quota=3),
          Stratum(speciality=B, venue="main", scope="37", quota=1),
          Stratum(speciality=A, venue="remote", scope="3702", quota=1))


def credit(rng: random.Random) -> str:
    return "9137" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(14))


def plan(**changes) -> DrawPlan:
    base = {"region": "370100", "project": "SDGP-2026-0042", "section": "S1", "profile": "engineering",
                "tenderer": TENDERER, "agency": AGENCY, "departments": (DEPARTMENT,), "tenderer_reps": 2,
                "as_of": AS_OF, "cooldown_days": 30, "strata": STRATA}
    return DrawPlan(**{**base, **changes})


def registry(roster: Roster, secret: bytes = SECRET, province: str = "37", as_of: date = AS_OF) -> Registry:
    return Registry.build(roster, province, as_of, secret)


def build_pool(roster: Roster, the_plan: DrawPlan | None = None, secret: bytes = SECRET,
               bidders: tuple[bytes, ...] = BIDDER_IDS) -> Pool:
    """Shandong's pools of ``the_plan`` (default ``plan()``), built (quotas and profile checked)."""
    return Pool.build(registry(roster), the_plan or plan(), bidders, secret)


def random_roster(size: int, seed: int = 1, tie_rate: float = 0.1) -> Roster:
    """``size`` Shandong experts, most of them in a stratum of ``plan()``; about ``tie_rate`` of them
    tied to a party in one of the ways avoidance must catch, plus noise that must not matter
    (ties to others, ties ended long ago, penalties lapsed or decided later, old draws)."""
    rng = random.Random(seed)
    experts, relations, penalties, history = [], [], [], []
    for i in range(size):
        eid = f"E{i:07d}"
        employer = credit(rng)
        roll = rng.random()
        if roll < tie_rate / 4:
            employer = rng.choice(PARTIES)
        elif roll < 2 * tie_rate / 4:
            relations.append(Relation(expert_id=eid, party=rng.choice(PARTIES), kind=rng.choice(
                ("relative", "past_employment", "interest", "other")), until=rng.choice((None, AS_OF))))
        elif roll < 3 * tie_rate / 4:
            history.append(PastDraw(expert_id=eid, tenderer=TENDERER, drawn_on=AS_OF - timedelta(rng.randint(0, 30))))
        elif roll < tie_rate:
            penalties.append(Penalty(expert_id=eid, decided_on=date(2025, 3, 1), until=rng.choice((None, AS_OF)),
                                     note="late report"))
        noise = rng.random()
        if noise < 0.05:
            relations.append(Relation(expert_id=eid, party=OTHER_COMPANY, kind="relative"))
        elif noise < 0.10:
            relations.append(Relation(expert_id=eid, party=rng.choice(PARTIES), kind="past_employment",
                                      since=date(2015, 1, 1), until=date(2023, 11, 22)))  # 3 years + 1 day
        elif noise < 0.15:
            lapsed, later = (date(2020, 1, 1), AS_OF - timedelta(1)), (AS_OF + timedelta(1), None)
            decided_on, until = rng.choice((lapsed, later))
            penalties.append(Penalty(expert_id=eid, decided_on=decided_on, until=until, note="noise"))
        elif noise < 0.20:
            history.append(PastDraw(expert_id=eid, tenderer=TENDERER, drawn_on=AS_OF - timedelta(31)))
        specialities = rng.choice(((A,), (A,), (A,), (B,), (A, B), (B, A), (C,), (C, A)))
        experts.append(Expert(id=eid, name=f"专家{i}", specialities=specialities,
                              region=rng.choice(("370100", "370102", "370200", "370211", "370300")),
                              employer=employer, available=rng.random() > 0.02))
    return Roster(experts=tuple(experts), relations=tuple(relations), penalties=tuple(penalties),
                  history=tuple(history))


def roster_with_pool(eligible: int, seed: int = 1, avoided: int = 10, others: int = 3) -> Roster:
    """Exactly ``eligible`` experts in the pool of stratum 0 of ``plan()`` (A010101, main) and
    ``others`` in each of strata 1 and 2; plus ``avoided`` tied experts of stratum 0 and
    ``avoided`` out of every stratum, interleaved by id so that avoidance changes the positions."""
    rng = random.Random(seed)
    experts, relations, penalties, history = [], [], [], []
    kinds = ["ok"] * eligible + ["tied"] * avoided + ["scope"] * avoided + ["b"] * others + ["qingdao"] * others
    rng.shuffle(kinds)
    ties = 0
    for i, kind in enumerate(kinds):
        eid = f"E{i:07d}"
        expert = {"id": eid, "name": f"专家{i}", "specialities": (A,), "region": "370100", "employer": credit(rng)}
        if kind == "tied":
            way, ties = ties % 4, ties + 1
            if way == 0:
                expert["employer"] = rng.choice(BIDDERS)
            elif way == 1:
                relations.append(Relation(expert_id=eid, party=rng.choice((TENDERER, *BIDDERS)), kind="relative"))
            elif way == 2:
                history.append(PastDraw(expert_id=eid, tenderer=TENDERER, drawn_on=AS_OF - timedelta(3)))
            else:
                penalties.append(Penalty(expert_id=eid, decided_on=date(2026, 1, 5), note="absent twice"))
        elif kind == "scope":
            expert["specialities"] = (C,)
        elif kind == "b":
            expert["specialities"] = (B,)
        elif kind == "qingdao":
            expert["region"] = "370202"
        experts.append(Expert(**expert))
    return Roster(experts=tuple(experts), relations=tuple(relations), penalties=tuple(penalties),
                  history=tuple(history))
