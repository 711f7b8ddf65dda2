"""The ExpertDraw contract on the embedded EVM and on anvil: a draw nobody can steer, recomputed by `verify_draw`."""
from __future__ import annotations

import pytest

from lianzheng.chain_node import TransactionReverted
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.experts import escrow
from lianzheng.rules.experts.sequence import positions, seed_of, stratum_seed
from lianzheng.rules.experts.verify import verify_draw
from tests.rules.experts_chain import BIDDER_IDS_ON_CHAIN, make_world


@pytest.fixture
def world(chain, funded):
    return make_world(chain, funded)


def _reason(exc_info) -> str:
    return exc_info.value.error_name


def _preview(world, draw_id, secrets: list[int]) -> dict[int, list[int]]:
    """What a party holding every secret computes before revealing: each stratum's drawn positions."""
    view = world.draws.draw(draw_id)
    seed = seed_of(draw_id, view.plan_hash, secrets)
    return {i: positions(stratum_seed(seed, i), p.size, s.quota)
            for i, (s, p) in enumerate((s, world.draws.pools(draw_id)[s.index]) for s in world.draws.strata(draw_id))}


def test_a_draw_end_to_end_matches_its_recomputation(world):
    draw_id, pool = world.create()
    view = world.draws.draw(draw_id)
    assert (view.state, view.strata, view.parties, view.threshold) == ("committing", 3, 3, 2)
    assert world.draws.bidders(view.section_id) == BIDDER_IDS_ON_CHAIN  # from the tender contract
    dealings = world.commit_all(draw_id)
    assert world.draws.draw(draw_id).state == "acknowledging"
    with pytest.raises(RuleRejected) as early:  # nobody reveals before every share is acknowledged
        world.draws.reveal_seed(world.centre.account, draw_id, dealings[0].secret)
    assert _reason(early) == "ExpertDrawWrongState"
    world.acknowledge_all(draw_id)
    world.reveal_all(draw_id, dealings)
    view = world.draws.draw(draw_id)
    assert view.state == "drawn"
    drawn = {s.index: world.draws.positions(draw_id, s.index)[0] for s in world.draws.strata(draw_id)}
    assert drawn == _preview(world, draw_id, [d.secret for d in dealings])
    assert [len(drawn[i]) for i in range(3)] == [3, 1, 1]
    result = verify_draw(world.draws, draw_id, [pool])
    assert result.ok, [c for c in result.checks if not c.ok]
    assert len(result.experts) == 5


def test_the_last_revealer_who_previews_and_withholds_gets_the_same_experts(world):
    """The attack on commit-reveal: the last party sees the others' secrets, computes the outcome,
    dislikes it and withholds. The others publish their shares; the contract recovers its secret
    and draws exactly what it previewed. Withholding names it; it re-rolls nothing."""
    draw_id, _ = world.create()
    dealings = world.commit_all(draw_id)
    world.acknowledge_all(draw_id)
    world.reveal_all(draw_id, dealings, skip=(2,))
    revealed = world.draws.secrets(draw_id)
    last = world.parties[2]
    preview = _preview(world, draw_id, [revealed[world.parties[0].address], revealed[world.parties[1].address],
                                        dealings[2].secret])
    view = world.draws.draw(draw_id)
    world.chain.set_next_block_time(view.phase_ends + 3 * 3600)  # well past the reveal window
    with pytest.raises(RuleRejected) as late:
        world.draws.reveal_seed(last.account, draw_id, dealings[2].secret)
    assert _reason(late) == "ExpertDrawWindowClosed"
    with pytest.raises(RuleRejected) as void:  # the recovery period (7 days) is open: no void, no new round
        world.draws.void(world.supervisor.account, draw_id)
    assert _reason(void) == "ExpertDrawNotVoidable"
    world.draws.publish_share(world.parties[0].account, world.parties[0].x25519, draw_id, last.address)
    assert world.draws.draw(draw_id).state == "revealing"  # one share of two
    world.draws.publish_share(world.parties[1].account, world.parties[1].x25519, draw_id, last.address)
    assert world.draws.draw(draw_id).state == "drawn"
    assert {i: world.draws.positions(draw_id, i)[0] for i in preview} == preview
    assert world.draws.withheld(draw_id) == [last.address]
    assert world.draws.secrets(draw_id)[last.address] == dealings[2].secret


