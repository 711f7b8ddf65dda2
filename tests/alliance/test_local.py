"""`lianzheng chain up` starts a three-province alliance on this machine; relayers bring a Jinan
receipt to Gansu's chain; `chain down` stops everything."""
from __future__ import annotations

import json
import os

import pytest

from lianzheng.alliance.local import _alive
from lianzheng.sdk.client import NotaryClient
from tests.helpers import cli, make_event


@pytest.mark.anvil
@pytest.mark.slow
def test_chain_up_relay_verify_down(tmp_path):
    directory = tmp_path / "alliance"
    up = cli("chain", "up", "--provinces", "shandong,gansu,neimenggu", "--cities", "1", "--dir", str(directory),
             timeout=300)
    deployment = json.loads((directory / "deployment.json").read_text()) if up.returncode == 0 else None
    try:
        assert up.returncode == 0, up.stderr
        assert os.stat(directory / "deployment.json").st_mode & 0o777 == 0o600
        provinces = deployment["provinces"]
        assert [n["region"] for n in provinces["shandong"]["notaries"]] == [370000, 370100]
        assert len({p["chain_id"] for p in provinces.values()}) == 3 and deployment["threshold"] == 2
        again = cli("chain", "up", "--provinces", "shandong,gansu", "--dir", str(directory))
        assert again.returncode == 2 and "chain down" in again.stderr

        jinan = provinces["shandong"]["notaries"][1]
        event = make_event(7, region="370100")
        with NotaryClient(jinan["url"], jinan["api_key"]) as client:
            receipt = client.wait_anchored(client.notarize(event).event_id, timeout=30)
        (tmp_path / "r.json").write_text(receipt.model_dump_json())
        (tmp_path / "e.json").write_text(json.dumps(event))
        gansu = provinces["gansu"]
        verify = ["verify", "--receipt", str(tmp_path / "r.json"), "--event", str(tmp_path / "e.json"),
                  "--rpc", gansu["rpc"], "--via-alliance", gansu["relay"]]
        assert cli(*verify).returncode == 1  # not relayed yet
        for member in ("gansu", "neimenggu"):
            relayed = cli("relay", "--deployment", str(directory), "--member", member, "--once")
            assert relayed.returncode == 0, relayed.stderr
            assert "shandong/370100" in relayed.stdout
        ok = cli(*verify)
        assert ok.returncode == 0 and "verified via alliance: region 370100" in ok.stdout, ok.stderr
    finally:
        down = cli("chain", "down", "--dir", str(directory))
    assert down.returncode == 0 and down.stdout.startswith("stopped 9 processes")
    pids = [n["pid"] for p in deployment["provinces"].values() for n in p["notaries"]]
    pids += [p["anvil_pid"] for p in deployment["provinces"].values()]
    assert not any(_alive(pid) for pid in pids)
    assert not (directory / "deployment.json").exists()
