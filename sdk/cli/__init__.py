"""SDK commands (notarize, verify, certificate, archive check), usable without the server.

Each is imported when it runs (``support.lazy_app``): the table below is all that
``lianzheng`` and ``lianzheng-sdk`` load to start.
"""
from __future__ import annotations

from lianzheng.sdk.cli.support import lazy_app

COMMANDS = {
    "notarize": "lianzheng.sdk.cli.notarize:notarize",
    "verify": "lianzheng.sdk.cli.verify:verify",
    "certificate": "lianzheng.sdk.cli.witness:certificate",
    "archive": "lianzheng.sdk.cli.witness:archive_app",
}

app = lazy_app(COMMANDS, "Lianzheng SDK: notarize and verify evidence")


def main() -> None:
    """``lianzheng-sdk``: the SDK's commands alone, for a system that installs only the SDK."""
    from lianzheng.sdk.cli.support import run

    run(app)
