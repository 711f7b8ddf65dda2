"""Attacks on the verifier: a receipt relabelled to another event, a registry that is not one,
input that names no field. Each is refused, in the SDK and the CLI, with one line."""
from __future__ import annotations

import copy
import json

import httpx
import pytest

from lianzheng.sdk.errors import EventMismatchError, MalformedError
from lianzheng.sdk.receipt import parse_receipt
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import cli, make_event


@pytest.fixture
def anchored(notary):
    notary.log.submit([make_event(i) for i in range(4)], "ts")
    notary.worker.anchor_once()
    return notary, notary.log.receipt("evt-2")


def test_a_receipt_relabelled_to_another_event_id_fails(anchored):
    notary, receipt = anchored
    verifier = Verifier(RegistryReader(notary.chain.rpc, notary.registry.address))
    assert verifier.verify(receipt).index == 2
    for fake in ("evt-1", "contract-2026-001", "anything"):
        data = copy.deepcopy(receipt.model_dump(mode="json"))
        data["event_id"] = fake
        with pytest.raises(EventMismatchError, match=f"receipt names event '{fake}'"):
            verifier.verify(parse_receipt(data))
        with pytest.raises(EventMismatchError, match="receipt names event"):
            verifier.verify(parse_receipt(data).public())


@pytest.mark.parametrize("change, field", [
    (lambda d: d.pop("status"), "status"),
    (lambda d: d.update(index=-1), "index"),
    (lambda d: d["anchor"].update(tx_hash="0x12"), "anchor.tx_hash"),
    (lambda d: d["log"].update(hash="md5"), "log.hash"),
])
def test_schema_errors_name_the_field(anchored, change, field):
    _, receipt = anchored
    data = copy.deepcopy(receipt.model_dump(mode="json"))
    change(data)
    with pytest.raises(MalformedError, match=f": {field}: ") as info:
        parse_receipt(data)
    assert info.value.evidence["field"] == field


def test_cli_against_a_contract_that_is_no_registry_says_so_in_one_line(tmp_path):
    from lianzheng.sdk.client import NotaryClient
    from tests.helpers import NotaryServer

    data = tmp_path / "data"
    key = cli("keys", "add", "--name", "ts", "--data-dir", str(data), check=True).stdout.strip()
    server = NotaryServer(data, "--anchor-interval", "0.2").start()
    try:
        with NotaryClient(server.url, key) as client:
            client.notarize(make_event(1))
            receipt = client.wait_anchored("evt-1", timeout=20)
        path = tmp_path / "r.json"
        path.write_text(receipt.to_json())
        tender = httpx.get(server.url + "/healthz").json()["chain"]["tender_rules"]
        event = tmp_path / "event.json"
        event.write_text(json.dumps(make_event(1)))
        other = tmp_path / "other-registry.json"  # the receipt itself names another contract
        other.write_text(json.dumps({**json.loads(receipt.to_json()),
                                     "anchor": {**receipt.anchor.model_dump(), "registry": tender}}))
        for receipt_file, args in ((path, ["--registry", tender]), (path, ["--registry", "0x" + "00" * 19 + "01"]),
                                   (other, [])):
            r = cli("verify", "--receipt", str(receipt_file), "--event", str(event), "--rpc", server.rpc, *args)
            assert r.returncode == 1, r.stderr
            assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
            assert r.stderr.startswith("FAILED ("), r.stderr
        relabelled = json.loads(path.read_text())
        relabelled["event_id"] = "evt-999"
        path.write_text(json.dumps(relabelled))
        r = cli("verify", "--receipt", str(path), "--event", str(event), "--rpc", server.rpc)
        assert r.returncode == 1 and "FAILED (event_mismatch): receipt names event 'evt-999'" in r.stderr
    finally:
        server.stop()
