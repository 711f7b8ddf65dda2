"""The ``lianzheng`` command: one root over each package's commands.

The notary (serve, status, keys, registry, page), the alliance (chain, alliance, relay, mirror),
the rules (tender, experts) and the SDK (notarize, verify, certificate, archive) each own their
commands; the root only names where each lives, and imports a command when it runs
(``support.lazy_app``): ``lianzheng serve`` does not load the others.
"""
from __future__ import annotations

from lianzheng.sdk.cli import COMMANDS as SDK_COMMANDS
from lianzheng.sdk.cli.support import lazy_app, run

COMMANDS = {
    "serve": "lianzheng.notary.cli.serve:serve",
    "status": "lianzheng.notary.cli.status:status",
    "keys": "lianzheng.notary.cli.keys:app",
    "registry": "lianzheng.notary.cli.regions:app",
    "page": "lianzheng.notary.cli.page:app",
    "chain": "lianzheng.alliance.cli:chain_app",
    "alliance": "lianzheng.alliance.cli:alliance_app",
    "relay": "lianzheng.alliance.cli:relay",
    "mirror": "lianzheng.alliance.cli:mirror",
    "tender": "lianzheng.rules.tender.cli:app",
    "experts": "lianzheng.rules.experts.cli:app",
    **SDK_COMMANDS,
}

app = lazy_app(COMMANDS, "Lianzheng (链证): trading-event notary")


def main() -> None:
    run(app)
