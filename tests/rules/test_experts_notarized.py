"""Every step of a draw is a notary event with a receipt, and no expert's name reaches the notary."""
from __future__ import annotations

import json
import os

from eth_account import Account
from fastapi.testclient import TestClient

from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.experts.draw import ExpertDraw
from lianzheng.rules.experts.pool import Pool
from lianzheng.sdk.client import NotaryClient
from tests.rules.experts_data import random_roster, request


def test_each_draw_step_is_notarized_without_names(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "d", region="370100"))) as api:
        notary = api.app.state.notary
        chain = notary.chain
        assert api.get("/healthz").json()["chain"]["expert_draw"] == notary.experts.address
        client = NotaryClient("http://testserver", create_key(notary.store, "draw-engine", "rules"), transport=api._transport)
        admin, centre, supervisor = (Account.create() for _ in range(3))
        for a in (admin, centre, supervisor):
            chain.fund(a.address)
        draws = ExpertDraw.deploy(chain, admin, notary=client)
        draws.grant_centre(admin, 370100, centre.address)
        draws.grant_supervisor(admin, 370100, supervisor.address)
        pool = Pool.build(random_roster(80, seed=4), request(k=5), os.urandom(32))

        first = draws.create(centre, pool, [centre.address, supervisor.address], 60, 60)
        draws.commit_seed(centre, first)
        chain.set_next_block_time(draws.draw(first).commit_ends)
        draws.void(supervisor, first)
        draw_id = draws.create(centre, pool, [centre.address, supervisor.address], 600, 600)
        secrets = {p: draws.commit_seed(p, draw_id) for p in (centre, supervisor)}
        try:
            draws.reveal_seed(centre, draw_id, os.urandom(32))
        except RuleRejected:
            pass
        for party, secret in secrets.items():
            draws.reveal_seed(party, draw_id, secret)
        draws.replace(centre, draw_id, 1, "refused")
        shown = draws.reveal_expert(centre, draw_id, 0, pool)

        entries = client._request("GET", "/v1/entries", params={"start": 0, "end": 100})["entries"]
        events = [client.receipt(e["event_id"]).event for e in entries]
        steps = [e["type"] for e in events if e["type"].startswith("experts.")]
        assert steps == ["experts.pool_committed", "experts.seed_committed", "experts.draw_voided",
                         "experts.pool_committed", "experts.seed_committed", "experts.seed_committed",
                         "experts.seed_revealed.rejected", "experts.seed_revealed", "experts.seed_revealed",
                         "experts.drawn", "experts.expert_replaced", "experts.expert_revealed"]
        by_type = {e["type"]: e for e in events}
        assert by_type["experts.draw_voided"]["public"]["defaulters"] == [supervisor.address]
        assert by_type["experts.drawn"]["public"]["positions"] == draws.positions(draw_id)[:5]
        assert by_type["experts.seed_revealed.rejected"]["public"]["reason"].startswith("ExpertDrawSeedMismatch")
        revealed = by_type["experts.expert_revealed"]
        assert revealed["public"]["leaf"] == shown["leaf"] and revealed["public"]["position"] == shown["position"]
        assert all(e["section"] == "S1" and e["region"] == "370100" for e in events if e["type"].startswith("experts"))
        logged = json.dumps(events, ensure_ascii=False)
        assert shown["expert"]["name"] in json.dumps(shown, ensure_ascii=False)
        for expert in pool.roster.experts:  # 数据可用不可见: neither names nor roster ids leave the centre
            assert expert.name not in logged and expert.id not in logged
        client.wait_anchored(events[-1]["id"], timeout=30)
