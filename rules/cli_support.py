"""What the rules CLIs share: key files and 32-byte hex ids (failures: ``sdk.cli.support.fail``)."""
from __future__ import annotations

from pathlib import Path

from lianzheng.sdk.cli.support import fail


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
    from lianzheng.chain_node.accounts import KeyFileError, load_or_create_account

    if not path.is_file():
        fail(f"error: no key file at {path}", 2)
    try:
        return load_or_create_account(path)
    except KeyFileError as exc:
        fail(f"error: {exc}", 2)


def new_account_file(path: Path) -> str:
    """Create a fresh account key file (0600) at ``path`` and return its address; exit 2 if it exists."""
    from lianzheng.chain_node.accounts import load_or_create_account

    if path.exists():
        fail(f"error: {path} exists", 2)
    return load_or_create_account(path).address
