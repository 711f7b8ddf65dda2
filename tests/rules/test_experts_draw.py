"""The ExpertDraw contract on the embedded EVM and on anvil, recomputed by `verify_draw`."""
from __future__ import annotations

import os
import random

import pytest

from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.experts.draw import ExpertDraw
from lianzheng.rules.experts.pool import Pool
from lianzheng.rules.experts.sequence import positions, seed_of
from lianzheng.rules.experts.verify import verify_draw
from tests.rules.experts_data import (
    BIDDERS,
    TENDERER,
    random_roster,
    request,
    roster_with_pool,
)


@pytest.fixture
def draws(chain, funded):
    """A deployed ExpertDraw with a Jinan centre, a supervisor, and a second (non-supervisor) party."""
    admin = funded()
    contract = ExpertDraw.deploy(chain, admin)
    contract.admin, contract.centre, contract.supervisor, contract.other = admin, funded(), funded(), funded()
    contract.grant_centre(admin, 370100, contract.centre.address)
    contract.grant_supervisor(admin, 370100, contract.supervisor.address)
    return contract


def _pool(size=120, k=7, seed=1, **changes):
    return Pool.build(random_roster(size, seed), request(k=k, **changes), os.urandom(32))


def _run(draws, pool, parties=None):
    parties = parties or [draws.centre, draws.supervisor]
    draw_id = draws.create(draws.centre, pool, [p.address for p in parties], 600, 600)
    secrets = [draws.commit_seed(p, draw_id) for p in parties]
    for p, s in zip(parties, secrets):
        draws.reveal_seed(p, draw_id, s)
    return draw_id, secrets


def _reason(exc_info) -> str:
    return exc_info.value.error_name


def test_a_draw_end_to_end_matches_its_recomputation(draws):
    pool = _pool()
    draw_id = draws.create(draws.centre, pool, [draws.centre.address, draws.supervisor.address], 600, 600)
    view = draws.draw(draw_id)
    assert (view.state, view.pool_root, view.pool_size, view.exclusion_hash, view.k, view.round) == (
        "committing", pool.root, pool.size, pool.exclusion_hash, 7, 1)
    s1 = draws.commit_seed(draws.centre, draw_id)
    with pytest.raises(RuleRejected) as early:  # nobody reveals before every party committed
        draws.reveal_seed(draws.centre, draw_id, s1)
    assert _reason(early) == "ExpertDrawNotAllCommitted"
    with pytest.raises(RuleRejected) as outsider:
        draws.commit_seed(draws.other, draw_id)
    assert _reason(outsider) == "ExpertDrawNotParty"
    s2 = draws.commit_seed(draws.supervisor, draw_id)
    with pytest.raises(RuleRejected) as wrong:
        draws.reveal_seed(draws.supervisor, draw_id, s1)  # not the secret it committed to
    assert _reason(wrong) == "ExpertDrawSeedMismatch"
    with pytest.raises(RuleRejected) as twice:
        draws.commit_seed(draws.supervisor, draw_id)
    assert _reason(twice) == "ExpertDrawWrongState"
    draws.reveal_seed(draws.supervisor, draw_id, s2)
    assert draws.draw(draw_id).state == "revealing"
    draws.reveal_seed(draws.centre, draw_id, s1)
    view = draws.draw(draw_id)
    assert view.state == "drawn"
    assert view.seed == seed_of(draw_id, pool.root, pool.size, [s1, s2])
    drawn = draws.positions(draw_id)
    assert drawn == positions(view.seed, pool.size, 7) and len(set(drawn)) == 7
    result = verify_draw(draws, draw_id, pool)
    assert result.ok, result.checks
    assert [e.expert.id for e in result.experts] == [pool.experts[p].id for p in drawn]
    with pytest.raises(RuleRejected) as again:  # a drawn section is not drawn again
        draws.create(draws.centre, pool, [draws.centre.address, draws.supervisor.address])
    assert _reason(again) == "ExpertDrawNotRedrawable"


