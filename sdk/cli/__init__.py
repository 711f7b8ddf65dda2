"""SDK commands (``lianzheng notarize``, ``lianzheng verify``), usable without the server."""
from __future__ import annotations

import typer

from sdk.cli import notarize, verify


def register(app: typer.Typer) -> None:
    app.command("notarize")(notarize.notarize)
    app.command("verify")(verify.verify)


app = typer.Typer(add_completion=False, no_args_is_help=True, help="Lianzheng SDK: notarize and verify evidence")
register(app)
