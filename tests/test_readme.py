"""The README works as written: the notary started by `./scripts/run` as the README says, then every
``sh`` and ``python`` block of the README run in order, in one shell session (what a block exports,
the next one sees, as in a terminal), in an empty directory. A block added to the README is run too;
only the set-up block (it starts the notary the others use, and runs this suite) is not."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import httpx
import pytest

from lianzheng.chain_node.anvil import free_port
from tests.helpers import ROOT

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SET_UP = "./scripts/run     # creates .venv"  # the first block: started below, and the suite itself


def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of every fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer((ROOT / "README.md").read_text(encoding="utf-8"))]


def run_block(language: str, text: str, cwd, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict]:
    """Run one block in the session; returns its outcome and the session's environment after it."""
    dump = cwd / ".session-env"
    if language == "sh":
        # -e and pipefail: a block whose command fails fails here, even where the README left set -e out
        args = ["bash", "-e", "-o", "pipefail", "-c", f'trap \'env -0 > "{dump}"\' EXIT\n' + text]
    else:
        args = [str(ROOT / ".venv" / "bin" / "python"), "-c", text]
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=600)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever the block left behind
        except ProcessLookupError:
            pass
    after = dict(env)
    if language == "sh" and dump.exists():
        after = dict(item.split("=", 1) for item in dump.read_text().split("\0") if "=" in item)
        dump.unlink()
    return subprocess.CompletedProcess(args, process.returncode, out, err), after


@pytest.mark.anvil
def test_the_readme_runs_as_written(tmp_path):
    blocks = readme_blocks()
    assert blocks[0][1].startswith(SET_UP)
    runnable = [(lang, text) for lang, text in blocks[1:] if lang in ("sh", "python")]
    assert [lang for lang, _ in blocks[1:] if lang not in ("sh", "python", "text", "")] == [], "an unknown block kind"
    work = tmp_path / "work"
    work.mkdir()
    port = free_port()
    env = {**os.environ, "LIANZHENG_DATA_DIR": str(tmp_path / "data"),  # as the README says: one data dir for both
           "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}  # ". .venv/bin/activate"
    env.pop("LIANZHENG_URL", None)
    env.pop("LIANZHENG_KEY", None)
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen([str(ROOT / "scripts" / "run"), "--port", str(port), "--tender-profiles",
                                   "engineering,government_procurement,demo"], cwd=work, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    outputs: list[str] = []
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                httpx.get(url + "/healthz", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "./scripts/run did not start the notary"
                time.sleep(0.3)
        env["LIANZHENG_URL"] = url
        for language, text in runnable:
            done, env = run_block(language, text, work, env)
            assert done.returncode == 0, f"README block failed:\n{text}\n--- stdout\n{done.stdout[-3000:]}" \
                                         f"\n--- stderr\n{done.stderr[-3000:]}"
            outputs.append(done.stdout)
    finally:
        if (work / "alliance" / "deployment.json").exists():  # a failed block left the local alliance up
            subprocess.run([str(ROOT / ".venv" / "bin" / "lianzheng"), "chain", "down", "--dir", "alliance"],
                           cwd=work, env=env, capture_output=True, timeout=120, check=False)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    using, python_out, witness = outputs[0], outputs[1], outputs[2]
    assert "anchored: event" in using and "verified: region 370000, index 0" in using, using
    assert python_out.startswith("verified: region 370000"), python_out
    assert "verified certificate: project P-2026-001 section S1" in witness and "file unchanged" in witness
    assert "<title>" in (work / "section.html").read_text() and (work / "verifier.html").stat().st_size > 10_000
    tender = next(out for out in outputs if "sealed box" in out)
    draw = next(out for out in outputs if "registry of 21 experts" in out)
    _tender_walkthrough(tender)
    _draw_walkthrough(draw)
    alliance = next(out for out in outputs if "verified via alliance" in out)
    assert "is the notary of 370200" in alliance and "verified: region 370200, index 0" in alliance, alliance
    assert "verified via alliance: region 620000" in alliance and "accepted on chain 3700" in alliance, alliance
    assert "stopped 8 processes" in alliance  # two chains, four notaries, two relayers


def _tender_walkthrough(out: str) -> None:
    status = out[out.index('"state": "bidding"') - 400:]  # the tender walkthrough's outcomes
    assert '"bids"' not in status.split("}\n")[0] and '"box_size"' not in status.split("}\n")[0]
    assert '"box_size": 3' in out and '"valid_bids": 3' in out
    assert "in the sealed box: entry 0 of 3" in out
    assert "3 valid of 3 bids" in out and "3 bids sealed" in out  # the audit, from the chain alone


def _draw_walkthrough(out: str) -> None:
    assert "registry of 21 experts of province 37" in out and "snapshot 37#1" in out
    assert "stratum 0 (A010101, main 37): 10 eligible, 2 avoided" in out  # X01 works for a bidder, X02 tied
    assert "stratum 1 (B020202, main 37): 4 eligible, 0 avoided" in out
    assert "stratum 2 (A010101, remote 3702): 4 eligible, 1 avoided" in out  # X03 unavailable
    assert out.count("drawn: stratum") == 3 and "verified: the on-chain draw matches" in out
    status = out[out.index("drawn: round 1"):out.index("ok  ")]
    assert "专家" not in status and not re.search(r"\b[ABQX]\d\d\b", status)  # positions, never names
    named = [line for line in out.splitlines() if line.startswith("stratum ") and " position " in line]
    assert len(named) == 5 and not any(e in " ".join(named) for e in ("X01", "X02", "X03"))
