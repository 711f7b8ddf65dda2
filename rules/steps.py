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

from lianzheng.chain_node import (
    Chain,
    ChainError,
    InvalidTransaction,
    PreparedCall,
    SignedTx,
    TransactionReverted,
    TxOutcome,
)
from lianzheng.rules.errors import RuleInputError, RuleRejected
from lianzheng.rules.journal import PendingStep, StepJournal
from lianzheng.sdk.event_types import CONTRACT_EVENTS, REJECTED
from lianzheng.sdk.times import utc_iso

STEP_GAS = 500_000


class _Sender:
    """An account known by its address only (replaying a recorded step needs no key)."""

    def __init__(self, address: str) -> None:
        self.address = address


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
    """Base of the rule façades: one contract on one chain, steps notarized to ``notary``.

    With a ``journal`` every step is recorded, signed, before it is sent, and
    ``roll_forward`` notarizes steps a crash left unrecorded (``rules.journal``)."""

    CONTRACT = ""

    def __init__(self, chain: Chain, address: str, notary: EventSink | None = None,
                 journal: StepJournal | None = None) -> None:
        self.chain = chain
        self.contract = chain.contract(self.CONTRACT, address)
        self.address = self.contract.address
        self.notary = notary
        self.journal = journal

    def _subject(self, key: bytes) -> Subject:
        raise NotImplementedError

    def _transact(self, account: LocalAccount, call: PreparedCall, gas: int | None = None) -> TxOutcome:
        """An act that is not a rule step (a role, a profile, a key): sent and awaited, not notarized;
        a revert raises ``RuleRejected``."""
        try:
            return self.chain.transact(account, call, gas=gas)
        except TransactionReverted as exc:
            raise RuleRejected(exc.reason, exc.tx_hash) from exc

    def _send(self, account: LocalAccount, call: PreparedCall, step: str, key: bytes | None,
              payload: dict[str, Any], gas: int = STEP_GAS, events: tuple[str, ...] = ()) -> TxOutcome:
        """Sign, record, send and wait; notarize the step (and the contract ``events`` it emitted),
        accepted or refused. A refused step is mined and notarized, then raises ``RuleRejected``."""
        pending = None
        with self.chain.sender(account.address):
            try:
                signed = self.chain.sign(account, call, gas=gas)
            except TransactionReverted as exc:
                raise RuleRejected(exc.reason) from exc
            except InvalidTransaction as exc:
                raise RuleInputError(str(exc)) from exc
            pending = PendingStep(signed.hash, signed.raw, signed.nonce, account.address, self.address, call.data,
                                  step, key.hex() if key else "", jsonable(payload), events)
            if self.journal is not None:
                self.journal.record(pending)
            try:
                self.chain.send_raw(signed)
            except ChainError:
                self.chain.release_nonce(account.address)
                if self.journal is not None:
                    self.journal.done(signed.hash)  # never sent: no chain step to record
                raise
        return self._finish(pending, self.chain.wait(signed.hash))

    def _finish(self, p: PendingStep, outcome: TxOutcome) -> TxOutcome:
        key = bytes.fromhex(p.key) if p.key else None
        if outcome.status != 1:
            call = PreparedCall(p.to, p.data, p.step, self.contract)
            reason = self.chain.replay_reason(_Sender(p.sender), call, outcome.block_number)
            self._notarize(p.step + REJECTED, key, p.sender, outcome, {**p.payload, "reason": reason})
            if self.journal is not None:
                self.journal.done(p.tx_hash)
            raise RuleRejected(reason, outcome.tx_hash)
        self._notarize(p.step, key, p.sender, outcome, p.payload)
        if p.events and key is not None:
            self._notarize_contract_events(p.events, key, p.sender, outcome)
        if self.journal is not None:
            self.journal.done(p.tx_hash)
        return outcome

    def roll_forward(self) -> int:
        """Finish the steps a crash left between sending and notarizing; returns how many."""
        if self.journal is None:
            return 0
        finished = 0
        for p in self.journal.pending(self.address):
            outcome = self.chain.outcome(p.tx_hash)
            if outcome is None:
                try:
                    self.chain.send_raw(SignedTx(p.raw_tx, p.tx_hash, p.nonce, p.sender))
                except ChainError:
                    if self.chain.nonce_of(p.sender) > p.nonce and self.chain.outcome(p.tx_hash) is None:
                        self.journal.done(p.tx_hash)  # its nonce went to another transaction: it never happened
                        continue
                    raise
                outcome = self.chain.wait(p.tx_hash)
            try:
                self._finish(p, outcome)
            except RuleRejected:
                pass  # a refusal is a finished step too: notarized as such
            finished += 1
        return finished

    def _notarize(self, step: str, key: bytes | None, actor: str, outcome: TxOutcome,
                  payload: dict[str, Any], event_id: str | None = None) -> None:
        self._record(step, key, actor, outcome.block_time, {
            **payload, "tx_hash": outcome.tx_hash, "block_number": outcome.block_number,
            "status": "accepted" if outcome.status else "rejected"},
            event_id or f"rule-{outcome.tx_hash}")  # a retried notarization logs once

    def _notarize_contract_events(self, names: tuple[str, ...], key: bytes, actor: str,
                                  outcome: TxOutcome) -> None:
        """Each event ``names`` the contract emitted in a step, notarized as an event of its own
        (its type from ``sdk.event_types.CONTRACT_EVENTS``), so that supervisors find it in the log."""
        if self.notary is None:
            return
        for log in self.contract.logs_in(outcome.receipt, *names):
            self._notarize(CONTRACT_EVENTS[log.name], key, actor, outcome, dict(log.args),
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
    """Bytes as hex, lists of bytes as lists of hex, integers JSON cannot carry exactly (uint256
    values of contract events) as decimal strings; everything else as it is."""
    def one(v: Any) -> Any:
        if isinstance(v, (bytes, bytearray)):
            return v.hex()
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53 - 1:
            return str(v)
        if isinstance(v, (list, tuple)):
            return [one(x) for x in v]
        return v
    return {k: one(v) for k, v in values.items()}
