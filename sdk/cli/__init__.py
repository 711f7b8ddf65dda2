"""SDK commands (notarize, verify, certificate, archive check), usable without the server."""
from __future__ import annotations

import typer

from lianzheng.sdk.cli import notarize, verify, witness


def register(app: typer.Typer) -> None:
    app.command("notarize")(notarize.notarize)
    app.command("verify")(verify.verify)
    app.command("certificate")(witness.certificate)
    app.add_typer(witness.archive_app, name="archive")


app = typer.Typer(add_completion=False, no_args_is_help=True, help="Lianzheng SDK: notarize and verify evidence")
register(app)


def main() -> None:
    """``lianzheng-sdk``: the SDK's commands alone, for a system that installs only the SDK."""
    from lianzheng.sdk.cli.support import run

    run(app)
