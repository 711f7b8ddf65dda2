"""Attacks on the notary API by writers and anonymous callers, each reproduced and refused.

Who could cheat, and how it is refused:
- writer B replays writer A's public form under A's id with a guessed payload: 409 whatever
  the guess, the same answer, and never A's receipt (a price was recovered by guessing);
- a writer plants a rule outcome (a collusion flag) in someone's section: 403 reserved_type;
- a writer sends what the notary would silently change (2**64 rounded, NFD text hashing
  differently from NFC, an id no URL can fetch): 422 naming the field;
- an anonymous caller rotates X-Forwarded-For to get fresh rate budgets: the header is believed
  only from a configured proxy;
- a revoked key keeps writing: it stops within the key cache's 2 s.
"""
from __future__ import annotations

import time
import unicodedata

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from lianzheng.notary.api.app import create_app
from lianzheng.notary.api.clients import client_address, parse_networks
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.services.ratelimit import RateLimited, RateLimiter
from lianzheng.notary.settings import Settings
from lianzheng.sdk.event_types import RULES_ENGINE
from tests.helpers import cli, make_event


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("abuse") / "data", anchor_interval=0.2)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        store = client.app.state.notary.store
        client.a = {"Authorization": f"Bearer {create_key(store, 'writer-a')}"}
        client.b = {"Authorization": f"Bearer {create_key(store, 'writer-b')}"}
        client.reader = {"Authorization": f"Bearer {create_key(store, 'supervisor', 'reader')}"}
        client.rules = {"Authorization": f"Bearer {create_key(store, 'tender-engine', 'rules')}"}
        client.data_dir = settings.data_dir
        yield client


def _bid(price: int) -> dict:
    return make_event(1, id="bid-a-1", actor="writer-a", payload={"price": price}, documents=[])


def test_another_writer_replaying_an_id_learns_nothing(api):
    owner = api.post("/v1/events", json=_bid(3907), headers=api.a)
    assert owner.status_code == 201
    public = api.get("/v1/receipts/bid-a-1").json()["event"]
    assert "payload" not in public and "salt" not in public
    answers = []
    for guess in (3906, 3907, 3908):  # 3907 is right: today that answer was 200 with A's salt
        r = api.post("/v1/events", json=_bid(guess), headers=api.b)
        answers.append((r.status_code, r.json()["code"], r.json()["message"]))
        assert "salt" not in r.text and "3907" not in r.text
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][:2] == (409, "id_conflict")
    # the owner's own retry still gets its receipt, in full
    again = api.post("/v1/events", json=_bid(3907), headers=api.a)
    assert again.status_code == 200 and again.json()["event"]["payload"] == {"price": 3907}


def test_a_key_reads_in_full_only_what_it_wrote(api):
    api.post("/v1/events", json=make_event(2, id="bid-a-2", payload={"price": 77}), headers=api.a)
    as_b = api.get("/v1/receipts/bid-a-2", headers=api.b).json()["event"]
    as_rules = api.get("/v1/receipts/bid-a-2", headers=api.rules).json()["event"]
    as_reader = api.get("/v1/receipts/bid-a-2", headers=api.reader).json()["event"]
    assert "payload" not in as_b and "payload" not in as_rules
    assert as_reader["payload"] == {"price": 77}


@pytest.mark.parametrize("event_type", ["tender.flag.duplicate_bid_file", "tender.section_failed",
                                        "experts.drawn", "bid.opened", "bid.sealed.rejected"])
def test_rule_types_are_the_rules_engines_alone(api, event_type):
    planted = make_event(3, id=f"planted-{event_type.replace('.', '-')}", type=event_type,
                         public={"firstBidder": "aa" * 32, "secondBidder": "bb" * 32})
    r = api.post("/v1/events", json=planted, headers=api.a)
    assert (r.status_code, r.json()["code"]) == (403, "reserved_type")
    assert api.get(f"/v1/receipts/{planted['id']}").status_code == 404
    assert api.post("/v1/events", json=planted, headers=api.rules).status_code == 201


def test_trading_system_types_stay_open(api):
    for i, kind in enumerate(("tender.announced", "bid.submitted", "archive.filed")):
        assert api.post("/v1/events", json=make_event(10 + i, type=kind), headers=api.a).status_code == 201


def test_nobody_can_take_the_rules_engines_name(api):
    with pytest.raises(Exception, match="rules engine"):
        create_key(api.app.state.notary.store, RULES_ENGINE)


NFD = unicodedata.normalize("NFD", "投标人 Café")


@pytest.mark.parametrize("change, field", [
    ({"payload": {"price": 2**64}}, "payload.price"),
    ({"payload": {"price": 2**53}}, "payload.price"),
    ({"public": {"n": -(2**53)}}, "public.n"),
    ({"payload": {"deep": [1, {"x": 1e300}]}}, "payload.deep[1].x"),
    ({"actor": NFD}, "actor"),
    ({"payload": {NFD: 1}}, "payload"),
    ({"public": {"name": NFD}}, "public.name"),
    ({"id": "x/abc"}, "id"),
    ({"id": "a:b"}, "id"),
    ({"project": "P/1"}, "project"),
    ({"section": "S 1"}, "section"),
    ({"actor": None}, "actor"),
])
def test_input_the_notary_would_change_is_refused(api, change, field):
    event = {**make_event(20), **change}
    event = {k: v for k, v in event.items() if v is not None}
    r = api.post("/v1/events", json=event, headers=api.a)
    body = r.json()
    assert (r.status_code, body["code"]) == (422, "invalid_event"), body
    assert body["details"]["field"] == field, body
    assert field.split(".")[0].split("[")[0] in body["message"]


