"""Anchored inputs of a draw: registry snapshots, pools per province, the bidders from the tender contract."""
from __future__ import annotations

import pytest

from lianzheng.chain_node import TransactionReverted
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.registry import Registry
from lianzheng.rules.experts.roster import Expert, Roster, Stratum
from lianzheng.rules.experts.verify import verify_draw
from tests.rules.experts_chain import make_world
from tests.rules.experts_data import AS_OF, BIDDER_IDS, STRATA, random_roster


@pytest.fixture
def world(chain, funded):
    return make_world(chain, funded)


def _commit(world, account, draw_id, index, sp, snapshot):
    return world.chain.transact(account, world.draws.contract.tx(
        "commitPool", draw_id, index, (sp.root, sp.size, sp.exclusion_hash, snapshot)))


def _refused(exc_info) -> str:
    return str(exc_info.value)


def test_only_a_provinces_registrar_anchors_its_registry(world):
    registry = Registry.build(random_roster(50, seed=3), "37", AS_OF)
    with pytest.raises(RuleRejected) as refused:
        world.draws.anchor_registry(world.centre.account, registry)  # the centre curating its own roster
    assert "AccessControlUnauthorizedAccount" in str(refused.value)
    assert world.draws.anchor_registry(world.registrar, registry) == 1
    assert world.draws.snapshot(37, 1)[:2] == (registry.root, registry.size)


def test_a_pool_derives_from_the_latest_snapshot_anchored_before_the_draw(world):
    old = world.anchor(random_roster(120, seed=7))
    newer = Registry.build(random_roster(130, seed=8), "37", AS_OF)
    world.draws.anchor_registry(world.registrar, newer)
    world.registry = old  # the centre prefers the old roster, where its favourite was still eligible
    draw_id, pool = world.create(commit=False)
    sp = pool.strata[0]
    with pytest.raises(TransactionReverted) as stale:
        _commit(world, world.centre.account, draw_id, sp.index, sp, 1)
    assert "ExpertDrawInvalidPool" in _refused(stale)
    # a registry curated after the draw was planned does not count either
    curated = Registry.build(random_roster(40, seed=9), "37", AS_OF)
    world.draws.anchor_registry(world.registrar, curated)
    with pytest.raises(TransactionReverted) as after:
        _commit(world, world.centre.account, draw_id, sp.index, sp, 3)
    assert "ExpertDrawInvalidPool" in _refused(after)
    for bad in (0, 4):
        with pytest.raises(TransactionReverted):
            _commit(world, world.centre.account, draw_id, sp.index, sp, bad)
    # the right snapshot: accepted (the root is checked off chain by `verify`, which fails the old one)
    _commit(world, world.centre.account, draw_id, sp.index, sp, 2)
    with pytest.raises(TransactionReverted) as again:
        _commit(world, world.centre.account, draw_id, sp.index, sp, 2)
    assert "ExpertDrawInvalidPool" in _refused(again)


def test_verify_refuses_a_pool_from_a_curated_registry_or_the_centres_own_bidders(world):
    draw_id, pool = world.create()
    dealings = world.commit_all(draw_id)
    world.acknowledge_all(draw_id)
    world.reveal_all(draw_id, dealings)
    assert verify_draw(world.draws, draw_id, [pool]).ok
    curated = Registry(pool.registry.province, pool.registry.as_of,
                       Roster(experts=pool.registry.roster.experts[1:]), pool.registry.secret)
    failed = {c.name for c in verify_draw(world.draws, draw_id, [Pool(pool.plan, curated, pool.bidders,
                                                                         pool.secret)]).checks if not c.ok}
    assert "registry snapshot 37#1" in failed
    failed = {c.name for c in verify_draw(world.draws, draw_id, [Pool(pool.plan, pool.registry, BIDDER_IDS,
                                                                         pool.secret)]).checks if not c.ok}
    assert "bidders (37)" in failed  # the tender contract's bidders, not the centre's list
    # avoidance inputs other than those committed with the plan: another department, a longer cooldown,
    # another date (penalties lapse, ties age)
    for change, check in (({"departments": ("11370000MB0DEPT009",)}, "avoidance inputs"),
                          ({"cooldown_days": 3650}, "avoidance inputs"), ({"as_of": AS_OF}, "as of")):
        other = Pool(pool.plan.model_copy(update=change), pool.registry, pool.bidders, pool.secret)
        assert check in {c.name for c in verify_draw(world.draws, draw_id, [other]).checks if not c.ok}


