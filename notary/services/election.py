"""Which of several notary processes on one log is its sequencer: the one that anchors.

Any process may append events (``NotaryLog``: an index another process took makes a commit redo
after catching up, so the log never forks). Anchoring — signing checkpoints and sending them
to the registry — is done by one process at a time: the holder of a lock that dies with it.
On PostgreSQL that is a session advisory lock (processes on several machines); on SQLite an
exclusive ``flock`` beside the database file (processes on one machine). A process that does
not hold it tries again every ``interval`` seconds; when the holder dies, its lock is released
by the database (its session ends) or the kernel (its file closes), and another takes over,
first settling the anchors the dead one left open (``AnchorWorker.reconcile``).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

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
        self._conn = None
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "sqlite":
            path = Path(self.engine.url.database or "").resolve()
            fd = os.open(f"{path}.sequencer.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        conn = self.engine.raw_connection()  # held for as long as this process is the sequencer
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

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._conn is not None:
            self._conn.close()  # ends the session: the advisory lock goes with it
            self._conn = None


class Election:
    """Become the sequencer when possible: ``on_elected()`` runs once, in this thread or the
    election's (``start`` tries once at once, then every ``interval`` seconds)."""

    def __init__(self, lock: SequencerLock, on_elected: Callable[[], None], interval: float = 0.5) -> None:
        self.lock, self.on_elected, self.interval = lock, on_elected, interval
        self.elected = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._try():
            return
        log.info("another process is the sequencer of this log; serving, and standing by to take over")
        self._thread = threading.Thread(target=self._loop, name="election", daemon=True)
        self._thread.start()

    def _try(self) -> bool:
        if not self.lock.try_acquire():
            return False
        self.elected = True
        log.info("this process is the sequencer of the log (it anchors)")
        self.on_elected()
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self._try():
                    return
            except Exception:  # noqa: BLE001 - a database hiccup: try again next round
                log.exception("sequencer election failed; retrying")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.lock.release()
