"""The ``lianzheng`` command: server commands here, SDK commands from ``sdk.cli``."""
from __future__ import annotations

import typer

from alliance import cli as alliance_cli
from notary.cli import keys, regions, serve
from rules.experts import cli as experts_cli
from rules.tender import cli as tender_cli
from sdk.cli import register as register_sdk

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Lianzheng (链证): trading-event notary")
app.command("serve")(serve.serve)
app.add_typer(keys.app, name="keys")
app.add_typer(regions.app, name="registry")
app.add_typer(alliance_cli.chain_app, name="chain")
app.command("relay")(alliance_cli.relay)
app.command("mirror")(alliance_cli.mirror)
app.add_typer(tender_cli.app, name="tender")
app.add_typer(experts_cli.app, name="experts")
register_sdk(app)


def main() -> None:
    app()