def test_a_published_share_that_does_not_check_is_refused(world):
    draw_id, _ = world.create()
    dealings = world.commit_all(draw_id)
    world.acknowledge_all(draw_id)
    world.reveal_all(draw_id, dealings, skip=(2,))
    world.chain.set_next_block_time(world.draws.draw(draw_id).phase_ends + 1)
    first, last = world.parties[0], world.parties[2]
    commitments = [list(c) for c in world.draws.dealings(draw_id)[last.address][0]]
    good = dealings[2].shares[0]
    with pytest.raises(TransactionReverted) as bad:  # a made-up share to steer the recovered secret
        world.chain.transact(first.account, world.draws.contract.tx(
            "publishShare", draw_id, last.address, (good + 1) % escrow.R, commitments))
    assert "ExpertDrawInvalidShare" in str(bad.value)


def test_a_bad_share_voids_the_draw_before_any_secret_is_known(world):
    """A dealer that seals garbage to one party cannot block its own recovery later: the party
    complains in the acknowledge phase and the draw is void while nobody knows any secret."""
    draw_id, _ = world.create()
    dealer, victim = world.parties[0], world.parties[1]
    parties = [p.address for p in world.parties]
    honest = escrow.deal(3, 0)
    sealed = [b"", escrow.seal((honest.shares[1] + 7) % escrow.R, world.draws.party_key(victim.address),
                               escrow.share_context(draw_id, dealer.address, victim.address)),
              escrow.seal(honest.shares[2], world.draws.party_key(parties[2]),
                          escrow.share_context(draw_id, dealer.address, parties[2]))]
    world.chain.transact(dealer.account, world.draws.contract.tx(
        "commitSeed", draw_id, [list(c) for c in honest.commitments], sealed), gas=1_000_000)
    for p in world.parties[1:]:
        world.draws.commit_seed(p.account, draw_id)
    assert world.draws.acknowledge(world.parties[2].account, world.parties[2].x25519, draw_id) is None
    assert world.draws.acknowledge(victim.account, victim.x25519, draw_id) == dealer.address
    assert world.draws.draw(draw_id).state == "voided"
    [voided] = world.draws.contract.logs("DrawVoided", drawId=draw_id)
    assert list(voided.args["defaulters"]) == [dealer.address, victim.address]
    assert world.draws.secrets(draw_id) == {}


def test_a_missing_acknowledgement_voids_naming_the_party(world):
    draw_id, _ = world.create()
    world.commit_all(draw_id)
    for p in world.parties[:2]:
        world.draws.acknowledge(p.account, p.x25519, draw_id)
    world.chain.set_next_block_time(world.draws.draw(draw_id).phase_ends + 1)
    assert world.draws.void(world.supervisor.account, draw_id) == ("acknowledge", [world.parties[2].address])


def test_commitments_must_be_the_threshold_and_on_the_curve(world):
    draw_id, _ = world.create()
    me = world.parties[0]
    d = escrow.deal(3, 0)
    sealed = [b"", b"x" * 92, b"y" * 92]
    for commitments in ([list(d.commitments[0])],                    # fewer than the threshold
                        [[1, 3], list(d.commitments[1])],            # not on the curve
                        [[0, 0], list(d.commitments[1])]):           # the identity: secret 0
        with pytest.raises(TransactionReverted) as bad:
            world.chain.transact(me.account, world.draws.contract.tx("commitSeed", draw_id, commitments, sealed),
                                 gas=1_000_000)
        assert "ExpertDrawInvalidCommitments" in str(bad.value)


@pytest.mark.parametrize("who", ["centre-only extra party", "two centre accounts", "two supervisor accounts",
                                 "no supervisor", "no independent", "party without a key"])
def test_the_centre_cannot_choose_who_makes_the_seed(world, who):
    """The parties: each holds a role the admin granted; the centre's accounts are fewer than the
    recovery threshold (never a majority); at least one supervisor and one independent party."""
    c, s, i = world.centre, world.supervisor, world.independent
    parties = {
        "centre-only extra party": [c, s, i, world.party(None)],
        "two centre accounts": [c, world.party("centre"), s, i],  # n = 4, threshold 2: the centre could recover
        "two supervisor accounts": [c, s, world.party("supervisor"), i],  # ... and so could one supervisor office
        "no supervisor": [c, i, world.party("independent")],
        "no independent": [c, s, world.party("supervisor")],
        "party without a key": [c, s, i],
    }[who]
    if who == "party without a key":
        world.draws.set_party_key(i.account, bytes(32))
    with pytest.raises(RuleRejected) as refused:
        world.create(parties=parties)
    assert _reason(refused) == "ExpertDrawInvalidParties"


