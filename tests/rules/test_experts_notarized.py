"""Every step of a draw is a notary event with a receipt, a withholder is named, and no expert's name reaches
the notary."""
from __future__ import annotations

import json

from eth_account import Account
from fastapi.testclient import TestClient

from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings
from lianzheng.rules.errors import RuleRejected
from lianzheng.sdk.client import NotaryClient
from tests.rules.experts_chain import make_world


def test_each_draw_step_is_notarized_without_names(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "d", region="370000"))) as api:
        notary = api.app.state.notary
        chain = notary.chain
        assert api.get("/healthz").json()["chain"]["expert_draw"] == notary.experts.address
        client = NotaryClient("http://testserver", create_key(notary.store, "draw-engine", "rules"),
                              transport=api._transport)

        def funded():
            a = Account.create()
            chain.fund(a.address)
            return a

        world = make_world(chain, funded, notary=client)
        d = world.draws
        first, _ = world.create(window=600)
        d.commit_seed(world.centre.account, first)
        world.chain.set_next_block_time(d.draw(first).phase_ends)
        d.void(world.supervisor.account, first)
        world.tender.section_id = d.draw(first).section_id  # a new round of the same section
        draw_id = _second_round(world, first)
        dealings = world.commit_all(draw_id)
        world.acknowledge_all(draw_id)
        try:
            d.reveal_seed(world.centre.account, draw_id, dealings[0].secret + 1)
        except RuleRejected:
            pass
        world.reveal_all(draw_id, dealings, skip=(2,))
        world.chain.set_next_block_time(d.draw(draw_id).phase_ends + 1)
        for p in world.parties[:2]:
            d.publish_share(p.account, p.x25519, draw_id, world.parties[2].address)
        d.replace(world.centre.account, draw_id, 0, 1, "refused",
                  d.sign_replacement(world.supervisor.account, draw_id, 0, 1, "refused"))
        shown = d.reveal_expert(world.centre.account, draw_id, 0, 0, world.pool)

        entries = client._request("GET", "/v1/entries", params={"start": 0, "end": 200})["entries"]
        events = [client.receipt(e["event_id"]).event for e in entries]
        steps = [e["type"] for e in events if e["type"].startswith("experts.")]
        assert steps == [
            "experts.draw_planned", "experts.pool_committed", "experts.pool_committed", "experts.pool_committed",
            "experts.seed_committed", "experts.draw_voided",
            "experts.draw_planned", "experts.pool_committed", "experts.pool_committed", "experts.pool_committed",
            *["experts.seed_committed"] * 3, *["experts.shares_acknowledged"] * 3,
            "experts.seed_revealed.rejected", "experts.seed_revealed", "experts.seed_revealed",
            "experts.share_published", "experts.share_published", "experts.secret_recovered",
            "experts.drawn", "experts.drawn", "experts.drawn", "experts.expert_replaced", "experts.expert_revealed"]
        by_type = {e["type"]: e for e in events}
        assert by_type["experts.draw_voided"]["public"]["defaulters"] == [world.supervisor.address,
                                                                           world.independent.address]
        assert by_type["experts.secret_recovered"]["public"]["party"] == world.parties[2].address
        drawn = [e["public"] for e in events if e["type"] == "experts.drawn"]
        assert [x["positions"] for x in drawn] == [d.positions(draw_id, i)[0][:q] for i, q in enumerate((3, 1, 1))]
        assert by_type["experts.seed_revealed.rejected"]["public"]["reason"].startswith("ExpertDrawSecretMismatch")
        revealed = by_type["experts.expert_revealed"]
        assert revealed["public"]["leaf"] == shown["leaf"] and revealed["public"]["position"] == shown["position"]
        logged = json.dumps(events, ensure_ascii=False)
        assert shown["expert"]["name"] in json.dumps(shown, ensure_ascii=False)
        for expert in world.registry.roster.experts:  # 数据可用不可见: neither names nor registry ids leave the domain
            assert expert.name not in logged and expert.id not in logged
        client.wait_anchored(events[-1]["id"], timeout=30)


def _second_round(world, first: bytes) -> bytes:
    """Round 2 of the voided draw's section, its pools committed; keeps the pool on ``world``."""
    from lianzheng.rules.experts.pool import Pool

    subject = world.draws.subject(first)
    the_plan = world.plan_for(subject.project, subject.section)
    draw_id = world.draws.create(world.centre.account, the_plan, [p.address for p in world.parties], 600)
    world.pool = Pool.build(world.registry, world.draws.plan_for_draw(draw_id, the_plan),
                            world.draws.bidders(subject.section_id))
    world.draws.commit_pools(world.centre.account, draw_id, world.pool)
    return draw_id
