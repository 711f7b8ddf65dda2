"""A durable key-value store for py-evm, on SQLite.

py-evm keeps chain state in a ``BaseDB``; the default is a dict, lost on restart. This
one writes to a file: writes collect in a SQLite transaction that ``commit`` ends, and
the embedded chain commits after every mined block, so a crash leaves the state of the
last whole block (never half of one).
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from eth.db.backends.base import BaseDB


class SqliteKV(BaseDB):
    def __init__(self, path: Path) -> None:
        self._conn: sqlite3.Connection | None = sqlite3.connect(str(path), check_same_thread=False,
                                                                isolation_level="DEFERRED")
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        self._conn.commit()
        self._lock = threading.RLock()

    def __getitem__(self, key: bytes) -> bytes:
        with self._lock:
            row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", (key, value))

    def __delitem__(self, key: bytes) -> None:
        with self._lock:
            cur = self._conn.execute("DELETE FROM kv WHERE k = ?", (key,))
        if cur.rowcount == 0:
            raise KeyError(key)

    def _exists(self, key: bytes) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM kv WHERE k = ?", (key,)).fetchone() is not None

    def commit(self) -> None:
        with self._lock:
            self._conn.commit()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.commit()
                self._conn.close()
                self._conn = None
