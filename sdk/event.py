"""Trading events, their canonical salted form (RFC 8785), and their public form.

An event is a JSON object ``{id?, type, region, project, section?, occurred_at, actor,
public?, payload?, documents?, prev, salt}``. The notary adds ``salt`` (32 random bytes, hex)
and ``prev``: the digest of the previous event of the same project and section in its log
(``GENESIS``, 64 zeros, for the first). ``prev`` is public, so the events of a section form a
hash chain: a timeline or certificate that leaves one out, or splices in another's, breaks it.

What the log commits to is the event's *public form*: the public fields (id, type, region,
project, section, occurred_at, actor, ``public``, ``prev``), the documents' hashes, and
``sealed`` = H(JCS({payload, documents, salt})), a salted commitment to the rest. So anyone
can check the public form of an event (and that it references a document) without seeing
its payload or document names, while the holder of the full event checks all of it:

    digest = H(JCS(public form))        leaf = H(0x00 ‖ digest)

``public`` holds what the writer publishes (rule outcomes, announcements); ``payload`` what
only writers and reader-key holders may see. H is the log's hash (SHA-256 or SM3).

Events stay plain dicts, checked against one schema (a pydantic TypedDict): validation
returns the very dict that is canonicalized, with no model round trip on the hot path.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any

import rfc8785
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import NotRequired, TypedDict

from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.errors import MalformedError, first_invalid
from lianzheng.sdk.merkle import Hasher

MAX_EVENT_BYTES = 64 * 1024
MAX_DOCUMENTS = 100
MAX_PAYLOAD_DEPTH = 32
OPTIONAL = ("id", "section", "public", "payload", "documents", "prev", "salt")
PUBLIC_FIELDS = ("id", "type", "region", "project", "section", "occurred_at", "actor", "public", "prev")
GENESIS = "0" * 64  # the ``prev`` of the first event of a section
SEALED_FIELDS = ("payload", "documents", "salt")

# I-JSON (RFC 7493 §2.2): numbers beyond ±(2**53 - 1) are not exact across JSON implementations
# (2**64 parses as 18446744073709552000 in most), so they are refused, never rounded.
MAX_EXACT_NUMBER = 2**53 - 1
# Ids, projects and sections appear in URL paths and queries: only RFC 3986 unreserved
# characters (no '/', ':', '%', '~'), so every URL that takes one works unescaped.
IDENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

Hex32 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Ident = Annotated[str, StringConstraints(pattern=IDENT_PATTERN)]
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")


def _rfc3339(value: str) -> str:
    if not _RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time with offset, e.g. 2026-11-23T09:30:00+08:00")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _depth(value: Any) -> int:
    """How deep containers nest in ``value`` (1: a scalar or an empty container), counted up to
    one level past the limit. Iterative: it runs on every event's payload."""
    deepest, stack = 1, [(value, 1)]
    while stack:
        v, level = stack.pop()
        if level > deepest:
            deepest = level
            if deepest > MAX_PAYLOAD_DEPTH:
                return deepest
        t = type(v)
        if t is dict:
            stack.extend((item, level + 1) for item in v.values() if type(item) in (dict, list))
            if v and level + 1 > deepest and any(type(i) not in (dict, list) for i in v.values()):
                deepest = level + 1
        elif t is list:
            stack.extend((item, level + 1) for item in v if type(item) in (dict, list))
            if v and level + 1 > deepest and any(type(i) not in (dict, list) for i in v):
                deepest = level + 1
    return deepest


def _shallow(value: dict[str, Any]) -> dict[str, Any]:
    if _depth(value) > MAX_PAYLOAD_DEPTH:
        raise ValueError(f"payload nests deeper than {MAX_PAYLOAD_DEPTH} levels")
    return value


@with_config(ConfigDict(extra="forbid"))
class Document(TypedDict):
    """A file referenced by an event: only its hashes leave the trading centre (原始数据不出域)."""

    sha256: Hex32
    sm3: NotRequired[Hex32 | None]
    name: NotRequired[Text | None]


