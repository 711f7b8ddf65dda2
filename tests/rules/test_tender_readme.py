"""The README's tender walkthrough, run as written against a served notary (embedded default)."""
from __future__ import annotations

import os
import re
import subprocess

from tests.helpers import ROOT, NotaryServer


def readme_block(after: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(after)
    match = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert match, f"no sh block after {after!r}"
    return match.group(1)


def test_the_readme_tender_walkthrough_runs_as_written(tmp_path):
    block = readme_block("A whole tender on the embedded default")
    data = tmp_path / "data"
    server = NotaryServer(data, "--tender-profiles", "engineering,government_procurement,demo",
                          "--anchor-interval", "0.3").start()
    try:
        env = {**os.environ, "LIANZHENG_URL": server.url, "LIANZHENG_DATA_DIR": str(data),
               "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
        done = subprocess.run(["bash", "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        out = done.stdout
        status = out[out.index('"state": "bidding"') - 400:]
        assert '"bids"' not in status.split("}\n")[0] and '"box_size"' not in status.split("}\n")[0]
        assert '"box_size": 3' in out and '"valid_bids": 3' in out
        assert "in the sealed box: entry 0 of 3" in out
        assert "3 valid of 3 bids" in out and "3 bids sealed" in out  # the audit, read from the chain alone
    finally:
        server.stop()
