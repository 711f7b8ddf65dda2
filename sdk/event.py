"""Trading events and their canonical, salted form (RFC 8785).

An event is ``{id, type, region, project, section?, occurred_at, actor, payload,
documents[], salt}``. The notary adds ``salt`` (32 random bytes) so that a low-entropy
payload (a price, a name) cannot be guessed from its public hash. The log leaf commits
to the digest of the canonical JSON: leaf = H(0x00 ‖ H(JCS(event))).
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import rfc8785
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from sdk.canonical import canonical_json
from sdk.errors import MalformedError
from sdk.merkle import Hasher

MAX_EVENT_BYTES = 64 * 1024
MAX_DOCUMENTS = 100
MAX_PAYLOAD_DEPTH = 32

Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]


class Document(BaseModel):
    """A file referenced by an event: only its hashes leave the trading centre (原始数据不出域)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sha256: Hex32
    sm3: Hex32 | None = None
    name: Text | None = None


class Event(BaseModel):
    """A trading event as the notary logs it."""

    model_config = ConfigDict(extra="forbid")

    id: Ident | None = Field(None, description="the trading system's own id; the idempotency key")
    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=64)]
    region: Annotated[str, StringConstraints(pattern=r"^[1-8][0-9]{5}$")] = Field(
        description="GB/T 2260 administrative code, e.g. 370000"
    )
    project: Ident
    section: Ident | None = None
    occurred_at: str = Field(description="RFC 3339 time with offset, e.g. 2026-11-23T09:30:00+08:00")
    actor: Text
    payload: dict[str, Any] = Field(default_factory=dict)
    documents: list[Document] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    salt: Hex32 | None = None

    @field_validator("occurred_at")
    @classmethod
    def _rfc3339(cls, value: str) -> str:
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", value):
            raise ValueError("must be an RFC 3339 date-time with offset")
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value

    @field_validator("payload")
    @classmethod
    def _shallow_payload(cls, value: dict[str, Any]) -> dict[str, Any]:
        if _depth(value) > MAX_PAYLOAD_DEPTH:
            raise ValueError(f"payload nests deeper than {MAX_PAYLOAD_DEPTH} levels")
        return value

    def wire(self) -> dict[str, Any]:
        """The JSON object that is canonicalized: unset optional fields are absent."""
        return self.model_dump(mode="json", exclude_none=True)

    def canonical(self) -> bytes:
        """RFC 8785 bytes; ``MalformedError`` when the event has none or exceeds the size limit."""
        return canonical_bytes(self.wire())

    def digest(self, h: Hasher) -> bytes:
        if self.salt is None:
            raise MalformedError("event has no salt: only a notarized event has a digest")
        return h.digest(self.canonical())

    def document_hashes(self) -> set[str]:
        return {d.sha256 for d in self.documents}


def canonical_bytes(wire: dict[str, Any]) -> bytes:
    try:
        data = canonical_json(wire)
    except rfc8785.CanonicalizationError as exc:
        raise MalformedError(f"event cannot be canonicalized (RFC 8785): {exc}") from exc
    if len(data) > MAX_EVENT_BYTES:
        raise MalformedError(f"event is {len(data)} bytes canonical, limit {MAX_EVENT_BYTES}")
    return data


def _depth(value: Any, level: int = 1) -> int:
    if level > MAX_PAYLOAD_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def parse_event(data: Any) -> Event:
    """An ``Event`` from decoded JSON, or ``MalformedError`` saying which field is wrong."""
    try:
        return Event.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise MalformedError(f"invalid event: {where}: {first['msg']}", errors=exc.errors()) from exc
