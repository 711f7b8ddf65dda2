"""The notary's commands: ``serve``, ``status``, ``keys``, ``registry``, ``page`` (assembled by
``lianzheng.cli``)."""
from __future__ import annotations

import typer

from lianzheng.notary.cli import keys, page, regions, serve, status


def register(app: typer.Typer) -> None:
    app.command("serve")(serve.serve)
    app.command("status")(status.status)
    app.add_typer(keys.app, name="keys")
    app.add_typer(regions.app, name="registry")
    app.add_typer(page.app, name="page")
