"""Per-writer request rate limit (token bucket): one writer cannot starve the others."""
from __future__ import annotations

import threading
import time

from notary.errors import NotaryError


class RateLimited(NotaryError):
    code, status = "rate_limited", 429

    def __init__(self, writer: str, retry_after: float) -> None:
        super().__init__(f"{writer!r} is over its request rate; retry in {retry_after:.2f} s",
                         retry_after=round(retry_after, 3))
        self.retry_after = retry_after


class RateLimiter:
    """``rate`` requests per second per writer, bursts up to ``burst`` requests."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, 2 * rate)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, writer: str) -> None:
        """Spend one request of ``writer``'s budget, or raise ``RateLimited``."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(writer, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[writer] = (tokens, now)
                raise RateLimited(writer, (1 - tokens) / self.rate)
            self._buckets[writer] = (tokens - 1, now)
