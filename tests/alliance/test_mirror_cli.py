"""`lianzheng mirror` draws its progress on stderr only when stderr is a terminal: its stdout is
one result line that scripts read, whether the bar shows or not."""
from __future__ import annotations

import os
import pty
import re
import sqlite3
import subprocess

import pytest

from lianzheng.notary.local import LIANZHENG, NotaryServer
from lianzheng.sdk.client import NotaryClient
from tests.helpers import cli, make_event

RESULT = re.compile(r"verified 300 entries \(root [0-9a-f]{64}\); copied 300 from tiles in [0-9.]+ s \([0-9,]+/s\)\n")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mirror-cli")
    server = NotaryServer(tmp / "src", "--anchor-interval", "0.2").start()
    try:
        key = cli("keys", "add", "--name", "w", "--data-dir", str(tmp / "src"), check=True).stdout.strip()
        with NotaryClient(server.url, key) as client:
            receipts = client.notarize_batch([make_event(i) for i in range(300)])
            client.wait_anchored(receipts[-1].event_id, timeout=30)
        yield server, tmp
    finally:
        server.stop()


@pytest.mark.slow
def test_captured_output_is_the_result_line_and_nothing_else(source):
    server, tmp = source
    done = cli("mirror", "--source", server.url, "--rpc", server.url + "/chain/rpc", "--data-dir", str(tmp / "m1"))
    assert done.returncode == 0, done.stderr
    assert RESULT.fullmatch(done.stdout), done.stdout
    assert done.stderr == ""


@pytest.mark.slow
def test_on_a_terminal_the_bar_goes_to_stderr_and_stdout_stays_clean(source):
    server, tmp = source
    leader, follower = pty.openpty()
    try:
        done = subprocess.run([*LIANZHENG, "mirror", "--source", server.url, "--rpc", server.url + "/chain/rpc",
                               "--data-dir", str(tmp / "m2")], stdout=subprocess.PIPE, stderr=follower,
                              env={**os.environ, "COLUMNS": "100"}, timeout=120, check=False, text=True)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other side closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0, shown
    assert RESULT.fullmatch(done.stdout), done.stdout
    assert b"verifying entries" in shown


@pytest.mark.slow
def test_via_json_copies_over_the_json_api_and_a_wrong_via_is_one_line(source):
    server, tmp = source
    base = ["mirror", "--source", server.url, "--rpc", server.url + "/chain/rpc"]
    done = cli(*base, "--data-dir", str(tmp / "m3"), "--via", "json")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"verified 300 entries \(root [0-9a-f]{64}\); copied 300 over the JSON API in .*\n",
                        done.stdout), done.stdout
    db = sqlite3.connect(tmp / "m3" / "mirror.db")
    assert db.execute("SELECT count(*) FROM entries WHERE event_id IS NOT NULL").fetchone() == (300,)
    wrong = cli(*base, "--data-dir", str(tmp / "m4"), "--via", "ftp")
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr == "error: --via must be one of tiles, json, not 'ftp'\n"