def test_five_parties_with_two_centre_accounts_are_fine(world):
    parties = [world.centre, world.party("centre"), world.supervisor, world.independent, world.party("independent")]
    draw_id, _ = world.create(parties=parties)
    assert world.draws.draw(draw_id).threshold == 3
    dealings = world.commit_all(draw_id)
    world.acknowledge_all(draw_id)
    world.reveal_all(draw_id, dealings, skip=(0, 1))  # both centre accounts withhold
    world.chain.set_next_block_time(world.draws.draw(draw_id).phase_ends + 1)
    for dealer in parties[:2]:
        for p in parties[2:]:
            world.draws.publish_share(p.account, p.x25519, draw_id, dealer.address)
    assert world.draws.draw(draw_id).state == "drawn"
    assert world.draws.withheld(draw_id) == [parties[0].address, parties[1].address]


def test_no_draw_before_the_bids_are_opened(world):
    world.anchor()
    world.tender.open(deadline_in=3600)
    subject = world.tender.rules._subject(world.tender.section_id)
    the_plan = world.plan_for(subject.project, subject.section)
    with pytest.raises(RuleRejected) as early:
        world.draws.create(world.centre.account, the_plan, [p.address for p in (world.centre, world.supervisor,
                                                                                world.independent)])
    assert _reason(early) == "ExpertDrawTenderNotOpened"


@pytest.mark.parametrize("tenderer_reps", [1, 3, 4])  # 6 members: even; 8: even; 9 with 5 experts < 2/3
def test_a_committee_that_breaks_its_profile_is_refused_on_chain(world, tenderer_reps):
    with pytest.raises(RuleRejected) as refused:
        world.create(tenderer_reps=tenderer_reps)
    assert _reason(refused) == "ExpertDrawCommitteeBreaksProfile"


def test_replacements_need_a_supervisor_count_and_stop_at_the_cap(world):
    draw_id, _ = world.create(profile="demo")  # cap 4
    dealings = world.commit_all(draw_id)
    world.acknowledge_all(draw_id)
    world.reveal_all(draw_id, dealings)
    d, centre, sup = world.draws, world.centre.account, world.supervisor.account
    for signer in (centre, world.independent.account, world.party("supervisor").account):
        # the centre alone, a non-supervisor, or a supervisor who is no party to this draw
        with pytest.raises(RuleRejected) as alone:
            d.replace(centre, draw_id, 0, 0, "refused", d.sign_replacement(signer, draw_id, 0, 0, "refused"))
        assert _reason(alone) == "ExpertDrawReplacementRefused"
    signature = d.sign_replacement(sup, draw_id, 0, 0, "refused")
    with pytest.raises(RuleRejected) as other:  # the co-signature names its seat and reason
        d.replace(centre, draw_id, 0, 1, "refused", signature)
    assert _reason(other) == "ExpertDrawReplacementRefused"
    with pytest.raises(RuleRejected) as by_supervisor:  # the supervisor alone cannot either
        d.replace(sup, draw_id, 0, 0, "refused", signature)
    assert "AccessControlUnauthorizedAccount" in str(by_supervisor.value)
    pool_size = d.pools(draw_id)[0].size
    drawn_before = d.positions(draw_id, 0)[0]
    position = d.replace(centre, draw_id, 0, 0, "refused", signature)
    seed = stratum_seed(d.draw(draw_id).seed, 0)
    assert position == positions(seed, pool_size, 4)[3]  # the next of the same shuffle
    assert d.positions(draw_id, 0) == (drawn_before + [position], frozenset({0}))
    with pytest.raises(RuleRejected) as replay:  # a signature serves once
        d.replace(centre, draw_id, 0, 1, "refused", d.sign_replacement(sup, draw_id, 0, 1, "refused", count=0))
    assert _reason(replay) == "ExpertDrawReplacementRefused"
    with pytest.raises(RuleRejected) as twice:
        d.replace(centre, draw_id, 0, 0, "absent", d.sign_replacement(sup, draw_id, 0, 0, "absent"))
    assert _reason(twice) == "ExpertDrawInvalidOrdinal"
    for ordinal in (1, 2, 3):
        d.replace(centre, draw_id, 0, ordinal, "absent", d.sign_replacement(sup, draw_id, 0, ordinal, "absent"))
    assert d.draw(draw_id).replacements == 4  # public
    from dataclasses import replace as changed

    from lianzheng.rules.experts.profiles import load_committee_profiles

    d.set_profile(world.admin, changed(load_committee_profiles()["demo"], max_replacements=20))
    assert d.draw(draw_id).replacement_cap == 4  # the cap was fixed when the draw was created
    with pytest.raises(RuleRejected) as capped:
        d.replace(centre, draw_id, 1, 0, "unable", d.sign_replacement(sup, draw_id, 1, 0, "unable"))
    assert _reason(capped) == "ExpertDrawReplacementCap"
    assert [r["reason"] for r in d.replacements(draw_id)] == ["refused", "absent", "absent", "absent"]