def test_a_pool_smaller_than_three_times_its_quota_is_refused(world):
    world.anchor()
    draw_id, pool = world.create(commit=False)
    sp = pool.strata[0]  # quota 3
    small = type("P", (), {"root": sp.root, "size": 8, "exclusion_hash": sp.exclusion_hash})
    with pytest.raises(TransactionReverted) as refused:
        _commit(world, world.centre.account, draw_id, 0, small, 1)
    assert "ExpertDrawInvalidPool" in _refused(refused)


def test_departments_are_government_bodies():
    from lianzheng.rules.experts.roster import DrawPlan
    from tests.rules.experts_data import plan

    with pytest.raises(ValueError, match="not a government body"):
        DrawPlan(**{**plan().model_dump(), "departments": ("91370100MA3C120001",)})  # a bidder as "department"


def _gansu_roster(n: int = 12) -> Roster:
    return Roster(experts=tuple(Expert(id=f"G{i:05d}", name=f"甘肃专家{i}", specialities=("A010101",), region="620400",
                                       employer=None) for i in range(n)))


def test_a_cross_province_draw_keeps_each_roster_in_its_province(world):
    """流域内远程异地评标: Gansu commits its own pool from its own anchored registry; one joint seed;
    each province shows only its drawn experts, by Merkle proof against the chain."""
    admin, d = world.admin, world.draws
    gansu_registrar, gansu_centre = world.funded(), world.funded()
    d.grant_registrar(admin, 62, gansu_registrar.address)
    d.grant_centre(admin, 620000, gansu_centre.address)
    gansu = Registry.build(_gansu_roster(), "62", AS_OF)
    d.anchor_registry(gansu_registrar, gansu)
    world.anchor()
    strata = (STRATA[0], STRATA[1], Stratum(speciality="A010101", venue="remote", scope="62", quota=1))
    draw_id, shandong = world.create(strata=strata)
    section_id = d.draw(draw_id).section_id
    gansu_pool = Pool.build(gansu, d.plan_for_draw(draw_id, shandong.plan), d.bidders(section_id))
    assert [sp.index for sp in shandong.strata] == [0, 1] and [sp.index for sp in gansu_pool.strata] == [2]
    with pytest.raises(RuleRejected) as foreign:  # Shandong cannot commit Gansu's pool ...
        d.commit_pools(world.centre.account, draw_id, gansu_pool)
    assert "AccessControlUnauthorizedAccount" in str(foreign.value)
    with pytest.raises(RuleRejected) as other_way:  # ... nor Gansu Shandong's
        d.commit_pools(gansu_centre, draw_id, shandong)
    assert "AccessControlUnauthorizedAccount" in str(other_way.value)
    d.commit_pools(world.centre.account, draw_id, shandong)
    assert d.draw(draw_id).state == "pooling"
    d.commit_pools(gansu_centre, draw_id, gansu_pool)
    assert d.draw(draw_id).state == "committing"
    dealings = world.commit_all(draw_id)
    world.acknowledge_all(draw_id)
    world.reveal_all(draw_id, dealings)
    assert not verify_draw(d, draw_id, [shandong]).ok  # Gansu's stratum unchecked: not "verified"
    home = verify_draw(d, draw_id, [shandong], partial=True)
    assert home.ok and {e.stratum for e in home.experts} == {0, 1}  # Shandong sees no Gansu names
    assert verify_draw(d, draw_id, [shandong, gansu_pool]).ok
    away = verify_draw(d, draw_id, [gansu_pool], partial=True)
    assert away.ok and [e.expert.id[:1] for e in away.experts] == ["G"]
    shown = d.reveal_expert(gansu_centre, draw_id, 2, 0, gansu_pool)
    assert shown["expert"]["name"].startswith("甘肃专家")
    assert d.check_expert(draw_id, 2, 0, bytes.fromhex(shown["leaf"]), [bytes.fromhex(p) for p in shown["proof"]])
    assert not d.check_expert(draw_id, 1, 0, bytes.fromhex(shown["leaf"]), [bytes.fromhex(p) for p in shown["proof"]])
