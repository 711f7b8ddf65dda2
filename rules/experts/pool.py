"""One province's eligible pools for a draw and their commitments: pure functions of the inputs.

A plan (``DrawPlan``) asks experts by strata; a province's registry (``Registry``) gives one pool
per stratum of that province (main strata and remote-city strata: the centre's province; a
remote-province stratum: that province). The inputs are the plan, the registry and the bidders
(bidder ids, SHA-256 of their credit codes, read from the tender contract after the deadline:
never from the centre).

Assignment: an expert serves in at most one stratum of the plan. Take the expert's specialities
in registered order; for each, the stratum of that speciality whose scope covers the expert; the
first hit is the expert's stratum (none: not in this draw). Scopes:

- main stratum: the expert's region is in the plan's province and its city (4 digits) is not
  the scope of any remote-city stratum of the plan (whatever that stratum's speciality);
- remote city (4 digits): the expert's region starts with the scope;
- remote province (2 digits): the expert's region starts with the scope.

Strata of one speciality never overlap (the plan has no duplicate stratum), so the first hit is
the only one for that speciality.

Avoidance (回避) of an assigned expert, every reason recorded, in this order:

- ``unavailable``: the registry marks the expert unavailable (leave, illness, suspension);
- ``employer_is_tenderer``, ``employer_is_bidder``, ``employer_is_agency``: the expert works for
  the tenderer, a bidder (its bidder id is among the bidders), the procurement agency;
- ``department_staff``: the expert works for a supervising or competent department of the
  project (评标委员会和评标方法暂行规定 第十二条: 项目主管部门或者行政监督部门的人员);
- ``related_to_tenderer``, ``related_to_bidder``, ``related_to_agency``: a relation of any kind
  with that party in force within the window: ``since`` on or before ``as_of`` (or none) and
  ``until`` on or after ``as_of`` minus ``TIE_YEARS`` years (or none: ongoing);
- ``penalised``: a penalty decided on or before ``as_of`` that has not lapsed (``until`` none or
  on or after ``as_of``);
- ``recently_drawn_for_tenderer``: drawn for the same tenderer within ``cooldown_days`` before
  ``as_of`` (both ends included).

Rows dated after ``as_of`` (a relation that begins, a penalty decided, a draw) do not count.
Each stratum's pool is its remaining experts sorted by id; position i is the i-th.

Commitment per stratum (index i = position of the stratum in the plan; only this leaves the
centre's domain, 数据可用不可见):

    salt       = HMAC-SHA256(pool secret, "expert:" + i + ":" + id)
    leaf       = SHA-256(salt || JCS({"id": id, "name": name}))                 (32 bytes)
    pool root  = RFC 9162 SHA-256 Merkle root over the leaves of the stratum's pool
    exclusion  = HMAC-SHA256(pool secret, JCS([{"id", "reasons"}, ...] sorted by id))
                 (the experts assigned to the stratum and avoided)

The pool file (JSON, confidential: it holds the registry, both secrets), written 0600, lets a
supervisor recompute all of it::

    {"format": "lianzheng-expert-pool/3", "plan": {...}, "registry": {registry file JSON},
     "bidders": ["<64 hex>", ...], "secret": "<64 hex>"}
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from lianzheng.rules.errors import RosterError
from lianzheng.rules.experts.registry import Registry, _hex_bytes, _read_json, _write_private
from lianzheng.rules.experts.roster import DrawPlan, Expert, Roster, Stratum, _validated
from lianzheng.rules.tender.sealing import bidder_id_of
from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.merkle import SHA256, MerkleTree

POOL_FORMAT = "lianzheng-expert-pool/3"  # 3: strata, a province's registry, bidder ids

# 财库〔2016〕198号《政府采购评审专家管理办法》: an expert who, within the last three years, was
# employed by a supplier or had such ties with it, must withdraw (回避). Applied to every party.
TIE_YEARS = 3

REASONS = ("unavailable", "employer_is_tenderer", "employer_is_bidder", "employer_is_agency", "department_staff",
           "related_to_tenderer", "related_to_bidder", "related_to_agency", "penalised",
           "recently_drawn_for_tenderer")


def years_before(day: date, years: int) -> date:
    """``day`` ``years`` years earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _remote_cities(plan: DrawPlan) -> frozenset[str]:
    return frozenset(s.scope for s in plan.strata if s.venue == "remote" and len(s.scope) == 4)


