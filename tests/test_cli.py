"""What a command loads to start: every command the root names loads, running one loads only
that one, and the notary's app leaves the embedded chain's stack to the embedded chain."""
from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from lianzheng.cli import COMMANDS, app
from lianzheng.sdk.cli import COMMANDS as SDK_COMMANDS
from lianzheng.sdk.cli import app as sdk_app

LOADED_BY_SERVE = """
import sys
from typer.testing import CliRunner
from lianzheng.cli import app
done = CliRunner().invoke(app, ["serve", "--help"])
assert done.exit_code == 0, done.output
print(" ".join(sorted(m for m in sys.modules if m.startswith("lianzheng."))))
"""


def test_every_named_command_loads_and_is_listed_in_order():
    for root, table in ((app, COMMANDS), (sdk_app, SDK_COMMANDS)):
        group = typer.main.get_command(root)
        context = group.make_context("lianzheng", ["--help"], resilient_parsing=True)
        assert group.list_commands(context) == list(table)
        group.get_command(context, list(table)[-1])
        assert group.list_commands(context) == list(table)  # the same order once one is loaded
        for name, target in table.items():
            command = group.get_command(context, name)
            assert command is not None and command.name == name, name
            assert command.help or command.short_help, name
            module, _, attribute = target.partition(":")
            named = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, typer.core.TyperGroup) == isinstance(named, typer.Typer), name


@pytest.mark.parametrize("words", [["archive", "check"], ["page", "export"], ["alliance", "members"],
                                   ["chain", "new-key"], ["keys", "add"], ["tender", "open"]])
def test_a_group_of_one_command_keeps_its_two_words(words):
    done = CliRunner().invoke(app, [*words, "--help"], prog_name="lianzheng")
    assert done.exit_code == 0, done.output
    assert f"lianzheng {' '.join(words)} [OPTIONS]" in done.output


def test_a_command_loads_its_own_package_only():
    loaded = subprocess.run([sys.executable, "-c", LOADED_BY_SERVE], capture_output=True, text=True,
                            check=True).stdout.split()
    assert "lianzheng.notary.cli.serve" in loaded
    others = [m for m in loaded if m.startswith(("lianzheng.sdk.cli.", "lianzheng.rules.", "lianzheng.alliance.",
                                                   "lianzheng.notary.cli.keys", "lianzheng.notary.cli.page"))]
    assert others == ["lianzheng.sdk.cli.support"]


def test_the_notary_app_loads_no_embedded_chain_until_one_is_opened():
    """A notary on --rpc never loads web3 and py-evm (~0.6 s of its start): only the embedded
    chain and its replicas use them."""
    code = "import sys, lianzheng.notary.api.app; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    assert loaded & {"web3", "eth", "eth_tester", "lianzheng.chain_node.replica"} == set()