def test_who_may_create_and_who_must_be_a_party(draws):
    pool = _pool(size=30, k=3)
    with pytest.raises(RuleRejected) as not_centre:
        draws.create(draws.supervisor, pool, [draws.centre.address, draws.supervisor.address])
    assert _reason(not_centre) == "AccessControlUnauthorizedAccount"
    for parties in ([draws.centre.address, draws.other.address],        # no supervisor among them
                    [draws.supervisor.address],                           # a single party
                    [draws.supervisor.address, draws.supervisor.address]):  # the same party twice
        with pytest.raises(RuleRejected) as bad:
            draws.create(draws.centre, pool, parties)
        assert _reason(bad) == "ExpertDrawInvalidParties"
    too_big = Pool.build(random_roster(30, 1), request(k=3), os.urandom(32))
    object.__setattr__(too_big, "request", request(k=64))  # more experts than the pool holds
    with pytest.raises(RuleRejected) as k_too_big:
        draws.create(draws.centre, too_big, [draws.centre.address, draws.supervisor.address])
    assert _reason(k_too_big) == "ExpertDrawInvalidRequest"


def test_withholding_a_reveal_voids_the_draw_and_a_redraw_needs_fresh_commitments(draws, chain):
    pool = _pool()
    parties = [draws.centre, draws.supervisor, draws.other]
    draws.grant_supervisor(draws.admin, 370100, draws.other.address)
    draw_id = draws.create(draws.centre, pool, [p.address for p in parties], 600, 600)
    secrets = [draws.commit_seed(p, draw_id) for p in parties]
    draws.reveal_seed(parties[0], draw_id, secrets[0])
    draws.reveal_seed(parties[2], draw_id, secrets[2])
    with pytest.raises(RuleRejected) as too_early:  # within the window nobody can void
        draws.void(draws.other, draw_id)
    assert _reason(too_early) == "ExpertDrawNotVoidable"
    with pytest.raises(RuleRejected):  # and no redraw while a draw is in progress
        draws.create(draws.centre, pool, [p.address for p in parties])
    chain.set_next_block_time(draws.draw(draw_id).reveal_ends)
    with pytest.raises(RuleRejected) as late:
        draws.reveal_seed(parties[1], draw_id, secrets[1])
    assert _reason(late) == "ExpertDrawWindowClosed"
    phase, defaulters = draws.void(draws.other, draw_id)  # anyone may void, the withholder is named
    assert (phase, defaulters) == ("reveal", [draws.supervisor.address])
    logs = draws.contract.logs("DrawVoided")
    assert [list(log.args["defaulters"]) for log in logs] == [[draws.supervisor.address]]
    assert draws.draw(draw_id).state == "voided" and draws.positions(draw_id) == []
    check = verify_draw(draws, draw_id, pool)
    assert not check.ok and check.checks[-1].name == "drawn"

    redraw = draws.create(draws.centre, pool, [p.address for p in parties], 600, 600)
    assert redraw != draw_id and draws.draw(redraw).round == 2
    draws.commit_seed(parties[1], redraw)
    with pytest.raises(RuleRejected) as stale:  # last round's secret is no commitment of this round
        draws.reveal_seed(parties[0], redraw, secrets[0])
    assert _reason(stale) == "ExpertDrawNotAllCommitted"
    for p in (parties[0], parties[2]):
        draws.commit_seed(p, redraw, secrets[0] if p is parties[0] else None)
    with pytest.raises(RuleRejected) as copied:  # an old secret re-committed is bound to the new draw id
        draws.reveal_seed(parties[0], redraw, os.urandom(32))
    assert _reason(copied) == "ExpertDrawSeedMismatch"


def test_a_party_that_never_commits_voids_the_draw(draws, chain):
    draw_id = draws.create(draws.centre, _pool(), [draws.centre.address, draws.supervisor.address], 60, 600)
    draws.commit_seed(draws.centre, draw_id)
    chain.set_next_block_time(draws.draw(draw_id).commit_ends)
    with pytest.raises(RuleRejected) as late:
        draws.commit_seed(draws.supervisor, draw_id)
    assert _reason(late) == "ExpertDrawWindowClosed"
    assert draws.void(draws.other, draw_id) == ("commit", [draws.supervisor.address])


