"""The rules engine's journal: no rule step reaches the chain without its record.

A step is signed, then recorded here (durably), then sent; once mined, it is notarized
(accepted or refused, with the contract events it emitted) and marked done. A crash between
sending and notarizing leaves the step pending here; ``RuleContract.roll_forward`` finishes it
on the next start: it resends the same signed transaction if the chain does not know it (same
nonce: it lands at most once), waits, notarizes, marks it done. So every chain step gets its
record, and a step abandoned before it could land (its nonce taken) gets none because it
never happened.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class PendingStep:
    tx_hash: str
    raw_tx: bytes
    nonce: int
    sender: str
    to: str
    data: bytes
    step: str
    key: str  # hex of what the step is about (section, draw), "" for none
    payload: dict[str, Any]
    events: tuple[str, ...]  # contract events notarized as events of their own


class StepJournal(Protocol):
    """Durable record of signed rule steps. ``record`` MUST NOT return before the step is durable."""

    def record(self, step: PendingStep) -> None: ...

    def done(self, tx_hash: str) -> None: ...

    def pending(self, contract: str) -> list[PendingStep]: ...


class SqliteJournal:
    """A journal in one SQLite file (WAL, synchronous FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS steps (tx_hash TEXT PRIMARY KEY, contract TEXT NOT NULL, "
                           "body TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0)")
        self._lock = threading.Lock()

    def record(self, step: PendingStep) -> None:
        body = {**step.__dict__, "raw_tx": step.raw_tx.hex(), "data": step.data.hex(), "events": list(step.events)}
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO steps (tx_hash, contract, body) VALUES (?, ?, ?)",
                               (step.tx_hash, step.to.lower(), json.dumps(body)))

    def done(self, tx_hash: str) -> None:
        with self._lock:
            self._conn.execute("UPDATE steps SET done = 1 WHERE tx_hash = ?", (tx_hash,))

    def pending(self, contract: str) -> list[PendingStep]:
        with self._lock:
            rows = self._conn.execute("SELECT body FROM steps WHERE done = 0 AND contract = ? ORDER BY rowid",
                                      (contract.lower(),)).fetchall()
        steps = []
        for (text,) in rows:
            body = json.loads(text)
            body.update(raw_tx=bytes.fromhex(body["raw_tx"]), data=bytes.fromhex(body["data"]),
                        events=tuple(body["events"]))
            steps.append(PendingStep(**body))
        return steps

    def close(self) -> None:
        with self._lock:
            self._conn.close()
