"""`lianzheng experts ...` against a real anvil node: registrar, centre, three parties (one withholds), anyone verifies.

The commands run in process (Typer's runner: exit codes and stdout/stderr as a shell sees them; the
README walkthrough test runs the installed command in subprocesses)."""
from __future__ import annotations

import json
import stat

import pytest

from lianzheng.chain_node.anvil import AnvilNode
from lianzheng.rules.experts.escrow import party_key
from tests.helpers import write_key_file
from tests.rules.experts_chain import Party, make_world
from tests.rules.experts_data import random_roster


def cli(*args: str, check: bool = False):
    from types import SimpleNamespace

    from typer.testing import CliRunner

    from lianzheng.cli import app

    result = CliRunner().invoke(app, list(args), env={"LIANZHENG_URL": ""})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    done = SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)
    assert not check or done.returncode == 0, (args, done.stdout, done.stderr)
    return done


@pytest.mark.anvil
def test_a_draw_from_the_command_line_with_a_withholder_and_verify(tmp_path):
    node = AnvilNode()
    try:
        chain = node.chain()

        def funded():
            from eth_account import Account

            a = Account.create()
            chain.fund(a.address, 10**19)
            return a

        world = make_world(chain, funded)
        d = world.draws
        common = ["--rpc", node.url, "--contract", d.address]
        keys = {}
        for name, acct in (("admin", world.admin), ("centre", world.centre.account), ("registrar", world.registrar)):
            keys[name] = str(write_key_file(tmp_path / f"{name}.key", acct))
        for name in ("supervisor", "independent"):
            acct = funded()
            keys[name] = str(write_key_file(tmp_path / f"{name}.key", acct))
            cli("experts", "grant", *common, "--key-file", keys["admin"], "--role", name, "--region", "370000",
                "--account", acct.address, check=True)
            setattr(world, name, Party(acct, party_key(acct.key)))
        refused = cli("experts", "grant", *common, "--key-file", keys["centre"], "--role", "supervisor",
                      "--region", "370000", "--account", world.centre.address)
        assert refused.returncode == 1 and "AccessControlUnauthorizedAccount" in refused.stderr
        for name in ("centre", "supervisor", "independent"):
            out = cli("experts", "party-key", *common, "--key-file", keys[name], check=True)
            assert "seals to 0x" in out.stdout

        (tmp_path / "roster.json").write_text(random_roster(200, seed=12).model_dump_json())
        registry_file = tmp_path / "registry.json"
        built = cli("experts", "registry", "--roster", str(tmp_path / "roster.json"), "--province", "37",
                    "--as-of", "2026-11-23", "--out", str(registry_file), check=True)
        assert "registry of 200 experts" in built.stdout and stat.S_IMODE(registry_file.stat().st_mode) == 0o600
        anchored = cli("experts", "anchor", *common, "--key-file", keys["registrar"], "--registry", str(registry_file),
                       check=True)
        assert anchored.stdout.startswith("snapshot 37#1")

        project, section = world.opened_section()
        plan = world.plan_for(project, section)
        (tmp_path / "plan.json").write_text(plan.model_dump_json())
        parties = [world.centre.address, world.supervisor.address, world.independent.address]
        draw_id = cli("experts", "draw", *common, "--key-file", keys["centre"], "--plan", str(tmp_path / "plan.json"),
                      *[x for p in parties for x in ("--party", p)], "--window", "600", check=True).stdout.strip()
        pool_file = tmp_path / "pool.json"
        pooled = cli("experts", "pool", *common, "--key-file", keys["centre"], "--draw", draw_id,
                     "--registry", str(registry_file), "--plan", str(tmp_path / "plan.json"), "--out", str(pool_file),
                     check=True)
        assert pooled.stdout.count("stratum ") == 3

        secrets = {n: tmp_path / f"{n}.secret" for n in ("centre", "supervisor", "independent")}
        for n in secrets:
            cli("experts", "commit", *common, "--key-file", keys[n], "--draw", draw_id,
                "--secret-file", str(secrets[n]), check=True)
        early = cli("experts", "reveal", *common, "--key-file", keys["centre"], "--draw", draw_id,
                    "--secret-file", str(secrets["centre"]))
        assert early.returncode == 1 and "ExpertDrawWrongState" in early.stderr
        for n in secrets:
            cli("experts", "acknowledge", *common, "--key-file", keys[n], "--draw", draw_id, check=True)
        for n in ("supervisor", "independent"):
            cli("experts", "reveal", *common, "--key-file", keys[n], "--draw", draw_id,
                "--secret-file", str(secrets[n]), check=True)
        # the centre withholds; after the reveal window the others publish its shares
        chain.set_next_block_time(d.draw(bytes.fromhex(draw_id[2:])).phase_ends + 1)
        for n in ("supervisor", "independent"):
            last = cli("experts", "publish-share", *common, "--key-file", keys[n], "--draw", draw_id,
                       "--dealer", world.centre.address, check=True)
        assert last.stdout.count("drawn: stratum") == 3
        status = cli("experts", "status", *common, "--draw", draw_id, check=True)
        assert status.stdout.startswith("drawn: round 1") and "withheld, recovered" in status.stdout
        assert "专家" not in status.stdout  # no names on chain

        ok = cli("experts", "verify", *common, "--draw", draw_id, "--pool-file", str(pool_file))
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert ok.stdout.count("\nstratum ") == 5 and "withheld" in ok.stdout and "verified" in ok.stdout

        reveal_file = tmp_path / "expert.json"
        cli("experts", "reveal-expert", *common, "--key-file", keys["centre"], "--draw", draw_id,
            "--pool-file", str(pool_file), "--stratum", "0", "--ordinal", "1", "--out", str(reveal_file), check=True)
        assert cli("experts", "check-expert", *common, str(reveal_file), check=True).stdout.startswith("verified: E")
        shown = json.loads(reveal_file.read_text())
        shown["expert"]["name"] = "someone else"
        reveal_file.write_text(json.dumps(shown))
        assert cli("experts", "check-expert", *common, str(reveal_file)).returncode == 1

        signature = cli("experts", "sign-replacement", *common, "--key-file", keys["supervisor"], "--draw", draw_id,
                        "--stratum", "0", "--ordinal", "2", "--reason", "refused", check=True).stdout.strip()
        alone = cli("experts", "replace", *common, "--key-file", keys["centre"], "--draw", draw_id, "--stratum", "0",
                    "--ordinal", "2", "--reason", "absent", "--signature", signature)  # not what was co-signed
        assert alone.returncode == 1 and "ExpertDrawReplacementRefused" in alone.stderr
        replaced = cli("experts", "replace", *common, "--key-file", keys["centre"], "--draw", draw_id, "--stratum", "0",
                       "--ordinal", "2", "--reason", "refused", "--signature", signature, check=True)
        assert "(1 replacements in this draw)" in replaced.stdout
        assert "(replaced)" in cli("experts", "verify", *common, "--draw", draw_id, "--pool-file", str(pool_file),
                                   check=True).stdout

        tampered = json.loads(pool_file.read_text())  # a roster changed after the snapshot was anchored
        tampered["registry"]["roster"]["experts"][5]["name"] += "X"
        (tmp_path / "tampered.json").write_text(json.dumps(tampered, ensure_ascii=False))
        bad = cli("experts", "verify", *common, "--draw", draw_id, "--pool-file", str(tmp_path / "tampered.json"))
        assert bad.returncode == 1 and "FAIL registry snapshot" in bad.stdout and "FAILED" in bad.stderr

        for args, message in (
            (("verify", *common, "--draw", "0x12", "--pool-file", str(pool_file)), "--draw must be 32 bytes"),
            (("verify", *common, "--draw", draw_id, "--pool-file", str(tmp_path / "none.json")), "cannot read"),
            (("commit", *common, "--key-file", keys["centre"], "--draw", draw_id,
              "--secret-file", str(secrets["centre"])), "exists"),
            (("registry", "--roster", str(tmp_path / "plan.json"), "--province", "37", "--as-of", "2026-11-23",
              "--out", str(tmp_path / "x.json")), "experts"),
            (("registry", "--roster", str(tmp_path / "roster.json"), "--province", "37", "--as-of", "tomorrow",
              "--out", str(tmp_path / "x.json")), "--as-of"),
            (("replace", *common, "--key-file", keys["centre"], "--draw", draw_id, "--stratum", "0", "--ordinal", "0",
              "--reason", "bored", "--signature", signature), "replacement reason"),
        ):
            result = cli("experts", *args)
            assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, (
                args, result.stderr)
    finally:
        node.stop()
