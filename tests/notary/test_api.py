"""The HTTP API in-process (real notary on the embedded chain): happy paths and every error path."""
from __future__ import annotations

import base64
import json
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from lianzheng.notary.api.app import create_app, serving_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.services.log import MAX_RANGE
from lianzheng.notary.settings import Settings
from lianzheng.sdk.client import NotaryClient, NotaryClientError
from lianzheng.sdk.merkle import SHA256, verify_consistency, verify_inclusion
from lianzheng.sdk.receipt import parse_receipt
from tests.helpers import make_event


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The app as `lianzheng serve` runs it: writes answered by the write lane."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("api") / "data", anchor_interval=0.2, max_batch=50,
                        max_body_bytes=64 * 1024)
    with TestClient(serving_app(settings), raise_server_exceptions=False) as client:
        client.key = create_key(client.app.state.notary.store, "trading-system")
        client.hdr = {"Authorization": f"Bearer {client.key}"}
        yield client


def _wait_anchored(api, event_id, timeout=10, headers=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/v1/receipts/{event_id}", headers=headers).json()
        if body["status"] == "anchored":
            return body
        time.sleep(0.05)
    raise AssertionError(f"{event_id} not anchored")


def test_single_event_gets_pending_receipt_then_anchored(api):
    r = api.post("/v1/events", json=make_event(1), headers=api.hdr)
    assert r.status_code == 201
    receipt = parse_receipt(r.json())
    assert receipt.status == "pending" and receipt.event["salt"] and receipt.event["id"] == "evt-1"
    anchored = parse_receipt(_wait_anchored(api, "evt-1", headers=api.hdr))
    assert (anchored.index, anchored.event, anchored.event_digest) == (receipt.index, receipt.event,
                                                                         receipt.event_digest)
    assert anchored.anchor.tree_size > anchored.index and anchored.proof.startswith("c2sp.org/tlog-proof@v1\n")


def test_a_write_leaves_nothing_for_the_cyclic_collector(api):
    """Each write's request, its waiter and its answer are freed as soon as the write is answered.
    A reference cycle per write (the completion callback held the waiter's future, whose result
    was the request) made the collector free ~40,000 objects at a time under load: 20–50 ms pauses
    in which no write was answered."""
    import gc

    from lianzheng.notary.services.log import Accepted, _Request

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what any collection finds unreachable stays in gc.garbage
    try:
        for i in range(20):
            assert api.post("/v1/events", json=make_event(700 + i), headers=api.hdr).status_code == 201
        changed = {**make_event(700), "actor": "someone else"}  # and a refused one: the same id, another event
        assert api.post("/v1/events", json=changed, headers=api.hdr).status_code == 409
        gc.collect()
        cyclic = [o for o in gc.garbage if isinstance(o, (_Request, Accepted))]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert cyclic == []


def test_payloads_are_sealed_unless_the_key_may_read_them(api):
    store = api.app.state.notary.store
    event = {**make_event(2), "public": {"notice": "announced"}}
    full = parse_receipt(api.post("/v1/events", json=event, headers=api.hdr).json())
    other = {"Authorization": f"Bearer {create_key(store, 'other-system')}"}
    reader = {"Authorization": f"Bearer {create_key(store, 'supervisor-1', 'reader')}"}
    anonymous, foreign, read = (parse_receipt(api.get("/v1/receipts/evt-2", headers=h).json())
                                for h in (None, other, reader))
    for public in (anonymous, foreign):
        text = public.to_json()
        assert "payload" not in public.event and "salt" not in public.event and full.event["salt"] not in text
        assert "bid-2.pdf" not in text and json.dumps(full.event["payload"])[1:-1] not in text
        assert public.event["public"] == {"notice": "announced"}
        assert public.event["documents"] == [{"sha256": full.event["documents"][0]["sha256"]}]
        assert public.event_digest == full.event_digest  # the same leaf: the public form is what is logged
    assert read.event == full.event
    assert api.get("/v1/receipts/evt-2", headers={"Authorization": "Bearer lzk_nope"}).status_code == 403
    refused = api.post("/v1/events", json=make_event(3), headers=reader)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


def test_batch_and_idempotent_retry(api):
    events = [make_event(i) for i in range(100, 110)]
    r = api.post("/v1/events", json={"events": events}, headers=api.hdr)
    assert r.status_code == 201
    first = r.json()["receipts"]
    assert [x["event_id"] for x in first] == [e["id"] for e in events]
    assert len({x["index"] for x in first}) == 10
    again = api.post("/v1/events", json={"events": events}, headers=api.hdr)
    assert again.status_code == 200
    for a, b in zip(first, again.json()["receipts"]):
        assert (a["index"], a["event"], a["event_digest"]) == (b["index"], b["event"], b["event_digest"])
    size = api.get("/healthz").json()["tree_size"]
    api.post("/v1/events", json=make_event(105), headers=api.hdr)
    assert api.get("/healthz").json()["tree_size"] == size


def test_same_id_different_event_is_409_and_nothing_is_logged(api):
    api.post("/v1/events", json=make_event(200), headers=api.hdr)
    size = api.get("/healthz").json()["tree_size"]
    r = api.post("/v1/events", json={"events": [make_event(201), make_event(200, actor="someone-else")]},
                 headers=api.hdr)
    assert r.status_code == 409 and r.json()["code"] == "id_conflict"
    assert api.get("/healthz").json()["tree_size"] == size
    assert api.get("/v1/receipts/evt-201").status_code == 404


def test_duplicate_id_inside_one_batch_is_logged_once(api):
    r = api.post("/v1/events", json={"events": [make_event(300), make_event(300)]}, headers=api.hdr)
    assert r.status_code == 201
    a, b = r.json()["receipts"]
    assert a["index"] == b["index"]


def test_events_without_id_get_one(api):
    event = make_event(400)
    del event["id"]
    r = api.post("/v1/events", json=event, headers=api.hdr)
    assert r.status_code == 201 and len(r.json()["event_id"]) == 32


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "unauthenticated"),
    ({"Authorization": "Bearer lzk_wrong"}, 403, "forbidden"),
    ({"Authorization": "Basic abc"}, 401, "unauthenticated"),
    ({"Authorization": "Bearer " + "x" * 500}, 403, "forbidden"),
    ({"X-API-Key": "nope"}, 403, "forbidden"),
])
def test_writers_must_authenticate(api, headers, status, code):
    r = api.post("/v1/events", json=make_event(500), headers=headers)
    assert (r.status_code, r.json()["code"]) == (status, code)


