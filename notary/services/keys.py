"""API keys: printed once at creation, stored only as SHA-256 hashes.

A *writer* key logs events (and reads its own events in full); a *reader* key logs nothing
and reads every event in full (payloads, document names): supervisors, archive staff. A
*rules* key is a rules engine running outside the notary (the tender and expert CLIs): it
writes like a writer and may also write the rule types (``sdk.event_types``), which no
writer key may. Without a key, reads show the public form only. A revoked key stops
working within ``KeyCache.ttl`` seconds.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass

from lianzheng.notary.errors import Forbidden, KeyNameError, NotFound, Unauthenticated
from lianzheng.notary.models import ApiKey
from lianzheng.notary.store import SqlStore
from lianzheng.sdk.event_types import RULES_ENGINE

KEY_PREFIX = "lzk_"
ROLES = ("writer", "reader", "rules", "operator")
WRITING_ROLES = ("writer", "rules")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(store: SqlStore, name: str, role: str = "writer") -> str:
    """A new secret for ``name`` with ``role``; only its hash is kept."""
    if role not in ROLES:
        raise KeyNameError(f"key role must be one of {', '.join(ROLES)}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise KeyNameError("key name must be 1-64 letters, digits, '.', '_' or '-'")
    if name == RULES_ENGINE:
        raise KeyNameError(f"{RULES_ENGINE!r} is the notary's own rules engine: choose another name")
    if store.key_by_name(name) is not None:
        raise KeyNameError(f"a key named {name!r} already exists")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    store.add_key(ApiKey(name=name, key_hash=_hash(secret), role=role, created_at=time.time()))
    return secret


def list_keys(store: SqlStore) -> list[ApiKey]:
    return store.keys()


def revoke_key(store: SqlStore, name: str) -> None:
    """Revoke ``name``'s key for good (its events stay in the log)."""
    if not store.revoke_key(name):
        raise NotFound(f"no key named {name!r}")


@dataclass(frozen=True)
class Viewer:
    """Who calls: a key's name and role, or nobody (``ANONYMOUS``)."""

    name: str | None
    role: str | None

    def sees_payload_of(self, writer: str) -> bool:
        """Full events for readers, and for a writing key its own events; the public form otherwise."""
        return self.role == "reader" or (self.role in WRITING_ROLES and self.name == writer)

    @property
    def writes_rules(self) -> bool:
        return self.role == "rules"


ANONYMOUS = Viewer(None, None)
RULES = Viewer(RULES_ENGINE, "rules")  # the notary's in-process rules engine


UNKNOWN_KEY = ("API key not recognised (revoked, or made for another notary: keys live in the server's data dir "
               "or database, so run `lianzheng keys add` with the server's --data-dir or LIANZHENG_DATA_DIR)")


class KeyCache:
    """Recently verified keys (hash → writer), so a busy writer costs no query per request.

    Entries expire after ``ttl`` seconds: a key revoked in the store stops working within it (and
    the one query that re-reads it). Unknown keys are not cached, so a key created while the
    server runs works at once. One request re-reads an expired key while the others go on with
    the entry it replaces (hundreds of concurrent writers of one key cost one query, not hundreds).
    """

    def __init__(self, store: SqlStore, ttl: float = 2.0) -> None:
        self.store, self.ttl = store, ttl
        self._known: dict[str, tuple[str, str, float]] = {}
        self._reading: set[str] = set()
        self._digests: dict[str, str] = {}  # key → its SHA-256 (a write costs no hashing of its key)
        self._lock = threading.Lock()

    def cached(self, secret: str | None) -> Viewer | None:
        """The writing key for ``secret`` when known without a query (None: ask ``authenticate``)."""
        if not secret or len(secret) > 200:
            return None
        digest = self._digests.get(secret)
        if digest is None:
            digest = _hash(secret)
            if len(self._digests) > 10_000:
                self._digests.clear()
            self._digests[secret] = digest
        cached = self._known.get(digest)
        if cached is None or cached[1] not in WRITING_ROLES:
            return None
        now = time.monotonic()
        if cached[2] > now or (digest in self._reading and cached[2] + self.ttl > now):
            return Viewer(cached[0], cached[1])
        return None

    def authenticate(self, secret: str | None) -> Viewer:
        """The writing key for ``secret``; 401 when absent, 403 when unknown, revoked or a reader's."""
        if not secret:
            raise Unauthenticated("this endpoint needs a writer API key (Authorization: Bearer <key>)")
        name, role = self.identify(secret)
        if role not in WRITING_ROLES:
            raise Forbidden(f"a {role} key cannot write; this endpoint needs a writer key")
        return Viewer(name, role)

    def operator(self, secret: str | None) -> Viewer:
        """The operator key for ``secret`` (registries, key holders); 401 when absent, 403 otherwise."""
        if not secret:
            raise Unauthenticated("this endpoint needs an operator API key (Authorization: Bearer <key>)")
        name, role = self.identify(secret)
        if role != "operator":
            raise Forbidden(f"a {role} key cannot do this; it needs a key of role operator "
                            "(lianzheng keys add --role operator)")
        return Viewer(name, role)

    def identify(self, secret: str) -> tuple[str, str]:
        """(name, role) of a key; 403 when unknown or revoked."""
        if len(secret) > 200:
            raise Forbidden(UNKNOWN_KEY)
        digest = _hash(secret)
        cached = self._known.get(digest)
        now = time.monotonic()
        if cached and cached[2] > now:
            return cached[0], cached[1]
        with self._lock:
            if cached and digest in self._reading and cached[2] + self.ttl > now:  # someone re-reads it now
                return cached[0], cached[1]
            self._reading.add(digest)
        try:
            key = self.store.key_by_hash(digest)
        finally:
            with self._lock:
                self._reading.discard(digest)
        if key is None or key.revoked:
            self._known.pop(digest, None)
            raise Forbidden(UNKNOWN_KEY)
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[digest] = (key.name, key.role, now + self.ttl)
        return key.name, key.role
