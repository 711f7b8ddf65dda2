"""``lianzheng serve`` takes each setting from its option, else its LIANZHENG_* variable, else
the one default in ``notary.settings``: an option left out never overrides the environment."""
from __future__ import annotations

import os
import subprocess
import time

import httpx

from lianzheng.chain_node.anvil import free_port
from tests.helpers import LIANZHENG, ROOT


def _serve(tmp_path, env: dict[str, str], *args: str) -> dict:
    port = free_port()
    process = subprocess.Popen([*LIANZHENG, "serve", *args], cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONPATH": str(ROOT), "LIANZHENG_PORT": str(port), **env})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, "the server exited"
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")
    finally:
        process.terminate()
        process.wait(30)


def test_environment_settings_stand_when_no_option_is_given(tmp_path):
    env = {"LIANZHENG_DATA_DIR": str(tmp_path / "from-env"), "LIANZHENG_REGION": "620400",
           "LIANZHENG_HASH": "sm3", "LIANZHENG_ANCHOR_EVERY": "7"}
    health = _serve(tmp_path, env)
    assert (health["region"], health["hash"]) == ("620400", "sm3")
    assert (tmp_path / "from-env" / "notary.db").is_file() and not (tmp_path / "data").exists()


def test_an_option_given_beats_the_environment(tmp_path):
    env = {"LIANZHENG_DATA_DIR": str(tmp_path / "from-env"), "LIANZHENG_REGION": "620400"}
    health = _serve(tmp_path, env, "--region", "150700", "--data-dir", str(tmp_path / "from-option"))
    assert health["region"] == "150700"
    assert (tmp_path / "from-option" / "notary.db").is_file() and not (tmp_path / "from-env").exists()
