"""Sending rule steps to a contract, and notarizing each one, accepted or refused.

Every step is sent with a fixed gas limit, so a refused step is *mined* as a reverted
transaction: the refusal itself is a decision on chain, with a hash. With an ``EventSink``
(a ``NotaryClient``, or the notary's own log in process) every step is also notarized as an
event naming its transaction; refusals as ``<step>.rejected`` with the contract's reason.
A step's data is what the chain already shows (hashes, ids, outcomes), so it goes in the
event's ``public`` part: witnesses see it without a reader key.
"""
from __future__ import annotations

from typing import Any, Protocol

from eth_account.signers.local import LocalAccount

from lianzheng.chain_node import Chain, InvalidTransaction, TransactionReverted, TxOutcome
from lianzheng.rules.errors import RuleInputError, RuleRejected
from lianzheng.sdk.event_types import CONTRACT_EVENTS, REJECTED
from lianzheng.sdk.times import utc_iso

STEP_GAS = 500_000


class EventSink(Protocol):
    """Where steps are notarized: a ``NotaryClient``, or the notary's own log in process."""

    def notarize(self, event: dict[str, Any]) -> Any: ...


class Subject(Protocol):
    """What a step is about, as the notary event names it."""

    region: int
    project: str
    section: str

    def payload(self) -> dict[str, Any]: ...


class RuleContract:
    """Base of the rule façades: one contract on one chain, steps notarized to ``notary``."""

    CONTRACT = ""

    def __init__(self, chain: Chain, address: str, notary: EventSink | None = None) -> None:
        self.chain = chain
        self.contract = chain.contract(self.CONTRACT, address)
        self.address = self.contract.address
        self.notary = notary

    def _subject(self, key: bytes) -> Subject:
        raise NotImplementedError

    def _send(self, account: LocalAccount, call, step: str, key: bytes | None, payload: dict[str, Any],
              gas: int = STEP_GAS) -> TxOutcome:
        try:
            outcome = self.chain.transact(account, call, gas=gas)
        except TransactionReverted as exc:
            if exc.tx_hash is None:
                raise RuleRejected(exc.reason) from exc
            outcome = self.chain.outcome(exc.tx_hash)
            self._notarize(step + REJECTED, key, account, outcome, {**payload, "reason": exc.reason})
            raise RuleRejected(exc.reason, exc.tx_hash) from exc
        except InvalidTransaction as exc:
            raise RuleInputError(str(exc)) from exc
        self._notarize(step, key, account, outcome, payload)
        return outcome

    def _notarize(self, step: str, key: bytes | None, account: LocalAccount, outcome: TxOutcome,
                  payload: dict[str, Any], event_id: str | None = None) -> None:
        self._record(step, key, account.address, outcome.block_time, {
            **payload, "tx_hash": outcome.tx_hash, "block_number": outcome.block_number,
            "status": "accepted" if outcome.status else "rejected"},
            event_id or f"rule-{outcome.tx_hash}")  # a retried notarization logs once

    def _notarize_contract_events(self, names: tuple[str, ...], key: bytes, account: LocalAccount,
                                  outcome: TxOutcome) -> None:
        """Each event ``names`` the contract emitted in a step, notarized as an event of its own
        (its type from ``sdk.event_types.CONTRACT_EVENTS``), so that supervisors find it in the log."""
        if self.notary is None:
            return
        for log in self.contract.logs_in(outcome.receipt, *names):
            self._notarize(CONTRACT_EVENTS[log.name], key, account, outcome, dict(log.args),
                           event_id=f"rule-{outcome.tx_hash}-{log.log_index}")

    def _record(self, step: str, key: bytes | None, actor: str, when: int, payload: dict[str, Any],
                event_id: str) -> None:
        """Notarize a step about ``key`` (section, draw ...) that ``actor`` took at Unix time ``when``."""
        if self.notary is None or key is None:
            return
        subject = self._subject(key)
        self.notary.notarize({
            "id": event_id, "type": step, "region": str(subject.region), "project": subject.project,
            "section": subject.section, "occurred_at": utc_iso(when), "actor": actor,
            "public": {**jsonable(payload), **subject.payload(), "contract": self.address,
                        "chain_id": self.chain.chain_id},
        })

def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Bytes as hex, lists of bytes as lists of hex; everything else as it is."""
    def one(v: Any) -> Any:
        if isinstance(v, (bytes, bytearray)):
            return v.hex()
        if isinstance(v, (list, tuple)):
            return [one(x) for x in v]
        return v
    return {k: one(v) for k, v in values.items()}
