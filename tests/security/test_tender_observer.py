"""An observer who reads every public surface learns nothing about a section's bids before its deadline.

招标投标法 Art. 22: the tenderer must not disclose the names or number of potential bidders. The
observer here has no key. It reads, before and after six bids came in (but before the deadline):
the section's public view, its sealed box and shares (refused until the seal), the section's
timeline, the log's checkpoint, entries and health, the documents index under each bid file's
hash, and the embedded chain through ``/chain/rpc`` (block height, the latest block, every log of
every contract). All of it must be byte-for-byte the same, and nothing may name a bidder, its
credit code or its pseudonym.

What an observer does learn (by design, and written in the README): that the section exists, its
deadline and profile, its key holders and threshold; and the region's bidder registry (who may bid
in the region, under hashed credit codes), which is not who bid in this section. What the writer
key of the owning trading system learns is not this test's subject: it relays the sealed bids
(not their content).
"""
from __future__ import annotations

import hashlib
import json
import time

import httpx
from eth_account import Account

from lianzheng.rules.tender.client import bid_submission, holder_registration
from lianzheng.rules.tender.crypto import new_holder_key
from lianzheng.rules.tender.sealing import Observed, bidder_id_of
from lianzheng.rules.tender.sections import tender_domain
from tests.helpers import NotaryServer, cli

PROJECT, SECTION = "SDGP-2026-0099", "S7"


def _rpc(url: str, method: str, *params) -> object:
    r = httpx.post(f"{url}/chain/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    assert r.status_code == 200, r.text
    return r.json().get("result", r.json().get("error"))


def _surfaces(url: str, section_id: str, documents: list[str], holder: str) -> dict[str, object]:
    """Everything a keyless observer can read about the section, the log and the chain."""
    get = lambda path, **params: (lambda r: (r.status_code, r.text))(httpx.get(url + path, params=params))  # noqa: E731
    health = httpx.get(url + "/healthz").json()
    seen = {
        "section": get(f"/v1/tender/sections/{section_id}"),
        "box": get(f"/v1/tender/sections/{section_id}/box"),
        "shares": get(f"/v1/tender/sections/{section_id}/shares", holder=holder),
        "timeline": get("/v1/timeline", project=PROJECT, section=SECTION),
        "project timeline": get("/v1/timeline", project=PROJECT),
        "checkpoint": get("/v1/checkpoint"),
        "entries": get("/v1/entries", start=0, end=health["tree_size"]),
        "health": health,
        "profiles": get("/v1/tender/profiles"),
        "documents": [get(f"/v1/documents/{d}") for d in documents],
        "block number": _rpc(url, "eth_blockNumber"),
        "latest block": _rpc(url, "eth_getBlockByNumber", "latest", False),
        "chain logs": _rpc(url, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"}),
    }
    return json.loads(json.dumps(seen))


def _settled(url: str) -> None:
    """Wait until everything logged so far is anchored (the anchor worker's transactions are not bids)."""
    for _ in range(200):
        h = httpx.get(url + "/healthz").json()
        if h["anchored_size"] == h["tree_size"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"not anchored: {h}")


def test_six_bids_before_the_deadline_change_nothing_an_observer_can_read(tmp_path):
    data = tmp_path / "data"
    server = NotaryServer(data, "--tender-profiles", "engineering,government_procurement,demo",
                          "--anchor-interval", "0.2").start()
    try:
        key = cli("keys", "add", "--name", "centre-system", "--data-dir", str(data), check=True).stdout.strip()
        writer = {"Authorization": f"Bearer {key}"}
        operator_key = cli("keys", "add", "--name", "registry-office", "--role", "operator", "--data-dir", str(data),
                           check=True).stdout.strip()
        operator = {"Authorization": f"Bearer {operator_key}"}
        supervisor, supervisor_x = Account.create(), new_holder_key()
        health = httpx.get(f"{server.url}/healthz").json()
        domain = tender_domain(health["chain"]["chain_id"], health["chain"]["tender_rules"])
        r = httpx.post(f"{server.url}/v1/tender/holders", headers=operator,
                       json=holder_registration(domain, supervisor, supervisor_x), timeout=30)
        assert r.status_code == 201, r.text
        codes = [f"91370000MA3C5H8X{i:02d}" for i in range(6)]
        bidders = [(bidder_id_of(code), Account.create()) for code in codes]
        for i, (bidder_id, bidder_key) in enumerate(bidders):
            r = httpx.post(f"{server.url}/v1/tender/bidders", headers=operator, json={
                "bidder_id": bidder_id.hex(), "ca_cert_hash": hashlib.sha256(b"CA %d" % i).hexdigest(),
                "key": bidder_key.address})
            assert r.status_code == 201, r.text
        r = httpx.post(f"{server.url}/v1/tender/sections", headers=writer, json={
            "project": PROJECT, "section": SECTION, "profile": "demo", "deadline": int(time.time()) + 3600,
            "holders": [supervisor.address],
            "threshold": 2}, timeout=30)
        assert r.status_code == 201, r.text
        section_id = r.json()["section_id"]
        view = httpx.get(f"{server.url}/v1/tender/sections/{section_id}").json()
        files = [b"%PDF-1.4 offer of " + code.encode() for code in codes]
        documents = [hashlib.sha256(f).hexdigest() for f in files]
        _settled(server.url)

        before = _surfaces(server.url, section_id, documents, supervisor.address)
        pseudonyms = []
        for (bidder_id, bidder_key), clear in zip(bidders, files):
            bid, body = bid_submission(view, clear, bidder_id, bidder_key, Observed(device="pc"))
            r = httpx.post(f"{server.url}/v1/tender/sections/{section_id}/bids", headers=writer, json=body, timeout=30)
            assert r.status_code == 201, r.text
            pseudonyms.append(bid.pseudonym.hex())
        time.sleep(0.5)  # an anchoring round, had anything been logged
        _settled(server.url)
        after = _surfaces(server.url, section_id, documents, supervisor.address)

        for surface in before:
            assert after[surface] == before[surface], f"{surface} changed with the bids"
        assert before["box"][0] == before["shares"][0] == 409  # refused, the same way, whatever the box holds
        # The region's bidder registry is public (who may bid in the region, not who bid here);
        # nothing about the section names a bidder, and the per-section pseudonyms appear nowhere.
        everything = json.dumps(after).lower()
        about_section = json.dumps([after[s] for s in ("section", "box", "timeline", "project timeline")]).lower()
        for code, (bidder_id, bidder_key), pseudonym in zip(codes, bidders, pseudonyms):
            assert code.lower() not in everything and pseudonym not in everything
            assert bidder_id.hex() not in about_section and bidder_key.address.lower()[2:] not in about_section
    finally:
        server.stop()
