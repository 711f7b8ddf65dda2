"""Times as people and logs read them."""
from __future__ import annotations

from datetime import datetime, timezone


def utc_iso(seconds: int) -> str:
    """Unix seconds (a block time) as an RFC 3339 UTC time (``2026-11-23T09:30:00Z``)."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")
