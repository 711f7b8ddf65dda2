"""Recompute a draw from its public inputs and compare it with the chain (what a supervisor runs)."""
from __future__ import annotations

from dataclasses import dataclass, field

from lianzheng.rules.experts.draw import ExpertDraw
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.roster import Expert
from lianzheng.rules.experts.sequence import commitment_of, positions, seed_of


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class DrawnExpert:
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


def verify_draw(draw: ExpertDraw, draw_id: bytes, pool: Pool) -> DrawCheck:
    """Every check a supervisor holding the pool file can make, each with its finding."""
    view = draw.draw(draw_id)
    result = DrawCheck(draw_id, view.state)
    if view.state == "none":
        result.add("draw", False, f"no draw {_hex(draw_id)} in contract {draw.address}")
        return result
    subject = draw.subject(draw_id)
    r = pool.request
    same = (str(subject.region), subject.project, subject.section) == (r.region, r.project, r.section)
    result.add("section", same, f"{subject.region} {subject.project} {subject.section} round {subject.round}")
    result.add("pool root", pool.root == view.pool_root,
               f"recomputed {_hex(pool.root)}, committed {_hex(view.pool_root)}")
    result.add("pool size", pool.size == view.pool_size, f"recomputed {pool.size}, committed {view.pool_size}")
    result.add("exclusion list", pool.exclusion_hash == view.exclusion_hash,
               f"{len(pool.excluded)} avoided; recomputed {_hex(pool.exclusion_hash)}, "
               f"committed {_hex(view.exclusion_hash)}")
    result.add("k", r.k == view.k, f"requested {r.k}, committed {view.k}")
    secrets = draw.revealed_secrets(draw_id)
    parties = draw.parties(draw_id)
    for p in parties:
        if p.address in secrets:
            result.add(f"seed of {p.address}", commitment_of(draw_id, p.address, secrets[p.address]) == p.commitment,
                       "revealed secret matches its commitment")
    if view.state != "drawn":
        missing = [p.address for p in parties if not p.revealed]
        result.add("drawn", False, f"draw is {view.state}; not revealed: {', '.join(missing) or 'none'}")
        return result
    seed = seed_of(draw_id, pool.root, pool.size, [secrets[p.address] for p in parties])
    result.add("seed", seed == view.seed, f"recomputed {_hex(seed)}, on chain {_hex(view.seed)}")
    on_chain = draw.positions(draw_id)
    expected = positions(seed, pool.size, len(on_chain)) if len(on_chain) <= pool.size else []
    result.add("positions", expected == on_chain, f"recomputed {expected}, on chain {on_chain}")
    if result.ok:
        result.experts = [DrawnExpert(i, p, pool.experts[p], i in view.refused) for i, p in enumerate(on_chain)]
    return result
