"""Registries and requests for the expert-draw tests, with avoidance cases built on purpose."""
from __future__ import annotations

import random
from datetime import date

from lianzheng.rules.experts.roster import DrawRequest, Expert, PastDraw, Relation, Roster

TENDERER = "12370000MB1234567X"
BIDDERS = ("91370100MA3C120001", "91370100MA3C120002", "91370100MA3C120003")
OTHER_COMPANY = "91370200MA3D450009"


def credit(rng: random.Random) -> str:
    return "9137" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(14))


def request(k: int = 7, **changes) -> DrawRequest:
    base = dict(region="370100", project="SDGP-2026-0042", section="S1", speciality="A010101", mode="local",
                tenderer=TENDERER, bidders=BIDDERS, cooldown_days=30, as_of=date(2026, 11, 23), k=k)
    return DrawRequest(**{**base, **changes})


def random_roster(size: int, seed: int = 1, tie_rate: float = 0.1) -> Roster:
    """``size`` experts, most of them in scope of ``request()``; about ``tie_rate`` of them tied to the
    tenderer or a bidder in one of the ways avoidance must catch, plus noise that must not matter."""
    rng = random.Random(seed)
    experts, relations, history = [], [], []
    for i in range(size):
        eid = f"E{i:07d}"
        employer = credit(rng)
        roll = rng.random()
        if roll < tie_rate / 3:
            employer = rng.choice((TENDERER, *BIDDERS))
        elif roll < 2 * tie_rate / 3:
            relations.append(Relation(expert_id=eid, party=rng.choice((TENDERER, *BIDDERS)), relation="former employee"))
        elif roll < tie_rate:
            history.append(PastDraw(expert_id=eid, tenderer=TENDERER, drawn_on=date(2026, 11, rng.randint(1, 22))))
        if rng.random() < 0.05:
            relations.append(Relation(expert_id=eid, party=OTHER_COMPANY, relation="spouse works there"))
        experts.append(Expert(id=eid, name=f"专家{i}", specialities=("A010101",) if rng.random() < 0.9 else ("B020202",),
                              region=rng.choice(("370100", "370200", "370000")), employer=employer,
                              available=rng.random() > 0.02))
    return Roster(experts=tuple(experts), relations=tuple(relations), history=tuple(history))


def roster_with_pool(eligible: int, seed: int = 1, avoided: int = 10) -> Roster:
    """Exactly ``eligible`` experts in the pool of ``request()``, plus ``avoided`` tied ones and
    ``avoided`` out of scope, interleaved by id so that avoidance changes the positions."""
    rng = random.Random(seed)
    experts, relations, history = [], [], []
    kinds = ["ok"] * eligible + ["tied"] * avoided + ["scope"] * avoided
    rng.shuffle(kinds)
    for i, kind in enumerate(kinds):
        eid = f"E{i:07d}"
        expert = dict(id=eid, name=f"专家{i}", specialities=("A010101",), region="370100", employer=credit(rng))
        if kind == "tied":
            way = i % 3
            if way == 0:
                expert["employer"] = rng.choice(BIDDERS)
            elif way == 1:
                relations.append(Relation(expert_id=eid, party=rng.choice((TENDERER, *BIDDERS)), relation="kin"))
            else:
                history.append(PastDraw(expert_id=eid, tenderer=TENDERER, drawn_on=date(2026, 11, 20)))
        elif kind == "scope":
            expert["region"] = "620400"
        experts.append(Expert(**expert))
    return Roster(experts=tuple(experts), relations=tuple(relations), history=tuple(history))
