"""Recompute a draw from its inputs and compare it with the chain (what a supervisor runs).

The chain of checks: registry snapshot (the pool file's registry hashes to the root anchored
on chain, the province's latest before the draw) → plan (strata, profile, parties as
committed) → bidders (the pool's are the tender contract's) → pools and avoidance (roots,
sizes, exclusion hashes recomputed) → plan hash → every secret against its commitment
(revealed or recovered) → seed → positions of every stratum → names (for the strata whose pool
file is given: in a cross-province draw each province checks its own names).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lianzheng.rules.experts import escrow
from lianzheng.rules.experts.draw import ExpertDraw, draw_date
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.profiles import profile_id
from lianzheng.rules.experts.roster import Expert
from lianzheng.rules.experts.sequence import plan_hash, positions, seed_of, stratum_seed, stratum_tuple


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class DrawnExpert:
    stratum: int
    ordinal: int
    position: int
    expert: Expert
    replaced: bool


@dataclass
class DrawCheck:
    draw_id: bytes
    state: str
    checks: list[Check] = field(default_factory=list)
    experts: list[DrawnExpert] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def verify_draw(draws: ExpertDraw, draw_id: bytes, pools: list[Pool], partial: bool = False) -> DrawCheck:
    """Every check a supervisor holding pool files can make, each with its finding. A stratum whose
    province's pool file is not given fails, unless ``partial`` (in a cross-province draw, each
    province checks its own pools; the seed and positions are checked for all)."""
    view = draws.draw(draw_id)
    result = DrawCheck(draw_id, view.state)
    if view.state == "none":
        result.add("draw", False, f"no draw {_hex(draw_id)} in contract {draws.address}")
        return result
    subject = draws.subject(draw_id)
    strata, committed = draws.strata(draw_id), draws.pools(draw_id)
    planned = draws.plan_of(draw_id)
    bidders = draws.bidders(view.section_id)
    for pool in pools:
        _check_pool(result, draws, view, subject, strata, committed, planned, bidders, pool)
    given = {pool.province for pool in pools}
    unchecked = [s.index for s in strata if s.province not in given]
    if unchecked:
        result.add("pools checked", partial, f"strata {unchecked} not checked: no pool file of their province"
                   + (" (partial check)" if partial else ""))
    if view.state == "pooling":
        result.add("pools", False, f"{view.pooled} of {view.strata} pools committed")
        return result
    recomputed = plan_hash(draw_id, planned["profile"], planned["tenderer_reps"], planned["avoidance"],
                           [stratum_tuple(s.speciality, s.venue, s.scope, s.quota) for s in strata],
                           planned["parties"], [committed[s.index].as_tuple() for s in strata])
    result.add("plan hash", recomputed == view.plan_hash,
               f"recomputed {_hex(recomputed)}, on chain {_hex(view.plan_hash)}")
    secrets, dealings = draws.secrets(draw_id), draws.dealings(draw_id)
    for party, secret in secrets.items():
        how = "recovered from the others' shares (withheld)" if party in draws.withheld(draw_id) else "revealed"
        result.add(f"secret of {party}", escrow.public_of(secret) == dealings[party][0][0],
                   f"{how}; matches its commitment")
    if view.state != "drawn":
        missing = [p for p in planned["parties"] if p not in secrets]
        result.add("drawn", False, f"draw is {view.state}; secrets not known: {', '.join(missing) or 'none'}")
        return result
    seed = seed_of(draw_id, view.plan_hash, [secrets[p] for p in planned["parties"]])
    result.add("seed", seed == view.seed, f"recomputed {_hex(seed)}, on chain {_hex(view.seed)}")
    by_index = {sp.index: sp for pool in pools for sp in pool.strata}
    for s in strata:
        on_chain, replaced = draws.positions(draw_id, s.index)
        size = committed[s.index].size
        expected = positions(stratum_seed(seed, s.index), size, len(on_chain)) if len(on_chain) <= size else []
        result.add(f"positions of stratum {s.index}", expected == on_chain,
                   f"recomputed {expected}, on chain {on_chain}")
        pool_ok = s.index in by_index and (by_index[s.index].root, by_index[s.index].size) == (
            committed[s.index].root, size)
        if pool_ok and expected == on_chain:
            result.experts += [DrawnExpert(s.index, i, p, by_index[s.index].experts[p], i in replaced)
                               for i, p in enumerate(on_chain)]
    if not result.ok:
        result.experts = []
    return result


def _check_pool(result: DrawCheck, draws: ExpertDraw, view, subject, strata, committed, planned, bidders,
                pool: Pool) -> None:
    plan, province = pool.plan, pool.province
    same = (str(subject.region), subject.project, subject.section) == (plan.region, plan.project, plan.section)
    result.add("section", same, f"{subject.region} {subject.project} {subject.section} round {subject.round}")
    on_chain = [(s.speciality, s.venue, s.scope, s.quota) for s in strata]
    in_file = [(s.speciality, s.venue, s.scope, s.quota) for s in plan.strata]
    result.add("strata", on_chain == in_file, f"on chain {on_chain}; in the pool file {in_file}")
    result.add("profile", profile_id(plan.profile) == planned["profile"] and
               plan.tenderer_reps == planned["tenderer_reps"],
               f"{plan.profile}, {plan.tenderer_reps} representatives of the tenderer")
    result.add("avoidance inputs", plan.avoidance_inputs() == planned["avoidance"],
               f"tenderer, agency, departments and cooldown as committed with the plan: "
               f"{planned['avoidance'].decode('utf-8', 'replace')}")
    result.add("as of", plan.as_of == draw_date(view.created_at),
               f"avoidance as of {plan.as_of}; the draw was created on {draw_date(view.created_at)}")
    result.add(f"bidders ({province})", tuple(sorted(pool.bidders)) == tuple(sorted(bidders)),
               f"{len(bidders)} bidders from the tender contract; the pool avoided {len(pool.bidders)}")
    snapshots = {committed[sp.index].snapshot for sp in pool.strata if sp.index in committed}
    latest = draws.snapshot_before(int(province), view.created_at)
    for index in sorted(snapshots):
        root, size, _, _ = draws.snapshot(int(province), index) if index else (bytes(32), 0, 0, 0)
        ok = index == latest and root == pool.registry.root and size == pool.registry.size
        result.add(f"registry snapshot {province}#{index}", ok,
                   f"registry file {_hex(pool.registry.root)} ({pool.registry.size} experts); anchored {_hex(root)} "
                   f"({size}); latest before the draw: #{latest}")
    for sp in pool.strata:
        c = committed.get(sp.index)
        if c is None:
            result.add(f"pool of stratum {sp.index}", False, "not committed on chain")
            continue
        result.add(f"pool of stratum {sp.index}", (c.root, c.size) == (sp.root, sp.size),
                   f"recomputed {_hex(sp.root)} ({sp.size}), committed {_hex(c.root)} ({c.size})")
        result.add(f"avoidance in stratum {sp.index}", c.exclusion_hash == sp.exclusion_hash,
                   f"{len(sp.excluded)} avoided; recomputed {_hex(sp.exclusion_hash)}, "
                   f"committed {_hex(c.exclusion_hash)}")
