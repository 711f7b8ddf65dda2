"""Per-caller limits: a token-bucket rate, and a cap on calls in flight.

Callers are API keys (writes) or client addresses (anonymous reads, the chain RPC,
certificates). The bucket map is pruned: a caller whose bucket has refilled is the same as
one never seen, so it is dropped, and the map holds only callers active in the last
``burst / rate`` seconds (bounded by ``max_callers`` even under a flood of addresses).
"""
from __future__ import annotations

import fcntl
import hashlib
import math
import mmap
import os
import secrets
import struct
import threading
import time
from pathlib import Path

from lianzheng.notary.errors import RateLimited, TooManyInFlight

__all__ = ["InFlightLimit", "RateLimited", "RateLimiter", "SharedBuckets", "TooManyInFlight", "retry_after_header",
           "shared_buckets"]

SHARED_ENV = "LZ_SHARED_LIMITS"  # `serve --workers N`: the directory of the tables its workers share


class SharedBuckets:
    """The token buckets of one limit, shared by the processes of one ``serve --workers N``: a
    table in a file each worker maps, so a caller spreading requests over connections (and so
    over workers) meets one budget, not N.

    The file: a 32-byte hash key (random, made by ``create``), then ``SLOTS`` slots of (caller's
    keyed 64-bit hash, tokens, time of the last take). A caller's slot is one of ``PROBE`` from
    its hash's home; those are locked (a byte-range lock: processes) while read and written.
    Time is ``time.monotonic``: one clock for every process of the machine. When all ``PROBE``
    slots hold other callers, the one whose bucket is fullest at that moment is taken (a full
    bucket is the same as none; otherwise that caller is forgiven what it spent — an attacker
    with many addresses can do that to others' buckets only by chance: the hash is keyed).
    """

    SLOT = struct.Struct("<Qdd")
    SLOTS = 1 << 16
    PROBE = 8
    HEADER = 32

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
        size = self.HEADER + self.SLOTS * self.SLOT.size
        if os.fstat(self._fd).st_size != size:
            os.close(self._fd)
            raise ValueError(f"{path} is not a table of shared rate limits")
        self._map = mmap.mmap(self._fd, size)
        self._key = bytes(self._map[:self.HEADER])

    @classmethod
    def open_or_create(cls, path: Path) -> "SharedBuckets":
        """The table at ``path``, made (0600) by the first process to ask: it is written whole under
        another name and linked into place, so no process ever maps a half-made one."""
        if not path.exists():
            made = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(made, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, secrets.token_bytes(cls.HEADER))
                os.ftruncate(fd, cls.HEADER + cls.SLOTS * cls.SLOT.size)  # sparse: zero slots take no disk
            finally:
                os.close(fd)
            try:
                os.link(made, path)
            except FileExistsError:
                pass  # another worker's came first: everyone uses that one
            finally:
                made.unlink()
        return cls(path)

    def take(self, caller: str, cost: float, rate: float, burst: float, now: float) -> float:
        """Spend ``cost``; 0 when taken, else the seconds until it could be (nothing spent)."""
        tag = int.from_bytes(hashlib.blake2b(caller.encode(), key=self._key, digest_size=8).digest(), "little") | 1
        home = tag % (self.SLOTS - self.PROBE + 1)
        start, size = self.HEADER + home * self.SLOT.size, self.PROBE * self.SLOT.size
        fcntl.lockf(self._fd, fcntl.LOCK_EX, size, start)
        try:
            chosen, chosen_free, fullest = 0, 0, -1.0
            for i, (held, tokens, last) in enumerate(self.SLOT.iter_unpack(self._map[start:start + size])):
                if held == tag:
                    chosen, tokens = i, min(burst, tokens + (now - last) * rate)
                    break
                level = burst if held == 0 else min(burst, tokens + (now - last) * rate)
                if level > fullest:
                    chosen_free, fullest = i, level
            else:
                chosen, tokens = chosen_free, burst
            wait = 0.0 if tokens >= cost else (cost - tokens) / rate
            if not wait:
                tokens -= cost
            self.SLOT.pack_into(self._map, start + chosen * self.SLOT.size, tag, tokens, now)
            return wait
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN, size, start)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


def shared_buckets(kind: str) -> SharedBuckets | None:
    """The table of limit ``kind`` when this process is a worker of ``serve --workers N``."""
    where = os.environ.get(SHARED_ENV)
    return SharedBuckets.open_or_create(Path(where) / kind) if where else None


class RateLimiter:
    """``rate`` requests per second per caller, bursts up to ``burst`` requests; held in this
    process, or in ``shared`` buckets every worker process of the notary uses."""

    def __init__(self, rate: float, burst: float | None = None, max_callers: int = 100_000,
                 shared: SharedBuckets | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, 2 * rate)
        self.max_callers = max_callers
        self.shared = shared
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._next_prune = time.monotonic() + self._refill_seconds

    @property
    def _refill_seconds(self) -> float:
        return self.burst / self.rate

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, caller: str, cost: float = 1.0) -> None:
        """Spend ``cost`` of ``caller``'s budget, or raise ``RateLimited``."""
        now = time.monotonic()
        if self.shared is not None:
            with self._lock:  # the table's locks are the process's: threads take turns here
                wait = self.shared.take(caller, cost, self.rate, self.burst, now)
            if wait:
                raise RateLimited(caller, wait)
            return
        with self._lock:
            if now >= self._next_prune or len(self._buckets) >= self.max_callers:
                self._prune(now)
            tokens, last = self._buckets.get(caller, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < cost:
                self._buckets[caller] = (tokens, now)
                raise RateLimited(caller, (cost - tokens) / self.rate)
            self._buckets[caller] = (tokens - cost, now)

    def _prune(self, now: float) -> None:
        full = self._refill_seconds
        self._buckets = {c: (t, last) for c, (t, last) in self._buckets.items() if now - last < full}
        if len(self._buckets) >= self.max_callers:  # a flood of fresh callers: forget the oldest half
            keep = sorted(self._buckets.items(), key=lambda item: item[1][1])[len(self._buckets) // 2:]
            self._buckets = dict(keep)
        self._next_prune = now + full


class InFlightLimit:
    """At most ``limit`` calls in flight per caller (a slow call cannot be multiplied)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, caller: str) -> None:
        with self._lock:
            count = self._counts.get(caller, 0)
            if count >= self.limit:
                raise TooManyInFlight(caller, 1.0, f"limit of {self.limit} calls in flight")
            self._counts[caller] = count + 1

    def leave(self, caller: str) -> None:
        with self._lock:
            count = self._counts.get(caller, 1) - 1
            if count <= 0:
                self._counts.pop(caller, None)
            else:
                self._counts[caller] = count


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` in whole seconds (RFC 9110), never 0 for a wait that is not over."""
    return str(max(1, math.ceil(seconds)))
