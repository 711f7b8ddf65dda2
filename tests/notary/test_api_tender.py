"""The tender endpoints: trading systems relay bidder-signed messages and drive opening."""
from __future__ import annotations

import os
import time

from eth_account import Account
from fastapi.testclient import TestClient
from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings
from lianzheng.rules.tender.contract import commitment_of


def _sign(account, domain, primary, fields, message):
    types = {primary: [{"name": n, "type": t} for t, n in (f.split() for f in fields)]}
    return "0x" + bytes(account.sign_typed_data(domain, types, message).signature).hex()


def test_tender_through_the_api(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "d"))) as api:
        notary = api.app.state.notary
        auth = {"Authorization": f"Bearer {create_key(notary.store, 'trading-system')}"}
        spec = api.get("/v1/tender/domain").json()
        domain, types = spec["domain"], spec["types"]
        deadline = max(notary.chain.block_time(), int(time.time())) + 300
        r = api.post("/v1/tender/sections", json={"project": "SDGP-2026-0042", "section": "S1",
                                                  "deadline": deadline}, headers=auth)
        assert r.status_code == 201
        section = r.json()["section_id"]
        keys = [Account.create() for _ in range(3)]
        ids = [os.urandom(32) for _ in range(3)]
        for bid_id, key in zip(ids, keys):
            assert api.post("/v1/tender/bidders", json={"bidder_id": bid_id.hex(), "key": key.address},
                            headers=auth).status_code == 201
        files = [b"\x0a" * 32, b"\x0a" * 32, os.urandom(32)]
        salts = [os.urandom(32) for _ in range(3)]
        sid = bytes.fromhex(section[2:])
        for i in range(3):
            commitment = commitment_of(sid, ids[i], files[i], salts[i])
            signature = _sign(keys[i], domain, "BidCommitment", types["BidCommitment"],
                              {"sectionId": sid, "bidderId": ids[i], "commitment": commitment, "nonce": 1})
            body = {"section_id": section, "bidder_id": ids[i].hex(), "nonce": 1, "signature": signature,
                    "commitment": commitment.hex()}
            if i == 0:
                altered = {**body, "commitment": os.urandom(32).hex()}
                refused = api.post("/v1/tender/relay", json=altered, headers=auth)
                assert refused.status_code == 422 and refused.json()["code"] == "rule_rejected"
                assert refused.json()["details"]["error"] == "TenderRulesInvalidSignature"
            assert api.post("/v1/tender/relay", json=body, headers=auth).status_code == 200
        assert api.post("/v1/tender/relay", json=body, headers={}).status_code == 401

        early = api.post(f"/v1/tender/sections/{section}/opening", headers=auth)
        assert early.json()["details"]["error"] == "TenderRulesOpeningBeforeDeadline"
        notary.chain.set_next_block_time(deadline)
        late_sig = _sign(keys[2], domain, "BidWithdrawal", types["BidWithdrawal"],
                         {"sectionId": sid, "bidderId": ids[2], "nonce": 2})
        late = api.post("/v1/tender/relay", json={"section_id": section, "bidder_id": ids[2].hex(), "nonce": 2,
                                                   "signature": late_sig}, headers=auth)
        assert late.status_code == 422 and late.json()["details"]["error"] == "BidDeadlinePassed"
        assert notary.chain.outcome(late.json()["details"]["tx_hash"]).status == 0

        assert api.post(f"/v1/tender/sections/{section}/opening", headers=auth).status_code == 200
        for i in range(3):
            r = api.post(f"/v1/tender/sections/{section}/reveals", headers=auth,
                         json={"bidder_id": ids[i].hex(), "file_hash": files[i].hex(), "salt": salts[i].hex()})
            assert r.json() == {"state": "valid"}
        assert api.post(f"/v1/tender/sections/{section}/close", headers=auth).json() == {
            "state": "evaluation", "valid_bids": 3}

        view = api.get(f"/v1/tender/sections/{section}").json()
        assert view["state"] == "evaluation" and [b["state"] for b in view["bids"]] == ["valid"] * 3
        assert view["flags"] == [{"kind": "DuplicateBidFile", "value": "0x" + files[0].hex(),
                                  "bidders": ["0x" + ids[0].hex(), "0x" + ids[1].hex()]}]
        assert api.get(f"/v1/tender/sections/{'ab' * 32}").status_code == 404
        assert api.get("/v1/tender/sections/xyz").json()["code"] == "invalid_request"
        bad = api.post("/v1/tender/relay", json={"section_id": "zz"}, headers=auth)
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_request")
