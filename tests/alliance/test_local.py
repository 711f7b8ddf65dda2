"""`lianzheng chain up` starts a three-province alliance on this machine, relayers included, which
bring a Jinan receipt to Gansu's chain by themselves; `chain down` stops everything. Without
anvil, `chain up` installs the locked node packages with npm, or names npm when it is missing."""
from __future__ import annotations

import json
import os
import time

import pytest

from lianzheng.alliance.local import _alive
from lianzheng.chain_node import anvil
from lianzheng.chain_node.errors import ChainUnavailable
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
        deadline = time.monotonic() + 30  # relayers pass every second; each verify costs a CLI start
        while (ok := cli(*verify)).returncode != 0 and time.monotonic() < deadline:
            time.sleep(1)
        assert ok.returncode == 0 and "verified via alliance: region 370100" in ok.stdout, ok.stdout + ok.stderr
        relayed = (directory / "gansu" / "relay.log").read_text()
        assert "shandong/370100" in relayed and "refused" not in relayed
    finally:
        down = cli("chain", "down", "--dir", str(directory))
    assert down.returncode == 0 and down.stdout.startswith("stopped 12 processes")
    pids = [n["pid"] for p in deployment["provinces"].values() for n in p["notaries"]]
    pids += [p[k] for p in deployment["provinces"].values() for k in ("anvil_pid", "relayer_pid")]
    assert not any(_alive(pid) for pid in pids)
    assert not (directory / "deployment.json").exists()


def _no_anvil(monkeypatch, tmp_path, path: str) -> None:
    (tmp_path / "package-lock.json").write_text("{}")
    monkeypatch.setattr(anvil, "PROJECT", tmp_path)
    monkeypatch.setenv("PATH", path)


def test_without_anvil_and_npm_the_error_names_npm(monkeypatch, tmp_path):
    _no_anvil(monkeypatch, tmp_path, str(tmp_path / "empty"))
    with pytest.raises(ChainUnavailable, match=r"install npm \(apt-get install npm\)"):
        anvil.ensure_anvil()


def test_without_anvil_npm_ci_installs_the_locked_packages(monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"  # a stand-in for npm that installs what `npm ci` would and notes its arguments
    npm.write_text("#!/bin/sh\nPATH=/usr/bin:/bin\necho \"$PWD $*\" > calls\n"
                   "mkdir -p $(dirname \"$ANVIL\") && touch \"$ANVIL\"\n")
    npm.chmod(0o755)
    _no_anvil(monkeypatch, tmp_path, str(bin_dir))
    target = str(anvil.installed_anvil())
    monkeypatch.setenv("ANVIL", target)
    told = []
    assert str(anvil.ensure_anvil(told.append)) == target
    assert (tmp_path / "calls").read_text().split() == [str(tmp_path), "ci", "--no-audit", "--no-fund"]
    assert told == [f"npm ci in {tmp_path}"]
