"""The tender procedure through the notary's HTTP API (TenderRules), in process on the embedded chain."""
from __future__ import annotations

import hashlib
import json
import os
import time

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.settings import Settings
from lianzheng.rules.tender.client import bid_submission, holder_registration, holder_release
from lianzheng.rules.tender.crypto import new_holder_key, public_bytes
from lianzheng.rules.tender.sealing import Observed

PROFILES = ["engineering", "government_procurement", "demo"]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("tender") / "d", tender_profiles=PROFILES)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        store = client.app.state.notary.store
        client.owner = {"Authorization": f"Bearer {create_key(store, 'centre-system')}"}
        client.other = {"Authorization": f"Bearer {create_key(store, 'other-system')}"}
        client.notary = client.app.state.notary
        client.operator = {"Authorization": f"Bearer {create_key(store, 'registry-office', 'operator')}"}
        client.supervisor = (Account.create(), new_holder_key())
        r = client.post("/v1/tender/holders", headers=client.operator,
                        json=holder_registration(client.notary.tender.domain(), *client.supervisor))
        assert r.status_code == 201, r.text
        client.bidders = []
        for i in range(4):
            key, bidder_id = Account.create(), hashlib.sha256(f"91370000MA{i:08d}".encode()).digest()
            r = client.post("/v1/tender/bidders", headers=client.operator, json={
                "bidder_id": bidder_id.hex(), "ca_cert_hash": hashlib.sha256(b"cert" + bytes([i])).hexdigest(),
                "key": key.address})
            assert r.status_code == 201, r.text
            client.bidders.append((bidder_id, key))
        yield client


def _open(api, name: str, lead: int = 120) -> tuple[str, int]:
    deadline = max(api.notary.chain.block_time(), int(time.time())) + lead
    sup, x = api.supervisor
    r = api.post("/v1/tender/sections", headers=api.owner, json={
        "project": "SDGP-2026-0042", "section": name, "profile": "demo", "deadline": deadline,
        "holders": [sup.address], "threshold": 2})
    assert r.status_code == 201, r.text
    return r.json()["section_id"], deadline


def _bid(api, section_id: str, i: int, clear: bytes, device: str = "") -> dict:
    view = api.get(f"/v1/tender/sections/{section_id}").json()
    bidder_id, key = api.bidders[i]
    _, body = bid_submission(view, clear, bidder_id, key, Observed(device=device))
    r = api.post(f"/v1/tender/sections/{section_id}/bids", headers=api.owner, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_tender_from_opening_to_evaluation(api):
    section_id, deadline = _open(api, "S1")
    before = api.get(f"/v1/tender/sections/{section_id}").json()
    files = [b"%PDF-1.4 offer " + os.urandom(40) for _ in range(4)]
    files[3] = files[2]  # a copied bid: flagged although each ciphertext differs
    receipts = [_bid(api, section_id, i, files[i], device=f"mac-{i % 3}") for i in range(4)]
    assert all(set(r["receipt"]) == {"section_id", "leaf_hash", "signer", "signature"} for r in receipts)
    assert api.get(f"/v1/tender/sections/{section_id}").json() == before  # nothing about bids shows
    assert api.post(f"/v1/tender/sections/{section_id}/seal", headers=api.owner).json()["code"] == "rule_rejected"
    api.notary.chain.set_next_block_time(deadline)
    sealed = api.post(f"/v1/tender/sections/{section_id}/seal", headers=api.owner).json()
    assert (sealed["state"], sealed["box_size"]) == ("sealed", 4)
    sup, x = api.supervisor
    sid = bytes.fromhex(section_id[2:])
    handed = api.get(f"/v1/tender/sections/{section_id}/shares", params={"holder": sup.address}).json()
    released = api.post(f"/v1/tender/sections/{section_id}/releases",
                        json=holder_release(sid, handed, sup, x, before["domain"]))
    assert released.status_code == 200, released.text
    opened = api.post(f"/v1/tender/sections/{section_id}/opening", headers=api.owner).json()
    assert "bids" in opened, opened
    opened = opened["bids"]
    assert [b["state"] for b in opened] == ["valid"] * 4
    closed = api.post(f"/v1/tender/sections/{section_id}/close", headers=api.owner).json()
    assert closed == {"state": "evaluation", "valid_bids": 4, "bids": 4}
    view = api.get(f"/v1/tender/sections/{section_id}").json()
    assert [b["state"] for b in view["bids"]] == ["valid"] * 4
    flags = api.notary.tender.contract.logs("SharedSignal", sectionId=sid)
    assert {(f.args["kind"], f.args["secondPseudonym"].hex()) for f in flags} >= {
        (0, receipts[3]["entry"]["pseudonym"]), (4, receipts[3]["entry"]["pseudonym"])}  # same file, same device
    timeline = api.get("/v1/timeline", params={"project": "SDGP-2026-0042", "section": "S1"}).json()
    kinds = [e["type"] for e in timeline["events"]]
    assert kinds.count("bid.sealed") == 4 and kinds.count("bid.opened") == 4
    assert "tender.flag.shared_signal" in kinds and "tender.box_sealed" in kinds


def test_only_the_key_that_opened_a_section_acts_on_it(api):
    section_id, _ = _open(api, "S2")
    view = api.get(f"/v1/tender/sections/{section_id}").json()
    bidder_id, key = api.bidders[0]
    _, body = bid_submission(view, b"offer", bidder_id, key, Observed())
    for path, payload in ((f"/v1/tender/sections/{section_id}/seal", None),
                          (f"/v1/tender/sections/{section_id}/extension", {"deadline": 2**40, "reason": "x"})):
        r = api.post(path, headers=api.other, json=payload)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), path


