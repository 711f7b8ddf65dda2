"""The notary's keys: a chain account (secp256k1) and a checkpoint key (Ed25519).

Created on first start in the data dir with mode 0600, or loaded from files the
operator names. Key material is never logged or put in an error message.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount

from lianzheng.chain_node.errors import KeyFileError

__all__ = ["KeyFileError", "load_or_create_account", "load_or_create_ed25519", "write_account_key"]


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _read_secret(path: Path) -> bytes:
    if path.is_dir():
        raise KeyFileError(f"{path} is a directory, not a key file")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyFileError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
    return path.read_bytes()


def write_account_key(path: Path, account: LocalAccount) -> Path:
    """Write ``account``'s hex private key to a new 0600 file (as ``load_or_create_account`` reads it)."""
    _write_secret(path, account.key.hex().encode() + b"\n")
    return path


def load_or_create_account(path: Path) -> LocalAccount:
    """The chain account whose hex private key is in ``path``, created there if absent."""
    if not path.exists():
        _write_secret(path, Account.create().key.hex().encode() + b"\n")
    text = _read_secret(path).decode().strip()
    try:
        return Account.from_key(text)
    except Exception as exc:  # noqa: BLE001 - never echo the key text
        raise KeyFileError(f"{path} does not hold a hex secp256k1 private key") from exc


def load_or_create_ed25519(path: Path) -> Ed25519PrivateKey:
    """The checkpoint-signing key in ``path`` (PKCS#8 PEM), created there if absent."""
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_secret(path, pem)
    try:
        key = serialization.load_pem_private_key(_read_secret(path), password=None)
    except ValueError as exc:
        raise KeyFileError(f"{path} does not hold a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return key