def test_x_api_key_header_also_works(api):
    r = api.post("/v1/events", json=make_event(501), headers={"X-API-Key": api.key})
    assert r.status_code == 201


BAD_EVENTS = {
    "missing-type": make_event(600, type=None),
    "bad-type": make_event(601, type="Bid Submitted"),
    "bad-region": make_event(602, region="37000"),
    "other-region": make_event(603, region="620400"),
    "bad-time": make_event(604, occurred_at="yesterday"),
    "time-without-offset": make_event(605, occurred_at="2026-11-23T09:30:00"),
    "bad-doc-hash": make_event(606, documents=[{"sha256": "xyz"}]),
    "upper-doc-hash": make_event(607, documents=[{"sha256": "A" * 64}]),
    "unknown-field": {**make_event(608), "price": 1},
    "salt-given": make_event(609, salt="00" * 32),
    "payload-not-object": make_event(610, payload=[1, 2]),
    "huge-integer": make_event(611, payload={"n": 2**60}),
    "bad-id": make_event(612, id="has space"),
    "long-id": make_event(613, id="x" * 200),
    "not-object": [1, 2, 3],
    "string": "event",
    "nested-deep": make_event(614, payload={"a": json.loads("[" * 200 + "]" * 200)}),
}


@pytest.mark.parametrize("name", sorted(BAD_EVENTS))
def test_malformed_events_are_422_with_a_code(api, name):
    body = {k: v for k, v in BAD_EVENTS[name].items() if v is not None} if isinstance(BAD_EVENTS[name], dict) \
        else BAD_EVENTS[name]
    r = api.post("/v1/events", json=body, headers=api.hdr)
    assert r.status_code == 422, r.text
    assert r.json()["code"] in {"invalid_event", "wrong_region"}
    assert r.json()["message"]


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "invalid_json"),
    (b"\xff\xfe", 400, "invalid_json"),
    (b'{"events": []}', 422, "invalid_event"),
    (b'{"events": {}}', 422, "invalid_event"),
    (b'{"events": [], "x": 1}', 422, "invalid_event"),
    (b'{"events": [1]}', 422, "invalid_event"),
    (b"null", 422, "invalid_event"),
    (b"", 400, "invalid_json"),
])
def test_malformed_bodies(api, body, status, code):
    r = api.post("/v1/events", content=body, headers={**api.hdr, "Content-Type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (status, code)


def test_limits_are_413(api):
    r = api.post("/v1/events", json={"events": [make_event(700 + i) for i in range(51)]}, headers=api.hdr)
    assert (r.status_code, r.json()["code"]) == (413, "batch_too_large")
    big = make_event(800, payload={"blob": "x" * 70_000})
    r = api.post("/v1/events", json=big, headers=api.hdr)
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")

    def chunks():
        for _ in range(100):
            yield b" " * 1024

    r = api.post("/v1/events", content=chunks(), headers={**api.hdr, "Content-Type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")


def test_payload_over_64k_is_422(tmp_path):
    settings = Settings(data_dir=tmp_path / "d")
    with TestClient(create_app(settings)) as client:
        key = create_key(client.app.state.notary.store, "w")
        r = client.post("/v1/events", json=make_event(1, payload={"blob": "x" * 70_000}),
                        headers={"Authorization": f"Bearer {key}"})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_event")


def test_proofs_entries_checkpoint_and_documents(api):
    api.post("/v1/events", json={"events": [make_event(i) for i in range(900, 905)]}, headers=api.hdr)
    _wait_anchored(api, "evt-904")
    cp = api.get("/v1/checkpoint").json()
    size, root = cp["size"], base64.b64decode(cp["root"])
    assert cp["note"].startswith(f"lianzheng.notary/370000\n{size}\n")
    entries = api.get("/v1/entries", params={"start": 0, "end": size}).json()["entries"]
    assert [e["index"] for e in entries] == list(range(size))
    target = next(e for e in entries if e["event_id"] == "evt-902")
    proof = api.get("/v1/proofs/inclusion", params={"event_id": "evt-902", "size": size}).json()
    leaf = SHA256.hash_leaf(bytes.fromhex(target["event_digest"]))
    verify_inclusion(SHA256, target["index"], size, leaf, [base64.b64decode(h) for h in proof["hashes"]], root)
    by_index = api.get("/v1/proofs/inclusion", params={"index": target["index"], "size": size}).json()
    assert by_index["hashes"] == proof["hashes"]
    api.post("/v1/events", json=make_event(906), headers=api.hdr)
    new_size = api.get("/healthz").json()["tree_size"]
    cons = api.get("/v1/proofs/consistency", params={"from": size, "to": new_size}).json()
    new_root = api.app.state.notary.log.tree.root(new_size)
    verify_consistency(SHA256, size, new_size, [base64.b64decode(h) for h in cons["hashes"]], root, new_root)
    docs = api.get(f"/v1/documents/{902:064x}").json()["events"]
    assert [d["event_id"] for d in docs] == ["evt-902"] and docs[0]["status"] == "anchored"
    assert "payload" not in docs[0] and "salt" not in docs[0]
    assert api.get(f"/v1/documents/{'ab' * 32}").json()["events"] == []


@pytest.mark.parametrize("path, status, code", [
    ("/v1/receipts/nope", 404, "not_found"),
    ("/v1/proofs/inclusion", 400, "bad_range"),
    ("/v1/proofs/inclusion?index=0&event_id=evt-1", 400, "bad_range"),
    ("/v1/proofs/inclusion?index=99999999", 400, "bad_range"),
    ("/v1/proofs/inclusion?index=-1", 422, "invalid_request"),
    ("/v1/proofs/inclusion?index=abc", 422, "invalid_request"),
    ("/v1/proofs/inclusion?index=0&size=999999999", 400, "bad_range"),
    ("/v1/proofs/inclusion?event_id=nope", 404, "not_found"),
    ("/v1/proofs/consistency", 422, "invalid_request"),
    ("/v1/proofs/consistency?from=5&to=2", 400, "bad_range"),
    ("/v1/proofs/consistency?from=99999999", 400, "bad_range"),
    ("/v1/proofs/consistency?from=0", 400, "bad_range"),
    ("/v1/entries?start=5&end=5", 400, "bad_range"),
    (f"/v1/entries?start=0&end={MAX_RANGE + 1}", 400, "bad_range"),
    ("/v1/entries?start=0", 422, "invalid_request"),
    ("/v1/documents/xyz", 422, "invalid_request"),
    ("/v1/documents/" + "a" * 65, 422, "invalid_request"),
    ("/no/such/path", 404, "not_found"),
])
def test_bad_reads_are_4xx_with_code(api, path, status, code):
    r = api.get(path)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_wrong_method_is_405(api):
    r = api.delete("/v1/events")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")


def test_chain_rpc_serves_reads_and_refuses_writes(api):
    ok = api.post("/chain/rpc", json={"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []}).json()
    assert ok["id"] == 7 and int(ok["result"], 16) == api.app.state.notary.chain.chain_id
    for method in ("eth_sendTransaction", "evm_mine", "eth_accounts", "eth_estimateGas"):
        refused = api.post("/chain/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": []}).json()
        assert refused["error"]["code"] == -32601
    batch = api.post("/chain/rpc", json=[{"jsonrpc": "2.0", "id": i, "method": "eth_blockNumber"} for i in range(3)])
    assert [x["id"] for x in batch.json()] == [0, 1, 2]
    assert api.post("/chain/rpc", json={"method": 5}).json()["error"]["code"] == -32600
    assert api.post("/chain/rpc", content=b"nonsense").json()["code"] == "invalid_json"


def _raw(api, account, to, data=b"", gas=100_000):
    chain = api.app.state.notary.chain
    tx = {"to": to, "data": data, "gas": gas, "gasPrice": chain.rpc.request("eth_gasPrice", []),
          "nonce": 0, "chainId": chain.chain_id, "value": 0}
    if to is None:
        del tx["to"]
    return "0x" + bytes(account.sign_transaction(tx).raw_transaction).hex()


def test_chain_rpc_relays_signed_transactions_to_the_expert_draw_only(api):
    """Parties of a draw act with their own keys through /chain/rpc; nothing else is written through it."""
    from eth_account import Account

    notary = api.app.state.notary
    party = Account.create()  # no gas money: the development chain gives it some

    def send(raw):
        return api.post("/chain/rpc", json={"jsonrpc": "2.0", "id": 3, "method": "eth_sendRawTransaction",
                                            "params": [raw]}).json()

    key_call = notary.experts.contract.tx("setPartyKey", b"\x11" * 32).data
    for raw, code in ((_raw(api, party, notary.registry.address, key_call), -32601),  # the anchoring contract
                      (_raw(api, party, notary.tender.address, key_call), -32601),
                      (_raw(api, party, None, b"\x60\x00"), -32602),                  # a contract creation
                      (_raw(api, party, notary.experts.address, key_call, gas=30_000_000), -32602),
                      ("0x1234", -32602), ("0xf801", -32602), ("0xf84c" + "80" * 76, -32602)):  # not RLP
        assert send(raw)["error"]["code"] == code
    assert send_empty(api)["error"]["code"] == -32602
    answer = send(_raw(api, party, notary.experts.address, key_call))
    assert answer["result"].startswith("0x")
    receipt = api.post("/chain/rpc", json={"jsonrpc": "2.0", "id": 4, "method": "eth_getTransactionReceipt",
                                           "params": [answer["result"]]}).json()["result"]
    assert int(receipt["status"], 16) == 1 and notary.experts.party_key(party.address) == b"\x11" * 32
    codes = [api.post("/chain/rpc", json={"jsonrpc": "2.0", "id": 6, "method": "eth_sendRawTransaction",
                                          "params": ["0x00"]}).status_code for _ in range(25)]
    assert 429 in codes  # 2 relayed transactions per second per client, bursts of 20


def test_only_the_operator_grants_draw_roles(api):
    from eth_account import Account

    notary = api.app.state.notary
    operator = {"Authorization": f"Bearer {create_key(notary.store, 'draw-office', 'operator')}"}
    who = Account.create().address
    body = {"role": "supervisor", "account": who, "region": 370000}
    assert api.post("/v1/experts/grants", json=body).status_code == 401
    assert api.post("/v1/experts/grants", json=body, headers=api.hdr).status_code == 403  # a writer key
    for bad in ({**body, "region": 37}, {**body, "role": "registrar"}, {**body, "role": "admin"},
                {**body, "account": "0x12"}):
        answer = api.post("/v1/experts/grants", json=bad, headers=operator)
        assert answer.status_code == 422, bad
    assert api.post("/v1/experts/grants", json=body, headers=operator).status_code == 201
    role = notary.experts.contract.read("supervisorRole", 370000)
    assert notary.experts.contract.read("hasRole", role, who)
    assert api.get("/v1/experts").json()["contract"] == notary.experts.address


def send_empty(api):
    return api.post("/chain/rpc", json={"jsonrpc": "2.0", "id": 5, "method": "eth_sendRawTransaction",
                                        "params": []}).json()


def test_openapi_publishes_the_event_schema(api):
    spec = api.get("/openapi.json").json()
    assert "Event" in spec["components"]["schemas"]
    assert {"/v1/events", "/v1/receipts/{event_id}", "/v1/checkpoint", "/v1/proofs/inclusion",
            "/v1/proofs/consistency", "/v1/entries", "/v1/documents/{sha256}", "/healthz"} <= set(spec["paths"])


class LoseFirstResponse(httpx.BaseTransport):
    """The request reaches the notary, but its answer is lost on the way back (a timeout)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.lost = inner, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and self.lost == 0:
            response.read()
            self.lost += 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


class BusyOnce(httpx.BaseTransport):
    """The first call is answered 503 by a proxy before it reaches the notary."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner, self.calls = inner, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.calls == 1:
            return httpx.Response(503, json={"code": "unavailable", "message": "busy"})
        return self.inner.handle_request(request)


def test_client_retry_after_lost_answer_logs_the_event_once(api):
    size = api.get("/healthz").json()["tree_size"]
    event = make_event(1000)
    del event["id"]  # the client assigns the idempotency key itself
    flaky = LoseFirstResponse(api._transport)
    with NotaryClient("http://testserver", api.key, transport=flaky) as client:
        receipt = client.notarize(event)
    assert flaky.lost == 1
    assert api.get("/healthz").json()["tree_size"] == size + 1
    assert api.get(f"/v1/receipts/{receipt.event_id}").json()["index"] == receipt.index


def test_client_retries_a_busy_notary_and_batches(api):
    events = [make_event(i) for i in range(1100, 1125)]
    busy = BusyOnce(api._transport)
    with NotaryClient("http://testserver", api.key, transport=busy) as client:
        receipts = client.notarize_batch(events, batch_size=10)
    assert busy.calls == 4  # one refused, three batches
    assert [r.event_id for r in receipts] == [e["id"] for e in events]
    assert len({r.index for r in receipts}) == 25


def test_client_reports_refusals_with_their_code(api):
    with NotaryClient("http://testserver", "lzk_nope", transport=api._transport) as client:
        with pytest.raises(NotaryClientError) as info:
            client.notarize(make_event(1200))
    assert (info.value.status, info.value.code) == (403, "forbidden")


def test_writers_over_their_rate_get_429_and_others_do_not(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", rate_limit=2)
    with TestClient(create_app(settings)) as client:
        store = client.app.state.notary.store
        busy = {"Authorization": f"Bearer {create_key(store, 'busy')}"}
        calm = {"Authorization": f"Bearer {create_key(store, 'calm')}"}
        codes = [client.post("/v1/events", json=make_event(i), headers=busy).status_code for i in range(8)]
        assert codes[:4] == [201] * 4 and 429 in codes
        limited = client.post("/v1/events", json=make_event(99), headers=busy)
        assert limited.json()["code"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1
        assert client.post("/v1/events", json=make_event(100), headers=calm).status_code == 201
        assert client.get("/v1/receipts/evt-0").status_code == 200  # reads are not limited


def test_timeline_and_certificate_refusals(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", anchor_interval=3600)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        notary = client.app.state.notary
        hdr = {"Authorization": f"Bearer {create_key(notary.store, 'ts')}"}
        for i, project in enumerate(("P-1", "P-2")):
            assert client.post("/v1/events", json={**make_event(i), "project": project}, headers=hdr).status_code == 201
        timeline = client.get("/v1/timeline", params={"project": "P-1", "section": "S1"}).json()
        assert [e["event_id"] for e in timeline["events"]] == ["evt-0"] and timeline["events"][0]["anchor"] is None
        assert "payload" not in timeline["events"][0] and "salt" not in json.dumps(timeline)
        assert client.get("/v1/timeline", params={"project": "P-9"}).json()["code"] == "not_found"
        assert client.get("/v1/timeline").json()["code"] == "invalid_request"
        ambiguous = client.get("/v1/certificates/S1")
        assert (ambiguous.status_code, ambiguous.json()["code"]) == (409, "ambiguous")
        assert ambiguous.json()["details"]["projects"] == ["P-1", "P-2"]
        pending = client.get("/v1/certificates/S1", params={"project": "P-1"})
        assert (pending.status_code, pending.json()["code"]) == (409, "not_anchored")
        notary.worker.anchor_once()
        pdf = client.get("/v1/certificates/S1", params={"project": "P-1"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        assert client.get("/v1/certificates/S9").status_code == 404
        codes = [client.get("/v1/certificates/S9").status_code for _ in range(20)]
        assert codes[0] == 404 and 429 in codes  # certificates are costly: limited per client address


def test_a_data_directory_of_the_first_event_format_is_refused(tmp_path):
    import sqlite3

    from lianzheng.notary.errors import StoreOutdated
    from lianzheng.notary.store import SqlStore

    db = tmp_path / "notary.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE entries (idx INTEGER PRIMARY KEY, event_id TEXT, digest BLOB, event_json TEXT)")
    with pytest.raises(StoreOutdated, match="before event format 2"):
        SqlStore(f"sqlite:///{db}")


def test_each_event_links_to_the_previous_event_of_its_section(api):
    """The notary chains a section's events (``prev``): leaving one out of a timeline, or splicing
    another section's in, breaks the chain a witness checks."""
    base = {"type": "tender.announced", "region": "370000", "project": "CHAIN-1",
            "occurred_at": "2026-11-23T09:30:00+08:00", "actor": "centre"}
    sent = [{**base, "id": f"chain-{i}", "section": section} for i, section in enumerate(["S1", "S2", "S1"])]
    sent.append({**base, "id": "chain-3"})  # the project's own events (no section) form their own chain
    body = api.post("/v1/events", json={"events": sent[:2]}, headers=api.hdr).json()  # one batch, two sections
    receipts = [parse_receipt(r) for r in body["receipts"]]
    for event in sent[2:]:
        receipts.append(parse_receipt(api.post("/v1/events", json=event, headers=api.hdr).json()))
    first, other, second, plain = receipts
    assert first.event["prev"] == other.event["prev"] == plain.event["prev"] == "0" * 64
    assert second.event["prev"] == first.event_digest  # S1's second event names S1's first, not S2's
    assert parse_receipt(api.get("/v1/receipts/chain-2").json()).event["prev"] == first.event_digest  # public form
    # a new log object (a restart) finds the section's head in the store
    notary = api.app.state.notary
    notary.log._heads.clear()
    third = parse_receipt(api.post("/v1/events", json={**base, "id": "chain-4", "section": "S1"},
                                   headers=api.hdr).json())
    assert third.event["prev"] == second.event_digest
    # a retry of a logged event is the same event (the link is the notary's, like the salt)
    again = api.post("/v1/events", json=sent[0], headers=api.hdr)
    assert again.status_code in (200, 201) and parse_receipt(again.json()).event_digest == first.event_digest


def test_no_trading_system_may_brand_a_step_refused_by_a_rule(api):
    r = api.post("/v1/events", json={**make_event(991), "type": "bid.submitted.rejected",
                                     "public": {"reason": "BidDeadlinePassed()"}}, headers=api.hdr)
    assert r.status_code == 403 and r.json()["code"] == "reserved_type"


def test_a_sender_cannot_choose_the_link(api):
    r = api.post("/v1/events", json={**make_event(990), "prev": "ab" * 32}, headers=api.hdr)
    assert r.status_code == 422 and r.json()["details"]["field"] == "prev"


def test_other_sites_may_read_but_never_write_with_a_key(api):
    """CORS: a witness's own copy of the page (file://, another host) reads the public API and the chain
    RPC; no site's script gets an Authorization header through a preflight."""
    read = api.get("/v1/checkpoint", headers={"Origin": "null"})
    assert read.headers["access-control-allow-origin"] == "*"
    rpc = api.options("/chain/rpc", headers={"Origin": "https://witness.example",
                                             "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "content-type"})
    assert rpc.status_code == 200 and "POST" in rpc.headers["access-control-allow-methods"]
    write = api.options("/v1/events", headers={"Origin": "https://evil.example",
                                               "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "authorization,content-type"})
    assert (write.status_code == 400
            and "authorization" not in write.headers.get("access-control-allow-headers", "").lower())