def test_a_bid_not_signed_by_the_registered_key_is_refused_and_recorded(api):
    section_id, deadline = _open(api, "S3")
    view = api.get(f"/v1/tender/sections/{section_id}").json()
    bidder_id, _ = api.bidders[1]
    _, body = bid_submission(view, b"offer", bidder_id, Account.create(), Observed())
    r = api.post(f"/v1/tender/sections/{section_id}/bids", headers=api.owner, json=body)
    assert (r.status_code, r.json()["code"]) == (400, "bid_refused")
    for i in range(3):
        _bid(api, section_id, i, os.urandom(30))
    api.notary.chain.set_next_block_time(deadline)
    api.post(f"/v1/tender/sections/{section_id}/seal", headers=api.owner)
    timeline = api.get("/v1/timeline", params={"project": "SDGP-2026-0042", "section": "S3"}).json()
    refusals = [e for e in timeline["events"] if e["type"] == "bid.sealed.rejected"]
    assert len(refusals) == 1 and "registered key" in refusals[0]["public"]["reason"]


def test_fewer_than_three_bids_fail_at_the_seal(api):
    section_id, deadline = _open(api, "S4")
    for i in range(2):
        _bid(api, section_id, i, os.urandom(30))
    api.notary.chain.set_next_block_time(deadline)
    sealed = api.post(f"/v1/tender/sections/{section_id}/seal", headers=api.owner).json()
    assert (sealed["state"], sealed["box_size"]) == ("failed", 2)
    view = api.get(f"/v1/tender/sections/{section_id}").json()
    assert view["fail_reason"] == "fewer_than_min_bidders"
    r = api.get(f"/v1/tender/sections/{section_id}/shares", params={"holder": api.supervisor[0].address})
    assert r.status_code == 200  # sealed: handed out, but nothing is opened in a failed section
    assert api.post(f"/v1/tender/sections/{section_id}/opening", headers=api.owner).json()["code"] == "wrong_state"


def test_shares_are_not_handed_out_before_the_seal(api):
    section_id, _ = _open(api, "S5")
    _bid(api, section_id, 0, b"offer")
    r = api.get(f"/v1/tender/sections/{section_id}/shares", params={"holder": api.supervisor[0].address})
    assert (r.status_code, r.json()["code"]) == (409, "not_yet")


def test_only_the_operator_keeps_the_registry_and_names_holders(api):
    """A trading system's writer key can neither touch a bidder's registration (rotate its key to
    bid in its name, or revoke it) nor name a key holder whose key it controls."""
    bidder_id, _ = api.bidders[0]
    mine, x = Account.create(), new_holder_key()
    for method, path, payload in (
            ("POST", f"/v1/tender/bidders/{bidder_id.hex()}/key", {"key": mine.address}),
            ("DELETE", f"/v1/tender/bidders/{bidder_id.hex()}", None),
            ("POST", "/v1/tender/bidders", {"bidder_id": "ab" * 32, "ca_cert_hash": "cd" * 32, "key": mine.address}),
            ("POST", "/v1/tender/holders", holder_registration(api.notary.tender.domain(), mine, x))):
        r = api.request(method, path, headers=api.owner, json=payload)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), path
    # a holder nobody named, or named with a key it did not sign for, cannot hold shares
    deadline = max(api.notary.chain.block_time(), int(time.time())) + 120
    r = api.post("/v1/tender/sections", headers=api.owner, json={
        "project": "SDGP-2026-0042", "section": "S9", "profile": "demo", "deadline": deadline,
        "holders": [mine.address], "threshold": 2})
    assert (r.status_code, r.json()["code"]) == (422, "rule_rejected") and "HolderWithoutKey" in r.text
    forged = {**holder_registration(api.notary.tender.domain(), mine, x),
              "x25519": public_bytes(new_holder_key()).hex()}
    r = api.post("/v1/tender/holders", headers=api.operator, json=forged)
    assert (r.status_code, r.json()["code"]) == (422, "rule_rejected"), r.text


