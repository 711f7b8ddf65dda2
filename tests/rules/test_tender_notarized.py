"""Every tender step, accepted or refused, is a notary event that names its transaction."""
from __future__ import annotations

import os
import time

from eth_account import Account
from fastapi.testclient import TestClient
from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.tender.contract import SealedBid, TenderRules
from lianzheng.sdk.client import NotaryClient


def test_each_step_and_each_refusal_is_notarized_with_its_transaction(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "d"))) as api:
        notary = api.app.state.notary
        chain = notary.chain
        client = NotaryClient("http://testserver", create_key(notary.store, "tender-engine", "rules"), transport=api._transport)
        admin, centre, relayer = (Account.create() for _ in range(3))
        for a in (admin, centre, relayer):
            chain.fund(a.address)
        rules = TenderRules.deploy(chain, admin, notary=client)
        rules.grant_centre(admin, 370000, centre.address)
        keys = [Account.create() for _ in range(3)]
        ids = [os.urandom(32) for _ in range(3)]
        for bid_id, key in zip(ids, keys):
            rules.register_bidder(centre, 370000, bid_id, key.address)
        deadline = max(chain.block_time(), int(time.time())) + 100
        section = rules.open_section(centre, 370000, "SDGP-2026-0042", "S1", deadline, 600)
        same_file = SealedBid(b"\x05" * 32, os.urandom(32))
        bids = [same_file, SealedBid(b"\x05" * 32, os.urandom(32)), SealedBid(os.urandom(32), os.urandom(32))]
        txs = []
        for i in range(2):
            message = rules.sign_commitment(keys[i], section, ids[i], bids[i].commitment(section, ids[i]), 1)
            txs.append(rules.relay(relayer, message).tx_hash)
        chain.set_next_block_time(deadline)
        late = rules.sign_commitment(keys[2], section, ids[2], bids[2].commitment(section, ids[2]), 1)
        try:
            rules.relay(relayer, late)
            raise AssertionError("a late bid was accepted")
        except RuleRejected as exc:
            refused_tx = exc.tx_hash
        rules.start_opening(centre, section)
        for i in range(2):
            rules.reveal(centre, section, ids[i], bids[i])

        committed = [client.receipt(f"rule-{tx}") for tx in txs]
        assert [r.event["type"] for r in committed] == ["bid.committed", "bid.committed"]
        assert [r.event["public"]["tx_hash"] for r in committed] == txs
        assert committed[0].event["section"] == "S1" and committed[0].event["project"] == "SDGP-2026-0042"
        refused = client.receipt(f"rule-{refused_tx}")
        assert refused.event["type"] == "bid.committed.rejected"
        assert refused.event["public"]["reason"].startswith("BidDeadlinePassed(")
        assert chain.outcome(refused_tx).status == 0
        flags = [e for e in (client._request("GET", "/v1/entries", params={"start": 0, "end": 100})["entries"])
                 if e["event_id"].startswith("rule-") and e["event_id"].count("-") == 2]
        flagged = [client.receipt(e["event_id"]).event for e in flags]
        assert [(f["type"], f["public"]["firstBidder"], f["public"]["secondBidder"]) for f in flagged] == [
            ("tender.flag.duplicate_bid_file", ids[0].hex(), ids[1].hex())]
        types = {client.receipt(e["event_id"]).event["type"]
                 for e in client._request("GET", "/v1/entries", params={"start": 0, "end": 100})["entries"]}
        assert {"tender.section_opened", "tender.opening_started", "bid.opened"} <= types
