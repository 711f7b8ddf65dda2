"""``scripts/bench experts``: gas of an expert draw (k = 7, three seed parties) for pools of 100, 10,000, 1,000,000.

Measured on the embedded EVM (gas is the same on any EVM at the same fork). The draw's gas must
not grow with the pool: the ``vs 100`` column is the ratio of the total to the 100-expert pool's,
same run. Also printed: the time to build the registry snapshot and the pool (avoidance + salted
Merkle trees) and the time a supervisor's ``verify_draw`` takes to recompute everything. A second
table: the gas a withholder costs (two published shares recover its secret and draw).
"""
from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from eth_account import Account

from lianzheng.chain_node.embedded import EmbeddedChain
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.registry import Registry
from lianzheng.rules.experts.roster import Expert, Roster, Stratum
from lianzheng.rules.experts.verify import verify_draw
from lianzheng.sdk.cli.support import progress
from tests.rules.experts_chain import make_world

TENDERER = "12370000MB1234567X"
STEPS = ("plan", "pool", "commit ×3", "ack ×3", "reveal ×2", "last reveal + draw", "alternate")


def _roster(size: int) -> Roster:
    """``size`` eligible experts plus 1% tied to the tenderer (built unvalidated: the rows are known-good)."""
    experts = [Expert.model_construct(id=f"E{i:08d}", name=f"专家{i}", specialities=("A010101",), region="370100",
                                      employer=TENDERER if i % 100 == 99 else None, available=True)
               for i in range(size + size // 99)]
    return Roster.model_construct(experts=tuple(experts), relations=(), penalties=(), history=())


def _measured(draws) -> dict[str, list[int]]:
    """Record the gas of every step the façade sends, by step type."""
    gas: dict[str, list[int]] = defaultdict(list)
    send = draws._send

    def recording(account, call, step, *args, **kwargs):
        outcome = send(account, call, step, *args, **kwargs)
        gas[step].append(outcome.gas_used)
        return outcome

    draws._send = recording
    return gas


def _draw(world, size: int, withhold: bool) -> dict[str, float]:
    draws = world.draws
    t0 = time.perf_counter()
    world.anchor(_roster(size))
    project, section = world.opened_section()
    plan = world.plan_for(project, section, profile="engineering", tenderer=TENDERER, tenderer_reps=0,
                          strata=(Stratum(speciality="A010101", venue="main", scope="37", quota=7),),
                          as_of=date(2026, 11, 23))
    gas = _measured(draws)
    world.parties = [world.centre, world.supervisor, world.independent]
    draw_id = draws.create(world.centre.account, plan, [p.address for p in world.parties], 600)
    plan = draws.plan_for_draw(draw_id, plan)
    pool = Pool.build(world.registry, plan, draws.bidders(draws.draw(draw_id).section_id))
    built = time.perf_counter() - t0
    assert pool.strata[0].size == size
    draws.commit_pools(world.centre.account, draw_id, pool)
    dealings = world.commit_all(draw_id)
    world.acknowledge_all(draw_id)
    world.reveal_all(draw_id, dealings, skip=(2,))
    if withhold:
        world.chain.set_next_block_time(draws.draw(draw_id).phase_ends + 1)
        for p in world.parties[:2]:
            draws.publish_share(p.account, p.x25519, draw_id, world.parties[2].address)
    else:
        draws.reveal_seed(world.parties[2].account, draw_id, dealings[2].secret)
    draws.replace(world.centre.account, draw_id, 0, 0, "refused",
                  draws.sign_replacement(world.supervisor.account, draw_id, 0, 0, "refused"))
    t0 = time.perf_counter()  # a supervisor recomputes from the inputs: a fresh registry and pool, nothing cached
    fresh = Registry(world.registry.province, world.registry.as_of, world.registry.roster, world.registry.secret)
    check = verify_draw(draws, draw_id, [Pool(plan, fresh, pool.bidders, pool.secret)])
    verified = time.perf_counter() - t0
    assert check.ok, [c for c in check.checks if not c.ok]
    reveals = gas["experts.seed_revealed"]
    out = {"plan": sum(gas["experts.draw_planned"]), "pool": sum(gas["experts.pool_committed"]),
           "commit ×3": sum(gas["experts.seed_committed"]), "ack ×3": sum(gas["experts.shares_acknowledged"]),
           "alternate": sum(gas["experts.expert_replaced"]), "build s": built, "verify s": verified,
           "reveal ×2": sum(reveals[:2])}
    out["last reveal + draw"] = sum(gas["experts.share_published"]) if withhold else reveals[2]
    out["total"] = sum(out[s] for s in STEPS[:-1])
    return out


def run() -> None:
    chain = EmbeddedChain(Path(tempfile.mkdtemp(prefix="lz-bench-experts-")))
    dev = chain.dev

    def funded():
        a = Account.create()
        chain.transfer(dev, a.address, 10**21)
        return a

    world = make_world(chain, funded)
    print("lianzheng bench experts — gas of one draw, k = 7, three seed parties (embedded EVM)")
    for withhold in (False, True):
        title = ("every party reveals" if not withhold else
                 "the third party withholds: 'last reveal + draw' is the two published shares that recover it")
        print(f"  {title}")
        print(f"  {'pool':>9}  " + "  ".join(f"{c:>18}" for c in (*STEPS, "total")) + f"  {'vs 100':>6}"
              f"  {'build':>7}  {'verify':>7}")
        base = None
        for size in (100, 10_000, 1_000_000):
            with progress(f"a draw from a pool of {size:,}", None):
                r = _draw(world, size, withhold)
            base = base or r["total"]
            print(f"  {size:>9,}  " + "  ".join(f"{r[c]:>18,.0f}" for c in (*STEPS, "total"))
                  + f"  {r['total'] / base:>6.3f}  {r['build s']:>6.1f}s  {r['verify s']:>6.1f}s")
    chain.close()
