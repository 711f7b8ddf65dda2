"""SDK commands (notarize, verify, certificate, archive check), usable without the server.

Each is imported when it runs (``support.lazy_commands``): the table below is all that
``lianzheng`` and ``lianzheng-sdk`` load to start.
"""
from __future__ import annotations

import typer

from lianzheng.sdk.cli.support import lazy_commands

COMMANDS = {
    "notarize": "lianzheng.sdk.cli.notarize:notarize",
    "verify": "lianzheng.sdk.cli.verify:verify",
    "certificate": "lianzheng.sdk.cli.witness:certificate",
    "archive": "lianzheng.sdk.cli.witness:archive_app",
}

app = typer.Typer(cls=lazy_commands(COMMANDS), add_completion=False, no_args_is_help=True,
                  help="Lianzheng SDK: notarize and verify evidence")


@app.callback()
def _root() -> None:  # a group even before a command is loaded
    pass


def main() -> None:
    """``lianzheng-sdk``: the SDK's commands alone, for a system that installs only the SDK."""
    from lianzheng.sdk.cli.support import run

    run(app)
