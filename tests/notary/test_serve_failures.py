"""A notary that cannot start says why in one line and what to do, never a traceback; the CLI's
keys go to the server's data dir or fail naming the directory they looked in."""
from __future__ import annotations

import os
import socket
import subprocess

import pytest

from lianzheng.chain_node.anvil import free_port
from tests.helpers import LIANZHENG, ROOT, NotaryServer, cli


def _serve_fails(tmp_path, *args: str) -> str:
    done = subprocess.run([*LIANZHENG, "serve", "--port", str(free_port()), *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1, done.stderr
    said = done.stderr.strip().splitlines()
    assert len(said) == 1 and said[0].startswith("error: ") and "Traceback" not in done.stderr, done.stderr
    return said[0]


def test_a_key_file_others_can_read_is_refused_in_one_line(tmp_path):
    key = tmp_path / "chain.key"
    key.write_text("0x" + "11" * 32 + "\n")
    key.chmod(0o644)
    said = _serve_fails(tmp_path, "--data-dir", str(tmp_path / "d"), "--rpc", "http://127.0.0.1:9",
                        "--chain-key-file", str(key))
    assert "mode 644" in said and "chmod 600" in said


def test_an_unreachable_chain_or_database_and_a_taken_port_are_one_line_each(tmp_path):
    said = _serve_fails(tmp_path, "--data-dir", str(tmp_path / "a"), "--rpc", "http://127.0.0.1:9")
    assert "http://127.0.0.1:9" in said and "did not answer" in said
    said = _serve_fails(tmp_path, "--data-dir", str(tmp_path / "b"),
                        "--database-url", "postgresql+psycopg://notary:s3cret@127.0.0.1:9/lz")
    assert "check --database-url" in said and "s3cret" not in said  # never the password
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([*LIANZHENG, "serve", "--port", str(port), "--data-dir", str(tmp_path / "c")],
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1 and done.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): another notary there? choose --port")
    assert not (tmp_path / "c").exists()  # nothing was made for a server that never ran
    for args, said in ((["--database-url", "notaurl"], "error: --database-url: not a database URL"),
                       (["--registry", "0x123"], "error: --registry: '0x123' is not a 20-byte hex address"),
                       (["--host", "999.1.1.1"], "error: --host 999.1.1.1 is not an address of this machine")):
        done = subprocess.run([*LIANZHENG, "serve", "--data-dir", str(tmp_path / "e"), *args], capture_output=True,
                              text=True, timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 2 and done.stderr.strip().startswith(said), done.stderr


@pytest.mark.anvil
def test_an_unfunded_account_and_an_unbound_city_say_what_to_do(anvil_node, tmp_path):
    key = tmp_path / "city.key"
    address = cli("chain", "new-key", "--out", str(key), check=True).stdout.strip()
    assert (key.stat().st_mode & 0o777) == 0o600
    said = _serve_fails(tmp_path, "--data-dir", str(tmp_path / "d"), "--rpc", anvil_node.url, "--region", "370200",
                        "--registry", "0x" + "00" * 19 + "01", "--chain-key-file", str(key))
    assert f"lianzheng chain fund --rpc URL --account {address}" in said
    funded = cli("chain", "fund", "--rpc", anvil_node.url, "--account", address, "--ether", "5", check=True)
    assert funded.stdout.strip() == f"{address} holds 5 ether on chain {anvil_node.chain().chain_id}"
    said = _serve_fails(tmp_path, "--data-dir", str(tmp_path / "d"), "--rpc", anvil_node.url, "--region", "370200",
                        "--registry", "0x" + "00" * 19 + "01", "--chain-key-file", str(key))
    assert "no contract at registry address" in said
    again = cli("chain", "new-key", "--out", str(key))
    assert again.returncode == 2 and "never overwritten" in again.stderr


def test_keys_go_to_the_servers_data_dir_or_fail_naming_where_they_looked(tmp_path):
    elsewhere = subprocess.run([*LIANZHENG, "keys", "add", "--name", "x"], cwd=tmp_path, capture_output=True,
                               text=True, timeout=60, check=False, env={k: v for k, v in os.environ.items()
                                                           if k != "LIANZHENG_DATA_DIR"})
    assert elsewhere.returncode == 2 and str(tmp_path / "data") in elsewhere.stderr
    assert "LIANZHENG_DATA_DIR" in elsewhere.stderr and not (tmp_path / "data").exists()
    (tmp_path / "a-file").write_text("")
    for args, said in ((["--data-dir", "a-file"], "error: cannot use a-file as a data dir"),
                       (["--database-url", "notaurl"], "error: --database-url: not a database URL"),
                       (["--database-url", "postgresql+psycopg://u@127.0.0.1:9/db?password=s3cret"],
                        "error (unavailable): database postgresql+psycopg://u@127.0.0.1:9/db unavailable")):
        bad = subprocess.run([*LIANZHENG, "keys", "add", "--name", "x", *args], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60, check=False)
        assert bad.returncode in (1, 2) and bad.stderr.startswith(said) and len(bad.stderr.splitlines()) == 1, bad
        assert "s3cret" not in bad.stderr
    server = NotaryServer(tmp_path / "served").start()
    try:
        env = {**os.environ, "LIANZHENG_DATA_DIR": str(tmp_path / "served")}
        key = subprocess.run([*LIANZHENG, "keys", "add", "--name", "x"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=60, env=env, check=True).stdout.strip()
        (tmp_path / "doc.txt").write_text("a document")
        wrong = subprocess.run([*LIANZHENG, "notarize", str(tmp_path / "doc.txt"), "--url", server.url,
                                "--key", "lzk_" + "0" * 40], cwd=tmp_path, capture_output=True, text=True,
                               timeout=60, env=env, check=False)
        not_dev = cli("chain", "fund", "--rpc", server.url + "/chain/rpc", "--account", "0x" + "11" * 20)
        right = subprocess.run([*LIANZHENG, "notarize", str(tmp_path / "doc.txt"), "--url", server.url, "--key", key,
                                "--no-wait"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env, check=False)
    finally:
        server.stop()
    assert right.returncode == 0, right.stderr
    assert not_dev.returncode == 1 and "not a development node" in not_dev.stderr  # a real chain is never funded
    assert wrong.returncode != 0 and "LIANZHENG_DATA_DIR" in wrong.stderr  # the 403 says where keys live