def test_a_bid_in_another_cipher_is_refused(api):
    """One cipher per notary: shares are opened box-wide with it (an SM4 bid first in an AES box
    used to make every other bid's shares unreadable)."""
    section_id, _ = _open(api, "S10")
    view = api.get(f"/v1/tender/sections/{section_id}").json()
    assert view["cipher"] == "aes-128-gcm"
    bidder_id, key = api.bidders[0]
    _, body = bid_submission(view, b"offer", bidder_id, key, Observed(), "sm4-gcm")
    r = api.post(f"/v1/tender/sections/{section_id}/bids", headers=api.owner, json=body)
    assert (r.status_code, r.json()["code"], r.json()["details"]["field"]) == (422, "invalid_event", "cipher")


def test_a_bidder_opens_its_own_bid_and_anyone_fetches_the_ciphertext_after_the_seal(api):
    """不见面开标: with no holder released, a bidder opens its own bid with its file key (checked on
    chain against what it signed); a replayed bid is refused; ciphertexts are public after the seal."""
    section_id, deadline = _open(api, "S11")
    view = api.get(f"/v1/tender/sections/{section_id}").json()
    sealed = []
    for i in range(3):
        bidder_id, key = api.bidders[i]
        bid, body = bid_submission(view, b"%PDF-1.4 own offer " + os.urandom(20), bidder_id, key, Observed())
        assert api.post(f"/v1/tender/sections/{section_id}/bids", headers=api.owner, json=body).status_code == 201
        sealed.append((bid, body))
    again = api.post(f"/v1/tender/sections/{section_id}/bids", headers=api.owner, json=sealed[0][1])
    assert (again.status_code, again.json()["code"]) == (400, "bid_refused")  # a replay is not a change
    r = api.get(f"/v1/tender/sections/{section_id}/box/0/ciphertext")
    assert (r.status_code, r.json()["code"]) == (409, "not_yet")
    api.notary.chain.set_next_block_time(deadline)
    assert api.post(f"/v1/tender/sections/{section_id}/seal", headers=api.owner).json()["state"] == "sealed"
    entries = api.get(f"/v1/tender/sections/{section_id}/box").json()["entries"]
    for index, entry in enumerate(entries):
        blob = api.get(f"/v1/tender/sections/{section_id}/box/{index}/ciphertext").content
        assert hashlib.sha256(blob).hexdigest() == entry["cipher_hash"]
    mine = next(i for i, e in enumerate(entries) if e["pseudonym"] == sealed[1][0].pseudonym.hex())
    wrong = api.post(f"/v1/tender/sections/{section_id}/bids/{mine}/opening", json={"file_key": "00" * 16})
    assert (wrong.status_code, wrong.json()["code"]) == (422, "invalid_event")
    r = api.post(f"/v1/tender/sections/{section_id}/bids/{mine}/opening",
                 json={"file_key": sealed[1][0].file_key.hex()})
    assert r.status_code == 200 and r.json()["state"] == "valid", r.text


def test_a_relayed_bid_tells_the_relay_nothing_of_the_bidder(api):
    """Who bids and the collusion signals travel sealed to the notary's key: the request a trading
    system relays (or a bidder sends itself, with no key) names no bidder (招标投标法 Art. 22)."""
    section_id, _ = _open(api, "S12")
    view = api.get(f"/v1/tender/sections/{section_id}").json()
    bidder_id, key = api.bidders[2]
    bid, body = bid_submission(view, b"%PDF-1.4 offer by author Zhang", bidder_id, key, Observed(device="pc-77"))
    text = json.dumps(body).lower()
    for secret in (bidder_id.hex(), bid.pseudonym_salt.hex(), bid.signature.hex(), "pc-77", key.address.lower()[2:]):
        assert secret not in text
    r = api.post(f"/v1/tender/sections/{section_id}/bids", json=body)  # the bidder itself, no key
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"receipt", "entry"}  # no keyed signals back: they would link entries
    garbled = {**body, "sealed_identity": body["sealed_identity"][:-8] + "AAAAAAA="}
    r = api.post(f"/v1/tender/sections/{section_id}/bids", json=garbled)
    assert (r.status_code, r.json()["details"]["field"]) == (422, "sealed_identity")