@with_config(ConfigDict(extra="forbid", title="Event"))
class Event(TypedDict):
    """A trading event as the notary logs it."""

    id: NotRequired[Annotated[Ident | None, Field(description="the trading system's own id; the idempotency key")]]
    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=64),
                    Field(description="e.g. tender.announced, bid.submitted, archive.filed")]
    region: Annotated[str, StringConstraints(pattern=r"^[1-8][0-9]{5}$"),
                      Field(description="GB/T 2260 administrative code, e.g. 370000")]
    project: Ident
    section: NotRequired[Ident | None]
    occurred_at: Annotated[str, AfterValidator(_rfc3339),
                           Field(description="RFC 3339 time with offset, e.g. 2026-11-23T09:30:00+08:00")]
    actor: Text
    public: NotRequired[Annotated[dict[str, Any], AfterValidator(_shallow),
                                  Field(description="what the writer publishes: shown to everyone")] | None]
    payload: NotRequired[Annotated[dict[str, Any], AfterValidator(_shallow)] | None]
    documents: NotRequired[Annotated[list[Document], Field(max_length=MAX_DOCUMENTS)] | None]
    prev: NotRequired[Annotated[Hex32 | None, Field(description="set by the notary: digest of the section's "
                                                                "previous event")]]
    salt: NotRequired[Annotated[Hex32 | None, Field(description="set by the notary, never by the sender")]]


EVENT_SCHEMA = TypeAdapter(Event)


@with_config(ConfigDict(extra="forbid"))
class DocumentHashes(TypedDict):
    sha256: Hex32
    sm3: NotRequired[Hex32]


@with_config(ConfigDict(extra="forbid", title="PublicEvent"))
class PublicEvent(TypedDict):
    """The public form of a notarized event: what anyone may see and check."""

    id: NotRequired[Ident]
    type: str
    region: Annotated[str, StringConstraints(pattern=r"^[1-8][0-9]{5}$")]
    project: Ident
    section: NotRequired[Ident]
    occurred_at: Annotated[str, AfterValidator(_rfc3339)]
    actor: Text
    public: NotRequired[Annotated[dict[str, Any], AfterValidator(_shallow)]]
    documents: NotRequired[Annotated[list[DocumentHashes], Field(max_length=MAX_DOCUMENTS)]]
    prev: NotRequired[Hex32]
    sealed: Annotated[Hex32, Field(description="H(JCS({payload, documents, salt})) of the full event")]


PUBLIC_SCHEMA = TypeAdapter(PublicEvent)


def _strict(value: Any, where: str) -> None:
    """Refuse what one logical event could be written two ways for: numbers JSON cannot carry
    exactly, and strings (or keys) not in Unicode NFC (NFC and NFD "é" hash differently)."""
    stack = [(value, where)]
    while stack:
        v, at = stack.pop()
        t = type(v)
        if t is str:
            if not v.isascii() and not unicodedata.is_normalized("NFC", v):
                raise MalformedError(f"invalid event: {at}: text must be Unicode NFC (normalize it before sending)",
                                     field=at)
        elif t is int or t is float:
            if not -MAX_EXACT_NUMBER <= v <= MAX_EXACT_NUMBER:
                raise MalformedError(f"invalid event: {at}: number {v!r} is beyond ±(2^53-1), which JSON cannot "
                                     f"carry exactly (RFC 7493): send it as a string", field=at)
        elif t is dict:
            for k, item in v.items():
                if type(k) is str and not k.isascii() and not unicodedata.is_normalized("NFC", k):
                    raise MalformedError(f"invalid event: {at}: key {k!r} must be Unicode NFC", field=at)
                stack.append((item, f"{at}.{k}"))
        elif t is list:
            stack.extend((item, f"{at}[{i}]") for i, item in enumerate(v))


