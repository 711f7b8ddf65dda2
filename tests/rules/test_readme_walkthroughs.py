"""The README's tender and expert-draw walkthroughs, run as written, one after the other, against one served
notary (the tender's closed section is the draw's)."""
from __future__ import annotations

import os
import re
import subprocess

from tests.helpers import ROOT, NotaryServer


def readme_block(after: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(after)
    match = re.search(r"```sh\n(.*?)```", text[start:], re.DOTALL)
    assert match, f"no sh block after {after!r}"
    return match.group(1)


def test_the_readme_tender_and_expert_draw_run_as_written(tmp_path):
    tender = readme_block("A whole tender on the embedded default")
    draw = readme_block("A draw on the embedded default")
    data = tmp_path / "data"
    server = NotaryServer(data, "--tender-profiles", "engineering,government_procurement,demo",
                          "--anchor-interval", "0.3").start()
    try:
        env = {**os.environ, "LIANZHENG_URL": server.url, "LIANZHENG_DATA_DIR": str(data),
               "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
        outputs = []
        for block in (tender, draw):
            done = subprocess.run(["bash", "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            outputs.append(done.stdout)
        tender_out, out = outputs
        status = tender_out[tender_out.index('"state": "bidding"') - 400:]  # the tender walkthrough's outcomes
        assert '"bids"' not in status.split("}\n")[0] and '"box_size"' not in status.split("}\n")[0]
        assert '"box_size": 3' in tender_out and '"valid_bids": 3' in tender_out
        assert "in the sealed box: entry 0 of 3" in tender_out
        assert "3 valid of 3 bids" in tender_out and "3 bids sealed" in tender_out  # the audit, from the chain alone
        assert "registry of 21 experts of province 37" in out and "snapshot 37#1" in out
        assert "stratum 0 (A010101, main 37): 10 eligible, 2 avoided" in out  # X01 works for a bidder, X02 tied
        assert "stratum 1 (B020202, main 37): 4 eligible, 0 avoided" in out
        assert "stratum 2 (A010101, remote 3702): 4 eligible, 1 avoided" in out  # X03 unavailable
        assert out.count("drawn: stratum") == 3 and "verified: the on-chain draw matches" in out
        status = out[out.index("drawn: round 1"):out.index("ok  ")]
        assert "专家" not in status and not re.search(r"\b[ABQX]\d\d\b", status)  # positions, never names
        named = [line for line in out.splitlines() if line.startswith("stratum ") and " position " in line]
        assert len(named) == 5 and not any(e in " ".join(named) for e in ("X01", "X02", "X03"))
    finally:
        server.stop()
