"""Writer API keys: printed once at creation, stored only as SHA-256 hashes."""
from __future__ import annotations

import hashlib
import re
import secrets
import time

from notary.errors import Forbidden, InvalidEvent, Unauthenticated
from notary.models import ApiKey
from notary.store import SqlStore

KEY_PREFIX = "lzk_"


class KeyNameError(InvalidEvent):
    code = "invalid_key_name"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: SqlStore, name: str) -> str:
    """A new secret for writer ``name``; only its hash is kept."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise KeyNameError("key name must be 1-64 letters, digits, '.', '_' or '-'")
    if store.key_by_name(name) is not None:
        raise KeyNameError(f"a key named {name!r} already exists")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    store.add_key(ApiKey(name=name, key_hash=_hash(secret), created_at=time.time()))
    return secret


def authenticate(store: SqlStore, secret: str | None) -> str:
    """The writer name for ``secret``; 401 when absent, 403 when unknown or revoked."""
    if not secret:
        raise Unauthenticated("this endpoint needs a writer API key (Authorization: Bearer <key>)")
    if len(secret) > 200:
        raise Forbidden("API key not recognised")
    key = store.key_by_hash(_hash(secret))
    if key is None or key.revoked:
        raise Forbidden("API key not recognised")
    return key.name
