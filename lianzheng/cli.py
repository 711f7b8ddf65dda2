"""The ``lianzheng`` command: one root that assembles each package's commands.

The SDK (notarize, verify, certificate, archive), the notary (serve, keys, registry), the rules
(tender, experts) and the alliance (chain, relay, mirror) each register their own; nothing
below this module knows the others are here.
"""
from __future__ import annotations

import typer

from lianzheng.alliance import cli as alliance_cli
from lianzheng.notary import cli as notary_cli
from lianzheng.rules.experts import cli as experts_cli
from lianzheng.rules.tender import cli as tender_cli
from lianzheng.sdk import cli as sdk_cli
from lianzheng.sdk.cli.support import run

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Lianzheng (链证): trading-event notary")
notary_cli.register(app)
alliance_cli.register(app)
app.add_typer(tender_cli.app, name="tender")
app.add_typer(experts_cli.app, name="experts")
sdk_cli.register(app)


def main() -> None:
    run(app)