def _inspect(value: Any) -> bool | None:
    """``_strict`` and ``canonical.is_simple`` in one pass without paths (the hot path of every
    event): None when ``_strict`` would refuse ``value`` (run it to learn where), else whether
    ``canonical_json``'s fast path gives its JCS form."""
    simple, stack = True, [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        v = pop()
        t = type(v)
        if t is str:
            if not v.isascii() and not unicodedata.is_normalized("NFC", v):
                return None
        elif t is dict:
            for k in v:
                if type(k) is not str:
                    simple = False
                elif not k.isascii():
                    simple = False
                    if not unicodedata.is_normalized("NFC", k):
                        return None
            extend(v.values())
        elif t is list:
            extend(v)
        elif t is int:
            if not -MAX_EXACT_NUMBER <= v <= MAX_EXACT_NUMBER:
                return None
        elif t is float:
            simple = False
            if not -MAX_EXACT_NUMBER <= v <= MAX_EXACT_NUMBER:
                return None
        elif v is not None and t is not bool:
            simple = False
    return simple


def _first_error(exc: ValidationError, what: str) -> MalformedError:
    return first_invalid(exc, what, "event", errors=exc.errors())


def parse_event(data: Any) -> dict[str, Any]:
    """The validated event (absent and null optional fields dropped), or ``MalformedError``."""
    return inspect_event(data)[0]


def inspect_event(data: Any) -> tuple[dict[str, Any], bool]:
    """``parse_event``, and whether the event (and so anything made of its parts, strings and
    integers: its salted, linked and public forms) is JCS-simple (``canonical.is_simple``)."""
    try:
        event = EVENT_SCHEMA.validate_python(data)
    except ValidationError as exc:
        raise _first_error(exc, "invalid event") from exc
    simple = _inspect(event)
    if simple is None:
        for key, value in event.items():
            _strict(value, key)  # raises, naming where
    for key in OPTIONAL:
        if key in event and event[key] is None:
            del event[key]
    for doc in event.get("documents", ()):
        for key in ("sm3", "name"):
            if key in doc and doc[key] is None:
                del doc[key]
    return event, bool(simple)


def canonical_bytes(event: dict[str, Any], *, known_simple: bool = False) -> bytes:
    """RFC 8785 bytes; ``MalformedError`` when the event has none or exceeds the size limit.
    ``known_simple`` as for ``canonical_json``."""
    try:
        data = canonical_json(event, known_simple=known_simple)
    except rfc8785.CanonicalizationError as exc:
        raise MalformedError(f"event cannot be canonicalized (RFC 8785): {exc}") from exc
    if len(data) > MAX_EVENT_BYTES:
        raise MalformedError(f"event is {len(data)} bytes canonical, limit {MAX_EVENT_BYTES}")
    return data


def is_public_form(event: dict[str, Any]) -> bool:
    return "sealed" in event and "salt" not in event


def public_form(event: dict[str, Any], h: Hasher, *, known_simple: bool = False) -> dict[str, Any]:
    """The public form of a notarized (salted) event; a public form is returned as it is.
    ``known_simple``: ``event`` is JCS-simple (``inspect_event``), so its sealed part is too."""
    if is_public_form(event):
        return event
    if not event.get("salt"):
        raise MalformedError("event has no salt: only a notarized event has a public form")
    shown = {k: event[k] for k in PUBLIC_FIELDS if k in event}
    if event.get("documents"):
        shown["documents"] = [{k: d[k] for k in ("sha256", "sm3") if k in d} for d in event["documents"]]
    sealed = {k: event[k] for k in SEALED_FIELDS if k in event}
    shown["sealed"] = h.digest(canonical_json(sealed, known_simple=known_simple)).hex()
    return shown


def parse_public_event(data: Any) -> dict[str, Any]:
    """A validated public form, or ``MalformedError``."""
    try:
        event = PUBLIC_SCHEMA.validate_python(data)
    except ValidationError as exc:
        raise _first_error(exc, "invalid public event") from exc
    for key, value in event.items():
        _strict(value, key)
    return event


def event_digest(event: dict[str, Any], h: Hasher) -> bytes:
    """H(JCS(public form)) of a notarized event (full or public form): the data of its log leaf."""
    return h.digest(canonical_bytes(public_form(event, h)))


def document_hashes(event: dict[str, Any]) -> set[str]:
    return {d["sha256"] for d in event.get("documents", ())}
