"""Errors of the rules engine: a rule said no, and the chain holds the decision."""
from __future__ import annotations

from lianzheng.sdk.errors import LianzhengError


class RuleError(LianzhengError):
    """Root of every rules-engine error."""

    code = "rule_error"


class RuleRejected(RuleError):
    """The contract refused the step. ``reason`` is its custom error, e.g.
    ``BidDeadlinePassed(...)``; ``tx_hash`` is the mined, reverted transaction (the decision
    on chain), or None when the step was refused before it was sent."""

    code = "rule_rejected"

    def __init__(self, reason: str, tx_hash: str | None = None) -> None:
        super().__init__(reason if tx_hash is None else f"{reason} (tx {tx_hash})", reason=reason, tx_hash=tx_hash)
        self.reason, self.tx_hash = reason, tx_hash

    @property
    def error_name(self) -> str:
        return self.reason.split("(", 1)[0]


class RuleInputError(RuleError):
    """The step's arguments cannot even be put into a transaction (e.g. text the ABI cannot encode)."""

    code = "invalid_rule_input"


class RosterError(RuleError):
    """An expert roster or draw request cannot be read or is not in the documented format; the
    message says where."""

    code = "roster_invalid"