def test_exact_numbers_and_nfc_text_are_kept_as_sent(api):
    event = make_event(21, id="exact", payload={"max": 2**53 - 1, "min": -(2**53 - 1), "f": 0.1},
                       actor=unicodedata.normalize("NFC", "投标人 Café"))
    r = api.post("/v1/events", json=event, headers=api.a)
    assert r.status_code == 201
    assert r.json()["event"]["payload"] == {"max": 2**53 - 1, "min": -(2**53 - 1), "f": 0.1}
    assert r.json()["event"]["actor"] == event["actor"]


def test_long_or_odd_asset_names_are_404_not_500(api):
    for name in ("a" * 300 + ".js", "..%2F..%2Fetc.js", "app.js%00.css", "APP.JS", "x.py"):
        r = api.get(f"/web/{name}")
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), name


def test_security_headers_on_page_and_api(api):
    for path in ("/", "/v1/config", "/web/app.js", "/healthz"):
        r = api.get(path)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        # the witness chooses the JSON-RPC node: any http(s) origin must stay reachable
        assert "connect-src 'self' http: https:" in csp


def test_forwarded_for_from_a_stranger_buys_no_fresh_budget(api):
    answers = [api.get("/v1/certificates/no-such-section",
                       headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"}).status_code for i in range(12)]
    assert answers[:10] == [404] * 10 and answers[10:] == [429, 429]  # a burst of 10, whatever the header says
    r = api.get("/v1/certificates/no-such-section", headers={"X-Forwarded-For": "10.9.9.9"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert r.headers["retry-after"] == "1"  # 2 per second: the next one within a second


def _request(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


def test_client_address_believes_only_configured_proxies():
    proxies = parse_networks(["10.0.0.0/8", "127.0.0.1"])
    assert client_address(_request("203.0.113.5", "1.2.3.4"), proxies) == "203.0.113.5"
    assert client_address(_request("127.0.0.1", "1.2.3.4"), ()) == "127.0.0.1"
    assert client_address(_request("127.0.0.1", "1.2.3.4"), proxies) == "1.2.3.4"
    # a client cannot pick its address by prepending one: the right-most untrusted hop counts
    assert client_address(_request("10.1.1.1", "6.6.6.6, 1.2.3.4, 10.2.2.2"), proxies) == "1.2.3.4"
    assert client_address(_request("10.1.1.1", "junk"), proxies) == "10.1.1.1"
    with pytest.raises(ValueError, match="nope"):
        parse_networks(["nope"])


def test_the_limiter_forgets_idle_callers():
    limiter = RateLimiter(1000.0, burst=2)  # a bucket refills in 2 ms
    for i in range(5000):
        limiter.take(f"10.0.{i // 256}.{i % 256}")
    time.sleep(0.01)
    limiter.take("last")
    assert len(limiter) == 1
    flood = RateLimiter(0.001, burst=1, max_callers=1000)  # never refills within the test
    for i in range(10_000):
        flood.take(f"caller-{i}")
    assert len(flood) <= 1000


def test_each_worker_process_holds_a_share_of_every_limit(tmp_path):
    """serve --workers N: a caller whose connections land on all N workers stays within the limit."""
    from lianzheng.notary.api.limits import ClientLimits

    settings = Settings(data_dir=tmp_path, workers=4, read_rate=10.0, rpc_in_flight=8)
    workers = [ClientLimits.from_settings(settings) for _ in range(4)]
    assert (workers[0].reads.rate, workers[0].reads.burst, workers[0].rpc_in_flight.limit) == (2.5, 5.0, 2)
    admitted = 0
    for _ in range(10):  # 40 reads, spread over the four workers
        for limits in workers:
            try:
                limits.reads.take("reads from 6.6.6.6")
                admitted += 1
            except RateLimited:
                pass
    assert admitted == 20  # one burst of the 10 reads/s limit (2 x 10), not one per worker (4 x 20)
    assert RateLimiter.share(2.0, burst=1, workers=4).burst == 1  # never below one request
    assert Settings(data_dir=tmp_path).workers == 1 and ClientLimits.from_settings(
        Settings(data_dir=tmp_path, read_rate=10.0)).reads.burst == 20


def test_keys_list_and_revoke(api):
    data = str(api.data_dir)
    listed = cli("keys", "list", "--data-dir", data, check=True).stdout
    assert "writer-a\twriter" in listed and "supervisor\treader" in listed and "lzk_" not in listed
    secret = cli("keys", "add", "--name", "short-lived", "--data-dir", data, check=True).stdout.strip()
    headers = {"Authorization": f"Bearer {secret}"}
    assert api.post("/v1/events", json=make_event(30), headers=headers).status_code == 201
    assert cli("keys", "revoke", "short-lived", "--data-dir", data, check=True).returncode == 0
    assert "short-lived\twriter\t" in cli("keys", "list", "--data-dir", data).stdout.split("revoked")[0]
    time.sleep(2.1)  # the key cache's lifetime
    r = api.post("/v1/events", json=make_event(31), headers=headers)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    missing = cli("keys", "revoke", "nobody", "--data-dir", data)
    assert missing.returncode == 1 and "no key named 'nobody'" in missing.stderr and "Traceback" not in missing.stderr
