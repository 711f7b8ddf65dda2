"""What the rules CLIs share: one-line failures with an exit code, key files, 32-byte hex ids."""
from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit: 1 refused or failed, 2 bad input."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def bytes32(text: str, what: str) -> bytes:
    try:
        value = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        value = b""
    if len(value) != 32:
        fail(f"error: {what} must be 32 bytes of hex", 2)
    return value


def account(path: Path):
    """The account in a hex private-key file (0600), or exit 2 saying what is wrong."""
    from chain_node.accounts import KeyFileError, load_or_create_account

    if not path.is_file():
        fail(f"error: no key file at {path}", 2)
    try:
        return load_or_create_account(path)
    except KeyFileError as exc:
        fail(f"error: {exc}", 2)