def test_alternates_continue_the_sequence_and_reveals_are_checked_on_chain(draws):
    pool = Pool.build(roster_with_pool(12), request(k=7), os.urandom(32))
    assert pool.size == 12
    draw_id, _ = _run(draws, pool)
    seed = draws.draw(draw_id).seed
    with pytest.raises(RuleRejected) as not_centre:
        draws.replace(draws.supervisor, draw_id, 0, "refused")
    assert _reason(not_centre) == "AccessControlUnauthorizedAccount"
    draws.replace(draws.centre, draw_id, 2, "refused")
    draws.replace(draws.centre, draw_id, 0, "unreachable")
    assert draws.positions(draw_id) == positions(seed, pool.size, 9)
    assert draws.draw(draw_id).refused == {0, 2}
    with pytest.raises(RuleRejected) as twice:
        draws.replace(draws.centre, draw_id, 2, "refused")
    assert _reason(twice) == "ExpertDrawInvalidOrdinal"
    for ordinal in range(7, 10):
        draws.replace(draws.centre, draw_id, ordinal, "refused")
    assert sorted(draws.positions(draw_id)) == list(range(12))  # every expert once, none twice
    with pytest.raises(RuleRejected) as exhausted:
        draws.replace(draws.centre, draw_id, 1, "refused")
    assert _reason(exhausted) == "ExpertDrawPoolExhausted"
    result = verify_draw(draws, draw_id, pool)
    assert result.ok and {e.ordinal for e in result.experts if e.replaced} == {0, 2, 7, 8, 9}

    shown = draws.reveal_expert(draws.centre, draw_id, 3, pool)
    leaf, proof = bytes.fromhex(shown["leaf"]), [bytes.fromhex(p) for p in shown["proof"]]
    assert draws.check_expert(draw_id, 3, leaf, proof)
    assert not draws.check_expert(draw_id, 4, leaf, proof)                     # not the expert drawn as #4
    assert not draws.check_expert(draw_id, 3, os.urandom(32), proof)           # another leaf
    assert not draws.check_expert(draw_id, 3, leaf, proof[:-1] or [leaf])      # a cut or wrong proof
    assert not draws.check_expert(draw_id, 3, leaf, [bytes(32)] * len(proof))  # a forged proof
    assert not draws.check_expert(draw_id, 40, leaf, proof)


def test_changed_pool_or_exclusion_list_is_detected(draws):
    roster = random_roster(150, seed=9)
    secret = os.urandom(32)
    pool = Pool.build(roster, request(), secret)
    draw_id, _ = _run(draws, pool)
    assert verify_draw(draws, draw_id, pool).ok

    def failed(other: Pool) -> set[str]:
        return {c.name for c in verify_draw(draws, draw_id, other).checks if not c.ok}

    added = roster.model_copy(update={"experts": (*roster.experts, roster.experts[0].model_copy(
        update={"id": "E9999999", "employer": None, "specialities": ("A010101",), "region": "370100",
                "available": True}))})
    assert {"pool root", "pool size"} <= failed(Pool(request(), added, secret))
    from lianzheng.rules.experts.roster import Relation

    untied_id = next(r.expert_id for r in roster.relations if r.party in BIDDERS
                     and TENDERER not in {q.party for q in roster.relations if q.expert_id == r.expert_id})
    untied = roster.model_copy(update={"relations": tuple(r for r in roster.relations
                                                            if r.expert_id != untied_id)})
    assert {"pool root", "exclusion list"} <= failed(Pool(request(), untied, secret))
    reason_moved = roster.model_copy(update={"relations": (*roster.relations, Relation(
        expert_id=untied_id, party=TENDERER, relation="also this"))})  # same experts avoided, more reasons
    assert failed(Pool(request(), reason_moved, secret)) == {"exclusion list"}
    assert "pool root" in failed(Pool(request(), roster, os.urandom(32)))  # other salts


@pytest.mark.slow
def test_contract_and_recomputation_agree_for_random_pools_and_k(draws):
    """Full draws for pool sizes across 1..5,000 and k up to 30, and the contract's pure
    `positionsFor` against the Python sequence for many more (seed, size, count)."""
    rng = random.Random(2026)
    cases = [(1, 1), (2, 2), (5000, 30), (31, 30), (30, 30), (64, 64)] + [
        (n, rng.randint(1, min(30, n))) for n in (rng.randint(3, 5000) for _ in range(5))]
    for i, (size, k) in enumerate(cases):
        pool = Pool.build(roster_with_pool(size, seed=i), request(k=k, section=f"S{i}"), os.urandom(32))
        assert pool.size == size
        draw_id, _ = _run(draws, pool)
        result = verify_draw(draws, draw_id, pool)
        assert result.ok, (size, k, result.checks)
        assert len(result.experts) == k
        if size == k == 64:  # the largest draw stays within its gas: one more is refused, not out of gas
            with pytest.raises(RuleRejected, match="ExpertDrawPoolExhausted"):
                draws.replace(draws.centre, draw_id, 0, "refused")
    for _ in range(300):
        size = rng.randint(1, 5000)
        count = rng.randint(1, min(30, size))
        seed = rng.randbytes(32)
        assert draws.positions_for(seed, size, count) == positions(seed, size, count)