def covers(plan: DrawPlan, stratum: Stratum, expert: Expert, _cities: frozenset[str] | None = None) -> bool:
    """Whether ``stratum``'s scope covers ``expert``'s region (its speciality aside)."""
    if stratum.venue == "main":
        cities = _remote_cities(plan) if _cities is None else _cities
        return expert.region[:2] == plan.province and expert.region[:4] not in cities
    return expert.region.startswith(stratum.scope)


def assignment(roster: Roster, plan: DrawPlan) -> dict[str, int]:
    """Expert id -> index of the plan's stratum the expert serves in (experts of no stratum left out)."""
    by_speciality: dict[str, list[int]] = {}
    for i, s in enumerate(plan.strata):
        by_speciality.setdefault(s.speciality, []).append(i)
    cities = _remote_cities(plan)
    assigned: dict[str, int] = {}
    for e in roster.experts:
        hit = next((i for sp in e.specialities for i in by_speciality.get(sp, ())
                    if covers(plan, plan.strata[i], e, cities)), None)
        if hit is not None:
            assigned[e.id] = hit
    return assigned


def avoidance(roster: Roster, plan: DrawPlan, bidders: tuple[bytes, ...] | list[bytes],
              ids: set[str] | None = None) -> dict[str, list[str]]:
    """Reasons (回避) for each expert (of ``ids``, default all) that must not be drawn; experts
    without a reason left out. ``bidders`` are bidder ids (SHA-256 of the credit codes)."""
    as_of = plan.as_of
    tie_from = years_before(as_of, TIE_YEARS)
    cooldown_from = as_of - timedelta(days=plan.cooldown_days)
    bidder_set = set(bidders)
    parties = {"tenderer": {plan.tenderer}, "agency": {plan.agency} if plan.agency else set()}

    ties: dict[str, set[str]] = {}
    for r in roster.relations:
        if (r.since is None or r.since <= as_of) and (r.until is None or r.until >= tie_from):
            ties.setdefault(r.expert_id, set()).add(r.party)
    penalised = {p.expert_id for p in roster.penalties
                 if p.decided_on <= as_of and (p.until is None or p.until >= as_of)}
    recent = {h.expert_id for h in roster.history
              if h.tenderer == plan.tenderer and cooldown_from <= h.drawn_on <= as_of}
    departments = set(plan.departments)

    def is_bidder(code: str | None) -> bool:
        return code is not None and bidder_id_of(code) in bidder_set

    reasons: dict[str, list[str]] = {}
    for e in roster.experts:
        if ids is not None and e.id not in ids:
            continue
        tied = ties.get(e.id, set())
        why = [name for name, hit in (
            ("unavailable", not e.available),
            ("employer_is_tenderer", e.employer in parties["tenderer"]),
            ("employer_is_bidder", bool(bidder_set) and is_bidder(e.employer)),
            ("employer_is_agency", e.employer in parties["agency"]),
            ("department_staff", e.employer in departments),
            ("related_to_tenderer", bool(tied & parties["tenderer"])),
            ("related_to_bidder", bool(bidder_set) and any(is_bidder(p) for p in tied)),
            ("related_to_agency", bool(tied & parties["agency"])),
            ("penalised", e.id in penalised),
            ("recently_drawn_for_tenderer", e.id in recent),
        ) if hit]
        if why:
            reasons[e.id] = why
    return reasons


def leaf_of(salt: bytes, expert: Expert) -> bytes:
    return hashlib.sha256(salt + canonical_json({"id": expert.id, "name": expert.name})).digest()


@dataclass(frozen=True)
class StratumPool:
    """The eligible pool of one stratum of the plan and its commitment."""

    index: int
    stratum: Stratum
    experts: list[Expert]  # eligible, sorted by id: position i is the i-th
    excluded: dict[str, list[str]]  # assigned to this stratum and avoided: id -> reasons
    secret: bytes = field(repr=False)

    def salt(self, expert_id: str) -> bytes:
        return hmac.digest(self.secret, f"expert:{self.index}:{expert_id}".encode(), "sha256")

    @cached_property
    def tree(self) -> MerkleTree:
        tree = MerkleTree(SHA256)
        tree.extend_leaf_hashes([SHA256.hash_leaf(leaf_of(self.salt(e.id), e)) for e in self.experts])
        return tree

    @property
    def size(self) -> int:
        return len(self.experts)

    @cached_property
    def root(self) -> bytes:
        return self.tree.root()

    @cached_property
    def exclusion_hash(self) -> bytes:
        listing = [{"id": i, "reasons": r} for i, r in sorted(self.excluded.items())]
        return hmac.digest(self.secret, canonical_json(listing), "sha256")

    def reveal(self, position: int) -> dict[str, Any]:
        """What an entitled person is shown for the expert at ``position``: identity, salt, leaf, proof."""
        expert = self.experts[position]
        salt = self.salt(expert.id)
        return {"position": position, "stratum": self.index, "expert": {"id": expert.id, "name": expert.name},
                "salt": salt.hex(), "leaf": leaf_of(salt, expert).hex(), "pool_root": self.root.hex(),
                "pool_size": self.size, "proof": [p.hex() for p in self.tree.inclusion_proof(position)]}


