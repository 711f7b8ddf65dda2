"""Which of several notary processes on one log is its sequencer: the one that anchors.

Any process may append events (``NotaryLog``: appends take turns under the store's write lock,
each catching up with the others first, so the log never forks). Anchoring — signing checkpoints
and sending them to the registry — is done by one process at a time: the holder of a lock that
dies with it. On PostgreSQL that is a session advisory lock on a connection of its own (outside
the pool; TCP keepalives on), for processes on several machines; on SQLite an exclusive
``flock`` beside the database file, for processes on one machine (a local disk: flock over NFS
is not a lock to rely on). A process that does not hold it tries again every ``interval``
seconds. The sequencer checks it still holds the lock before every anchoring round (a
PostgreSQL session can end under a living process); when it does not, it stops anchoring and
stands for election again. When the holder dies, the database (its session ends) or the kernel
(its file closes) frees the lock and another takes over; anchors left open are settled by the
new sequencer's first round, and the registry refuses any size that does not extend the last.
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

log = logging.getLogger("lianzheng.election")


def _lock_key(region: str) -> int:
    """The advisory lock's 64-bit key for a region's log."""
    digest = hashlib.sha256(f"lianzheng-sequencer/{region}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class SequencerLock:
    """Try to become the sequencer of ``region``'s log stored behind ``engine``."""

    def __init__(self, engine: Engine, region: str) -> None:
        self.engine, self.key = engine, _lock_key(region)
        self._conn: Any = None
        self._fd: int | None = None

    def _sqlite_path(self) -> Path | None:
        path = self.engine.url.database
        return None if not path or path == ":memory:" else Path(path).resolve()

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "sqlite":
            path = self._sqlite_path()
            if path is None:  # an in-memory store has one process
                return True
            fd = os.open(f"{path}.sequencer.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        pooled = self.engine.raw_connection()
        conn = pooled.driver_connection
        pooled.detach()  # its own session, closed for real on release (never back into the pool)
        try:
            cur = conn.cursor()
            cur.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            held = bool(cur.fetchone()[0])
            conn.commit()
        except Exception:
            conn.close()
            raise
        if not held:
            conn.close()
            return False
        self._conn = conn
        return True

    def holds(self) -> bool:
        """Whether the lock is still this process's (asked of the database on PostgreSQL)."""
        if self.engine.dialect.name == "sqlite":
            return True  # a file lock is lost only with the process
        if self._conn is None:
            return False
        try:
            cur = self._conn.cursor()
            cur.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND pid = pg_backend_pid()")
            held = cur.fetchone()[0] > 0
            self._conn.commit()
            return held
        except Exception:  # noqa: BLE001 - a broken session holds nothing
            return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            try:
                self._conn.close()  # detached: the session ends, and its advisory lock with it
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._conn = None


class Election:
    """Become the sequencer when possible and stay it while the lock holds: ``on_elected()`` runs
    when this process becomes the sequencer (retried each round until it succeeds), ``on_lost()``
    when it finds it no longer is. ``start`` tries once at once, then every ``interval`` seconds."""

    def __init__(self, lock: SequencerLock, on_elected: Callable[[], None], on_lost: Callable[[], None],
                 interval: float = 0.5) -> None:
        self.lock, self.on_elected, self.on_lost, self.interval = lock, on_elected, on_lost, interval
        self.elected = False  # holds the lock and runs as the sequencer
        self._held = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()

    def start(self) -> None:
        try:
            self._round()
        except Exception:  # noqa: BLE001 - the background rounds retry
            log.exception("becoming the sequencer failed; retrying")
        if not self.elected:
            log.info("not the sequencer of this log (yet): serving, and standing by to take over")
        self._thread = threading.Thread(target=self._loop, name="election", daemon=True)
        self._thread.start()

    def _round(self) -> None:
        with self._guard:
            if not self._held:
                self._held = self.lock.try_acquire()
                if not self._held:
                    return
            if not self.elected:
                self.on_elected()  # raises: the lock stays held, and the next round retries this
                self.elected = True
                log.info("this process is the sequencer of the log (it anchors)")

    def check(self) -> bool:
        """Before an anchoring round: is this process still the sequencer? If not, it stands down."""
        if self.lock.holds():
            return True
        with self._guard:
            if self.elected or self._held:
                log.error("this process lost the sequencer lock: it stops anchoring and stands for election again")
                self.elected, self._held = False, False
                self.lock.release()
                self.on_lost()
        return False

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._round()
            except Exception:  # noqa: BLE001 - a database or chain hiccup: try again next round
                log.exception("becoming the sequencer failed; retrying")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.lock.release()
