"""POST /v1/cosignatures in-process (embedded chain): a member's attestation of our own anchored
checkpoint is held and carried by receipts of that size; anything else is refused with its code."""
from __future__ import annotations

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from lianzheng.notary.api.app import create_app
from lianzheng.notary.services import cosignatures as service
from lianzheng.sdk.cosign import CheckpointClaim, parse_members, verify_offline
from lianzheng.sdk.receipt import RelayDomain, parse_receipt
from tests.helpers import make_event
from tests.sdk.test_cosign import RELAY, sign


@pytest.fixture
def api(notary):
    notary.log.submit([make_event(i) for i in range(3)], "ts")
    anchor = notary.worker.anchor_once()
    claim = CheckpointClaim(notary.chain.chain_id, notary.registry.address, 370000, anchor.tree_size,
                            notary.log.root(anchor.tree_size))
    with TestClient(create_app(notary.settings, notary), raise_server_exceptions=False) as client:
        yield client, claim


def _body(cosignature: dict, claim: CheckpointClaim, **over) -> dict:
    return {**cosignature, "tree_size": claim.tree_size, "root": claim.root.hex(), **over}


def test_a_members_cosignature_is_held_once_and_carried_by_receipts(api):
    client, claim = api
    members = [Account.create() for _ in range(2)]
    before = client.get("/v1/receipts/evt-1").json()
    assert before["status"] == "anchored" and "cosignatures" not in before
    first = client.post("/v1/cosignatures", json=_body(sign(members[0], claim), claim))
    assert first.status_code == 201 and first.json()["count"] == 1, first.text
    again = client.post("/v1/cosignatures", json=_body(sign(members[0], claim), claim))
    assert again.status_code == 200 and again.json()["status"] == "held"
    client.post("/v1/cosignatures", json=_body(sign(members[1], claim), claim))
    receipt = parse_receipt(client.get("/v1/receipts/evt-1").json())  # anonymous: the public form
    assert {c.member for c in receipt.cosignatures} == {m.address for m in members}
    roster = parse_members({"relay": RELAY.model_dump(), "threshold": 2,
                            "members": [{"address": m.address, "epoch": 1} for m in members]})
    assert verify_offline(receipt, roster, document_sha256=f"{1:064x}").signers == tuple(
        sorted((m.address for m in members), key=str))


def test_a_later_epoch_replaces_the_members_earlier_one(api):
    client, claim = api
    member = Account.create()
    client.post("/v1/cosignatures", json=_body(sign(member, claim, epoch=1), claim))
    later = client.post("/v1/cosignatures", json=_body(sign(member, claim, epoch=2), claim))
    assert later.json()["status"] == "replaced"
    [held] = parse_receipt(client.get("/v1/receipts/evt-0").json()).cosignatures
    assert held.epoch == 2
    older = client.post("/v1/cosignatures", json=_body(sign(member, claim, epoch=1), claim))
    assert older.status_code == 200 and older.json()["status"] == "held"


def test_what_is_not_an_attestation_of_our_anchored_checkpoint_is_refused(api):
    client, claim = api
    member, forger = Account.create(), Account.create()
    other_log = CheckpointClaim(claim.source_chain_id, "0x" + "ab" * 20, claim.region, claim.tree_size, claim.root)
    cases = {
        "forged-signature": (_body({**sign(forger, claim), "member": member.address}, claim), "cosignature_invalid"),
        "another-logs-checkpoint": (_body(sign(member, other_log), claim), "cosignature_invalid"),
        "epoch-relabelled": (_body({**sign(member, claim), "epoch": 2}, claim), "cosignature_invalid"),
        "size-never-anchored": (_body(sign(member, claim), claim, tree_size=claim.tree_size + 7),
                                "cosignature_unanchored"),
        "root-not-the-anchored-one": (_body(sign(member, claim), claim, root="00" * 32), "cosignature_mismatch"),
        "short-signature": (_body({**sign(member, claim), "signature": "0x" + "00" * 64}, claim), "invalid_request"),
        "extra-field": (_body(sign(member, claim), claim, note="x"), "invalid_request"),
    }
    for name, (body, code) in cases.items():
        answer = client.post("/v1/cosignatures", json=body)
        assert (answer.status_code, answer.json()["code"]) == (422, code), (name, answer.text)
    assert "cosignatures" not in client.get("/v1/receipts/evt-0").json()


def test_a_size_holds_a_bounded_number_of_cosignatures(api, monkeypatch):
    client, claim = api
    monkeypatch.setattr(service, "PER_RELAY", 2)
    monkeypatch.setattr(service, "RELAYS", 2)
    for _ in range(2):
        assert client.post("/v1/cosignatures", json=_body(sign(Account.create(), claim), claim)).status_code == 201
    full = client.post("/v1/cosignatures", json=_body(sign(Account.create(), claim), claim))
    assert (full.status_code, full.json()["code"]) == (422, "cosignatures_full")
    second = RelayDomain(chain_id=1500, address="0x" + "15" * 20)
    assert client.post("/v1/cosignatures", json=_body(sign(Account.create(), claim, relay=second), claim)).status_code \
        == 201
    third = RelayDomain(chain_id=4100, address="0x" + "41" * 20)
    refused = client.post("/v1/cosignatures", json=_body(sign(Account.create(), claim, relay=third), claim))
    assert (refused.status_code, refused.json()["code"]) == (422, "cosignatures_full")
    assert len(parse_receipt(client.get("/v1/receipts/evt-2").json()).cosignatures) == 3


def test_the_route_is_rate_limited_per_client(api):
    client, claim = api
    limiter = client.app.state.limits.cosignatures
    kept = limiter.burst, limiter.rate
    limiter.burst, limiter.rate = 3, 0.01  # no refill between the requests, however slow the machine
    try:
        codes = [client.post("/v1/cosignatures", json=_body(sign(Account.create(), claim), claim)).status_code
                 for _ in range(5)]
    finally:
        limiter.burst, limiter.rate = kept
    assert codes[:3] == [201] * 3 and codes[-1] == 429
