"""Slither over contracts/src, compiled by the pinned npm solc (contracts/solc-npm.js), offline.

Every High or Medium finding must be fixed or listed in contracts/slither-triage.json with its
detector, location and the reason it is accepted; an entry that matches nothing is stale and
fails too. Slither lives in its own virtualenv (.venv-slither, made by scripts/test from the pin
in pyproject.toml [tool.lianzheng]): slither-analyzer requires web3 < 8, which the project
itself does not use.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRIAGE = ROOT / "contracts" / "slither-triage.json"
ADAPTER = ROOT / "contracts" / "solc-npm.js"
GATING = ("High", "Medium")
NO_NETWORK = "http://127.0.0.1:9"  # a proxy that answers nothing: any download attempt fails

pytestmark = pytest.mark.slow


def _slither() -> str:
    for candidate in (os.environ.get("LIANZHENG_SLITHER"), str(ROOT / ".venv-slither" / "bin" / "slither"),
                      shutil.which("slither")):
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.skip("slither is not installed: ./scripts/test installs it into .venv-slither")


def location(finding: dict) -> str:
    """``file:Contract.function(args)`` (or ``.variable``) of a finding's first element: stable
    across edits that move lines."""
    element = finding["elements"][0]
    names = []
    node: dict | None = element
    while node:
        fields = node.get("type_specific_fields", {})
        if node.get("type") != "node":
            names.insert(0, fields.get("signature") or node["name"])
        node = fields.get("parent")
    return f"{element['source_mapping']['filename_relative']}:{'.'.join(names)}"


@pytest.fixture(scope="module")
def findings(tmp_path_factory) -> list[dict]:
    home = tmp_path_factory.mktemp("home")
    env = {**os.environ, "HOME": str(home), "HTTP_PROXY": NO_NETWORK, "HTTPS_PROXY": NO_NETWORK,
           "ALL_PROXY": NO_NETWORK, "http_proxy": NO_NETWORK, "https_proxy": NO_NETWORK, "NO_PROXY": ""}
    env.pop("SOLC_VERSION", None)
    out = home / "slither.json"
    run = subprocess.run(
        [_slither(), "contracts/src", "--solc-standard-json", "--solc", str(ADAPTER),
         "--solc-remaps", "@openzeppelin/=node_modules/@openzeppelin/", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if not out.is_file():
        raise AssertionError(f"slither did not run (exit {run.returncode}): {run.stderr[-3000:]}")
    report = json.loads(out.read_text())
    assert report["success"], report.get("error")
    downloaded = ([p for p in (home / ".solc-select").rglob("*") if p.is_file()]
                  if (home / ".solc-select").exists() else [])
    assert not downloaded, f"crytic-compile fetched a compiler: {downloaded}"
    return report["results"].get("detectors", [])


def test_no_untriaged_high_or_medium_finding(findings):
    accepted = {(e["detector"], e["location"]) for e in json.loads(TRIAGE.read_text())["accepted"]}
    gating = [f for f in findings if f["impact"] in GATING]
    untriaged = [f for f in gating if (f["check"], location(f)) not in accepted]
    assert not untriaged, "fix, or triage in contracts/slither-triage.json:\n" + "\n".join(
        f"[{f['impact']}] {f['check']} at {location(f)}: {f['description'].strip()}" for f in untriaged)
    stale = accepted - {(f["check"], location(f)) for f in gating}
    assert not stale, f"triage entries that match no finding (remove them): {sorted(stale)}"


def test_triage_entries_say_why():
    for entry in json.loads(TRIAGE.read_text())["accepted"]:
        assert set(entry) == {"detector", "location", "reason"} and len(entry["reason"]) > 20, entry
