"""A chain that fails inside a route is a 503 with a real Retry-After, never a 500."""
from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from lianzheng.chain_node.anvil import funded_key_file
from lianzheng.notary.api.app import create_app
from lianzheng.notary.api.errors import CHAIN_RETRY_SECONDS
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings
from tests.helpers import make_event


@pytest.mark.anvil
def test_chain_down_inside_a_tender_route_is_503_with_retry_after(tmp_path):
    from lianzheng.chain_node.anvil import AnvilNode

    node = AnvilNode()  # a chain of its own: this test stops it
    try:
        settings = Settings(data_dir=tmp_path / "data", rpc_url=node.url, anchor_interval=0.2,
                            chain_key_file=funded_key_file(node.url, tmp_path / "k" / "chain.key"))
        with TestClient(create_app(settings), raise_server_exceptions=False) as api:
            headers = {"Authorization": f"Bearer {create_key(api.app.state.notary.store, 'centre')}"}
            assert api.post("/v1/events", json=make_event(1), headers=headers).status_code == 201
            node.stop()
            holder = "0x" + "11" * 20
            body = {"project": "P-1", "section": "S1", "profile": "engineering",
                    "deadline": int(time.time()) + 30 * 86400, "holders": [holder], "threshold": 2}
            r = api.post("/v1/tender/sections", json=body, headers=headers)
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "chain_unavailable"
            assert r.headers["retry-after"] == str(CHAIN_RETRY_SECONDS)
            # what was accepted before stays, and writing events does not need the chain
            assert api.post("/v1/events", json=make_event(2), headers=headers).status_code == 201
            assert api.get("/v1/receipts/evt-1").status_code == 200
    finally:
        node.stop()


def test_rate_limited_answers_carry_the_real_wait(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", rate_limit=0.2)  # one write per 5 s, bursts of 1
    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        headers = {"Authorization": f"Bearer {create_key(api.app.state.notary.store, 'slow')}"}
        assert api.post("/v1/events", json=make_event(1), headers=headers).status_code == 201
        r = api.post("/v1/events", json=make_event(2), headers=headers)
        assert (r.status_code, r.json()["code"]) == (429, "rate_limited")
        assert int(r.headers["retry-after"]) in (4, 5)  # today it said 1 whatever the wait
