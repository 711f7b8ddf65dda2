"""``scripts/bench experts``: gas of an expert draw (k = 7) for pools of 100, 10,000 and 1,000,000.

Measured on the embedded EVM (gas is the same on any EVM at the same fork). The draw's gas must
not grow with the pool: the last column is the ratio to the 100-expert pool, same run. Also
printed: the time to build the pool commitment (avoidance + salted Merkle tree) and the time a
supervisor's ``verify_draw`` takes to recompute everything.
"""
from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path

from eth_account import Account

from lianzheng.chain_node.embedded import EmbeddedChain
from lianzheng.rules.experts.draw import DRAWING_GAS, ExpertDraw
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.roster import DrawRequest, Expert, Roster
from lianzheng.rules.experts.sequence import commitment_of
from lianzheng.rules.experts.verify import verify_draw

TENDERER = "12370000MB1234567X"


def _registry(size: int) -> Roster:
    """``size`` eligible experts plus 1% tied to the tenderer (built unvalidated: the rows are known-good)."""
    experts = [Expert.model_construct(id=f"E{i:08d}", name=f"专家{i}", specialities=("A010101",), region="370100",
                                      employer=TENDERER if i % 100 == 99 else None, available=True)
               for i in range(size + size // 99)]
    return Roster.model_construct(experts=tuple(experts), relations=(), history=())


def _draw(draws: ExpertDraw, chain: EmbeddedChain, centre, supervisor, size: int) -> dict[str, float]:
    request = DrawRequest(region="370100", project="BENCH", section=f"P{size}", speciality="A010101",
                          tenderer=TENDERER, as_of=date(2026, 11, 23), k=7)
    registry = _registry(size)
    t0 = time.perf_counter()
    pool = Pool.build(registry, request)
    root = pool.root
    built = time.perf_counter() - t0
    assert pool.size == size and root
    fns, gas = draws.contract, {}
    call = fns.tx("createDraw", (370100, "BENCH", f"P{size}", pool.root, pool.size, pool.exclusion_hash, 7,
                           [centre.address, supervisor.address], 3600, 3600))
    gas["create"] = chain.transact(centre, call, gas=500_000).gas_used
    draw_id = draws.draw_id(370100, "BENCH", f"P{size}")
    secrets = {}
    for name, party in (("commit 1", centre), ("commit 2", supervisor)):
        secrets[party.address] = secret = os.urandom(32)
        gas[name] = chain.transact(party, fns.tx("commitSeed", draw_id, commitment_of(draw_id, party.address, secret)),
                                   gas=500_000).gas_used
    gas["reveal 1"] = chain.transact(centre, fns.tx("revealSeed", draw_id, secrets[centre.address]),
                                     gas=DRAWING_GAS).gas_used
    gas["reveal 2 + draw"] = chain.transact(supervisor, fns.tx("revealSeed", draw_id, secrets[supervisor.address]),
                                            gas=DRAWING_GAS).gas_used
    gas["alternate"] = chain.transact(centre, fns.tx("replaceExpert", draw_id, 0, b"refused".ljust(32, b"\0")),
                                      gas=DRAWING_GAS).gas_used
    t0 = time.perf_counter()  # a supervisor recomputes from the inputs: a fresh pool, nothing cached
    check = verify_draw(draws, draw_id, Pool(pool.request, pool.roster, pool.secret))
    verified = time.perf_counter() - t0
    assert check.ok, check.checks
    return {**gas, "total": sum(gas[k] for k in ("create", "commit 1", "commit 2", "reveal 1", "reveal 2 + draw")),
            "build s": built, "verify s": verified}


def run() -> None:
    chain = EmbeddedChain(Path(tempfile.mkdtemp(prefix="lz-bench-experts-")))
    dev = chain.dev
    admin, centre, supervisor = (Account.create() for _ in range(3))
    for a in (admin, centre, supervisor):
        chain.transfer(dev, a.address, 10**22)
    draws = ExpertDraw.deploy(chain, admin)
    draws.grant_centre(admin, 370100, centre.address)
    draws.grant_supervisor(admin, 370100, supervisor.address)
    print("lianzheng bench experts — gas of one draw, k = 7, two seed parties (embedded EVM)")
    columns = ("create", "commit 1", "commit 2", "reveal 1", "reveal 2 + draw", "total", "alternate")
    print(f"  {'pool':>9}  " + "  ".join(f"{c:>15}" for c in columns) + f"  {'vs 100':>6}  {'pool build':>10}"
          f"  {'verify':>7}")
    base = None
    for size in (100, 10_000, 1_000_000):
        r = _draw(draws, chain, centre, supervisor, size)
        base = base or r["total"]
        print(f"  {size:>9,}  " + "  ".join(f"{r[c]:>15,.0f}" for c in columns) + f"  {r['total'] / base:>6.3f}"
              f"  {r['build s']:>9.1f}s  {r['verify s']:>6.1f}s")
    chain.close()
