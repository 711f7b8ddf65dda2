"""Errors of the chain layer: one root, subclasses that keep what went wrong."""
from __future__ import annotations

from lianzheng.sdk.errors import LianzhengError


class ChainError(LianzhengError):
    """Root of everything that can go wrong reaching or writing a chain."""

    code = "chain_error"


class KeyFileError(ChainError):
    """An account key file cannot be read, or is readable by others (it must be mode 0600)."""

    code = "key_file_invalid"


class ReplicaBusy(ChainError):
    """Too many callers wait for a read replica of the embedded chain already."""

    code = "replicas_busy"


class ChainUnavailable(ChainError):
    """The node cannot be reached (connection refused, timeout)."""

    code = "chain_unavailable"


class InvalidTransaction(ChainError):
    """The call's arguments cannot be encoded into a transaction (caller's bad input)."""

    code = "invalid_transaction"


class TransactionReverted(ChainError):
    """A transaction or call reverted; ``reason`` is the decoded custom error when known."""

    code = "transaction_reverted"

    def __init__(self, reason: str, tx_hash: str | None = None) -> None:
        super().__init__(reason if tx_hash is None else f"{reason} (tx {tx_hash})", reason=reason, tx_hash=tx_hash)
        self.reason, self.tx_hash = reason, tx_hash
