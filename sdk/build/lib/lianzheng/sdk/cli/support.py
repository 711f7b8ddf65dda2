"""What every command shares: a failure is one line on stderr and an exit code, never a traceback.

Exit codes: 0 done (verified), 1 refused or failed (a check failed, a rule said no), 2 bad
input (a missing or unreadable file, an argument that cannot be right).
"""
from __future__ import annotations

from typing import NoReturn

import typer

REFUSED, BAD_INPUT = 1, 2


def fail(message: str, code: int = REFUSED) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with ``code``."""
    typer.echo(" ".join(str(message).split("\n")), err=True)
    raise typer.Exit(code)


def run(app: typer.Typer) -> None:
    """Run a command line; a Lianzheng error that no command caught is one line, never a traceback."""
    from lianzheng.sdk.errors import LianzhengError

    try:
        app()
    except LianzhengError as exc:
        fail(f"error ({exc.code}): {exc}")