@dataclass(frozen=True)
class Pool:
    """The pools of one province's strata of ``plan``, built from that province's ``registry``."""

    plan: DrawPlan
    registry: Registry
    bidders: tuple[bytes, ...]
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bidders", tuple(self.bidders))
        if any(not isinstance(b, bytes) or len(b) != 32 for b in self.bidders):
            raise RosterError("bidders must be bidder ids of 32 bytes (SHA-256 of the credit codes)")
        if not isinstance(self.secret, bytes) or len(self.secret) != 32:
            raise RosterError("pool secret must be 32 bytes")

    @classmethod
    def build(cls, registry: Registry, plan: DrawPlan, bidders: tuple[bytes, ...] | list[bytes],
              secret: bytes | None = None) -> Pool:
        """The pools, refused (RosterError) when the plan breaks its committee profile, has no
        stratum in the registry's province, or a stratum has fewer eligible experts than its quota."""
        plan.check_committee()
        pool = cls(plan, registry, tuple(bidders), os.urandom(32) if secret is None else secret)
        if not pool.strata:
            raise RosterError(f"the plan has no stratum in province {registry.province} "
                              f"(it draws from {', '.join(plan.provinces)})")
        for sp in pool.strata:
            s = sp.stratum
            if sp.size < s.quota:
                raise RosterError(f"stratum {sp.index} ({s.speciality}, {s.venue}, {s.scope}): only {sp.size} "
                                  f"eligible experts for a quota of {s.quota}")
        return pool

    @property
    def province(self) -> str:
        return self.registry.province

    @cached_property
    def assigned(self) -> dict[str, int]:
        """Expert id -> stratum index, for the registry's experts in this draw."""
        return assignment(self.registry.roster, self.plan)

    @cached_property
    def excluded(self) -> dict[str, list[str]]:
        """Avoided experts of every stratum of this province: id -> reasons."""
        return avoidance(self.registry.roster, self.plan, self.bidders, set(self.assigned))

    @cached_property
    def strata(self) -> list[StratumPool]:
        """The pools of the plan's strata in this province, in plan order."""
        members: dict[int, list[Expert]] = {}
        for e in self.registry.roster.experts:
            index = self.assigned.get(e.id)
            if index is not None and e.id not in self.excluded:
                members.setdefault(index, []).append(e)
        return [StratumPool(i, s, sorted(members.get(i, []), key=lambda e: e.id),
                            {eid: why for eid, why in self.excluded.items() if self.assigned[eid] == i},
                            self.secret)
                for i, s in enumerate(self.plan.strata) if s.province == self.province]

    def stratum(self, index: int) -> StratumPool:
        for sp in self.strata:
            if sp.index == index:
                return sp
        raise RosterError(f"stratum {index} is not one of province {self.province}'s strata of the plan")

    # --- the pool file -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"format": POOL_FORMAT, "plan": self.plan.model_dump(mode="json"),
                "registry": self.registry.to_json(), "bidders": [b.hex() for b in self.bidders],
                "secret": self.secret.hex()}

    def save(self, path: Path) -> None:
        _write_private(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path) -> Pool:
        path = Path(path)
        data = _read_json(path)
        if not isinstance(data, dict) or data.get("format") != POOL_FORMAT:
            raise RosterError(f"{path}: not a pool file ({POOL_FORMAT})")
        secret = _hex_bytes(data.get("secret"))
        if len(secret) != 32:
            raise RosterError(f"{path}: secret must be 32 bytes of hex")
        bidders = data.get("bidders")
        if not isinstance(bidders, list) or any(len(_hex_bytes(b)) != 32 for b in bidders):
            raise RosterError(f"{path}: bidders must be a list of bidder ids (64 hex digits each)")
        plan = _validated(DrawPlan, data.get("plan"), f"{path} plan")
        registry = Registry.from_json(data.get("registry"), f"{path} registry")
        return cls(plan, registry, tuple(bytes.fromhex(b) for b in bidders), secret)
