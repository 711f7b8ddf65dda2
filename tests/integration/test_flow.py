"""The whole flow with real processes: server, CLI and SDK, on each chain and database.

embedded chain + SQLite, anvil + SQLite, embedded + PostgreSQL, anvil + PostgreSQL.
"""
from __future__ import annotations

import json
import os

import pytest

from lianzheng.chain_node.anvil import funded_key_file
from lianzheng.sdk.client import NotaryClient, NotaryClientError
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier
from tests.helpers import NotaryServer, cli, make_event


@pytest.fixture
def deployment(request, tmp_path):
    """(server args, data dir, database args, rpc for verifiers) for one backend combination."""
    chain_kind, db_kind = request.param
    data = tmp_path / "data"
    db_args: list[str] = []
    if db_kind == "postgres":
        db_args = ["--database-url", request.getfixturevalue("postgres").create_database(
            f"flow_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**8}")]
    args = ["--anchor-interval", "0.3", *db_args]
    if chain_kind == "anvil":
        anvil = request.getfixturevalue("anvil_node")
        args += ["--rpc", anvil.url, "--chain-key-file", str(funded_key_file(anvil.url, tmp_path / "k" / "chain.key"))]
    return {"args": args, "data": data, "db_args": db_args, "anvil": chain_kind == "anvil",
            "rpc": request.getfixturevalue("anvil_node").url if chain_kind == "anvil" else None}


COMBOS = [
    pytest.param(("embedded", "sqlite"), id="embedded-sqlite"),
    pytest.param(("anvil", "sqlite"), id="anvil-sqlite", marks=pytest.mark.anvil),
    pytest.param(("embedded", "postgres"), id="embedded-postgres", marks=pytest.mark.postgres),
    pytest.param(("anvil", "postgres"), id="anvil-postgres", marks=[pytest.mark.anvil, pytest.mark.postgres]),
]


@pytest.mark.parametrize("deployment", COMBOS, indirect=True)
def test_notarize_and_verify_end_to_end(deployment, tmp_path):
    key = cli("keys", "add", "--name", "trading-system", "--data-dir", str(deployment["data"]),
              *deployment["db_args"], check=True).stdout.strip()
    assert key.startswith("lzk_")
    server = NotaryServer(deployment["data"], *deployment["args"]).start()
    try:
        rpc = deployment["rpc"] or server.rpc
        with NotaryClient(server.url, key) as client:
            receipts = client.notarize_batch([make_event(i) for i in range(40)], batch_size=15)
            assert [r.event_id for r in receipts] == [f"evt-{i}" for i in range(40)]
            assert all(r.status == "pending" for r in receipts)
            anchored = [client.wait_anchored(r.event_id, timeout=20) for r in receipts[::13]]
            with pytest.raises(NotaryClientError) as refused:
                client.notarize(make_event(1, actor="someone-else"))
            assert refused.value.status == 409
        verifier = Verifier(RegistryReader(rpc, anchored[0].anchor.registry))
        for r in anchored:
            assert verifier.verify(r, event=make_event(int(r.event_id[4:]))).index == r.index

        document = tmp_path / "招标文件.pdf"
        document.write_bytes(os.urandom(5000))
        out = cli("notarize", str(document), "--url", server.url, "--key", key, "--project", "SDGP-2026-0042",
                  check=True)
        assert out.stdout.startswith("anchored: event ")
        receipt_file = tmp_path / "招标文件.pdf.receipt.json"
        ok = cli("verify", "--receipt", str(receipt_file), "--file", str(document), "--rpc", rpc)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.startswith("verified: region 370000, index 40 of ")
        pinned = cli("verify", "--receipt", str(receipt_file), "--file", str(document), "--rpc", rpc,
                     "--registry", anchored[0].anchor.registry)
        assert pinned.returncode == 0
        changed = tmp_path / "changed.pdf"
        changed.write_bytes(document.read_bytes()[:-1] + bytes([document.read_bytes()[-1] ^ 1]))
        bad = cli("verify", "--receipt", str(receipt_file), "--file", str(changed), "--rpc", rpc)
        assert bad.returncode == 1 and bad.stderr.startswith("FAILED (event_mismatch)")

        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(make_event(77), ensure_ascii=False))
        cli("notarize", "--event", str(event_file), "--url", server.url, "--key", key, check=True)
        event_receipt = tmp_path / "event.json.receipt.json"
        assert cli("verify", "--receipt", str(event_receipt), "--event", str(event_file), "--rpc", rpc).returncode == 0
        event_file.write_text(json.dumps(make_event(77, payload={"round": 2}), ensure_ascii=False))
        bad = cli("verify", "--receipt", str(event_receipt), "--event", str(event_file), "--rpc", rpc)
        assert bad.returncode == 1 and "payload" in bad.stderr

        usage = cli("verify", "--receipt", str(event_receipt), "--rpc", rpc)
        assert usage.returncode == 2 and "exactly one of --file or --event" in usage.stderr
        missing = cli("verify", "--receipt", str(tmp_path / "nope.json"), "--file", str(document), "--rpc", rpc)
        assert missing.returncode == 2 and "cannot read" in missing.stderr
        no_key = cli("notarize", str(document), "--url", server.url, "--key", "lzk_wrong")
        assert no_key.returncode == 1 and "forbidden" in no_key.stderr
    finally:
        server.stop()
