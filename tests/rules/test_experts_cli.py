"""`lianzheng experts ...` against a real anvil node: a centre and a supervisor draw, anyone verifies."""
from __future__ import annotations

import json
import stat

import pytest
from eth_account import Account

from lianzheng.chain_node.anvil import ANVIL_DEV_KEY, AnvilNode
from lianzheng.chain_node.rpc import RpcChain
from lianzheng.rules.experts.draw import ExpertDraw
from tests.helpers import cli, write_key_file
from tests.rules.experts_data import TENDERER, random_roster


@pytest.mark.anvil
def test_draw_from_the_command_line_and_verify(tmp_path):
    with AnvilNode() as node:
        chain = RpcChain(node.url)
        dev = Account.from_key(ANVIL_DEV_KEY)
        admin, centre, supervisor = (Account.create() for _ in range(3))
        for a in (admin, centre, supervisor):
            chain.transfer(dev, a.address, 10**20)
        contract = ExpertDraw.deploy(chain, admin).address
        keys = {name: str(write_key_file(tmp_path / f"{name}.key", a))
                for name, a in (("admin", admin), ("centre", centre), ("supervisor", supervisor))}
        common = ["--rpc", node.url, "--contract", contract]
        for role, who in (("centre", centre), ("supervisor", supervisor)):
            cli("experts", "grant", *common, "--key-file", keys["admin"], "--role", role, "--region", "370100",
                "--account", who.address, check=True)
        refused = cli("experts", "grant", *common, "--key-file", keys["centre"], "--role", "centre",
                      "--region", "370100", "--account", centre.address)
        assert refused.returncode == 1 and "AccessControlUnauthorizedAccount" in refused.stderr

        (tmp_path / "roster.json").write_text(random_roster(300, seed=12).model_dump_json())
        (tmp_path / "request.json").write_text(json.dumps({
            "region": "370100", "project": "SDGP-2026-0042", "section": "S1", "speciality": "A010101",
            "tenderer": TENDERER, "bidders": ["91370100MA3C120001"], "as_of": "2026-11-23", "k": 7}))
        pool_file = tmp_path / "pool.json"
        built = cli("experts", "pool", "--roster", str(tmp_path / "roster.json"),
                    "--request", str(tmp_path / "request.json"), "--out", str(pool_file), check=True)
        assert "eligible experts" in built.stdout and stat.S_IMODE(pool_file.stat().st_mode) == 0o600
        created = cli("experts", "draw", *common, "--key-file", keys["centre"], "--pool-file", str(pool_file),
                      "--party", centre.address, "--party", supervisor.address, check=True)
        draw_id = created.stdout.strip()
        secrets = {name: tmp_path / f"{name}.secret" for name in ("centre", "supervisor")}
        cli("experts", "commit", *common, "--key-file", keys["centre"], "--draw", draw_id,
            "--secret-file", str(secrets["centre"]), check=True)
        early = cli("experts", "reveal", *common, "--key-file", keys["centre"], "--draw", draw_id,
                    "--secret-file", str(secrets["centre"]))
        assert early.returncode == 1 and "ExpertDrawNotAllCommitted" in early.stderr
        cli("experts", "commit", *common, "--key-file", keys["supervisor"], "--draw", draw_id,
            "--secret-file", str(secrets["supervisor"]), check=True)
        for name in ("centre", "supervisor"):
            last = cli("experts", "reveal", *common, "--key-file", keys[name], "--draw", draw_id,
                       "--secret-file", str(secrets[name]), check=True)
        assert last.stdout.startswith("drawn: positions [")

        ok = cli("experts", "verify", *common, "--draw", draw_id, "--pool-file", str(pool_file))
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.count("\n#") + ok.stdout.startswith("#") == 7 and "verified" in ok.stdout
        status = cli("experts", "status", *common, "--draw", draw_id, check=True)
        assert status.stdout.startswith("drawn: round 1") and "专家" not in status.stdout  # no names on chain

        reveal_file = tmp_path / "expert0.json"
        cli("experts", "reveal-expert", *common, "--key-file", keys["centre"], "--draw", draw_id,
            "--pool-file", str(pool_file), "--ordinal", "0", "--out", str(reveal_file), check=True)
        checked = cli("experts", "check-expert", *common, str(reveal_file), check=True)
        assert checked.stdout.startswith("verified: E")
        shown = json.loads(reveal_file.read_text())
        shown["expert"]["name"] = "someone else"
        reveal_file.write_text(json.dumps(shown))
        assert cli("experts", "check-expert", *common, str(reveal_file)).returncode == 1

        cli("experts", "replace", *common, "--key-file", keys["centre"], "--draw", draw_id, "--ordinal", "2",
            "--reason", "refused", check=True)
        assert "(replaced)" in cli("experts", "verify", *common, "--draw", draw_id, "--pool-file", str(pool_file),
                                   check=True).stdout

        # a pool file changed after the commitment: one expert's name differs
        tampered = json.loads(pool_file.read_text())
        tampered["roster"]["experts"][5]["name"] += "X"
        (tmp_path / "tampered.json").write_text(json.dumps(tampered, ensure_ascii=False))
        bad = cli("experts", "verify", *common, "--draw", draw_id, "--pool-file", str(tmp_path / "tampered.json"))
        assert bad.returncode == 1 and "FAIL pool root" in bad.stdout and "FAILED" in bad.stderr

        for args, message in (
            (("verify", *common, "--draw", "0x12", "--pool-file", str(pool_file)), "--draw must be 32 bytes"),
            (("verify", *common, "--draw", draw_id, "--pool-file", str(tmp_path / "none.json")), "cannot read"),
            (("commit", *common, "--key-file", keys["centre"], "--draw", draw_id,
              "--secret-file", str(secrets["centre"])), "exists"),
            (("pool", "--roster", str(tmp_path / "request.json"), "--request", str(tmp_path / "request.json"),
              "--out", str(tmp_path / "x.json")), "experts"),
        ):
            result = cli("experts", *args)
            assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
