"""The notary log: accepts events, keeps the Merkle tree, issues receipts and proofs.

Appends are serialized under one lock: an index is assigned, each event is linked to the
previous event of its project and section (``prev``, see ``sdk.event``), the batch is
committed to the store (durable) with the tree tiles it grows (``notary.tiles``), and only
then does the tree's in-memory right edge move and the caller get its answer. On start only
that right edge is read, whatever the log's size; section heads are looked up when first
needed and kept in a bounded cache. Several processes may append to one store: an index
another process took makes the commit fail as a whole, and it is redone after catching up.
"""
from __future__ import annotations

import base64
import copy
import json
import logging
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from lianzheng.notary.errors import (
    BadRange,
    DuplicateEventId,
    IdConflict,
    InvalidEvent,
    NotaryError,
    NotFound,
    ReservedType,
    Unavailable,
    WrongRegion,
)
from lianzheng.notary.services.keys import Viewer
from lianzheng.notary.store import LogStore
from lianzheng.notary.tiles import MissingTiles, TileTree, backfill
from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.checkpoint import Checkpoint, SignedNote, TlogProof
from lianzheng.sdk.errors import MalformedError
from lianzheng.sdk.event import GENESIS, canonical_bytes, document_hashes, inspect_event, public_form
from lianzheng.sdk.event_types import is_rule_type
from lianzheng.sdk.merkle import Hasher
from lianzheng.sdk.receipt import RECEIPT_FORMAT, LogInfo, Receipt

log = logging.getLogger("lianzheng.log")

MAX_RANGE = 5000  # entries per page (a mirror pages through the whole log)
MAX_HEADS = 100_000  # section heads kept in memory; older ones are read from the store again
APPEND_ATTEMPTS = 4  # a commit redone after finding retried ids
# Seconds writers wait for the store's write lock: another process that hangs holding it (stopped,
# or stuck on a dead disk) costs this process's writers a 503 after this long, not a wait without end.
WRITE_LOCK_TIMEOUT = 10.0

Head = tuple[str, str | None]  # (project, section)


@dataclass(frozen=True)
class _Prepared:
    event_id: str
    given_id: bool
    wire: dict[str, Any]
    documents: list[bytes]
    simple: bool  # JCS-simple (``sdk.event.inspect_event``): canonicalized without walking it again
    shown: dict[str, Any]  # its public form but ``prev`` (the sealed hash made before sequencing)

    @property
    def head(self) -> Head:
        return self.wire["project"], self.wire.get("section")


@dataclass
class _Request:
    prepared: list[_Prepared]
    writer: str
    results: list["Accepted"] = field(default_factory=list)
    error: Exception | None = None
    callback: Callable[["_Request"], None] | None = None


@dataclass(frozen=True)
class Accepted:
    event_id: str
    index: int
    digest: bytes
    duplicate: bool
    canonical: bytes = b""  # the notarized event's RFC 8785 bytes (with salt) when newly logged


class NotaryLog:
    def __init__(self, store: LogStore, h: Hasher, region: str, origin: str) -> None:
        self.store, self.hasher, self.region, self.origin = store, h, region, origin
        self.info = LogInfo(origin=origin, region=region, hash=h.name)
        self._log_json = orjson.dumps(self.info.model_dump())
        self.tree = _open_tree(store, h)
        self._commit_lock = threading.Lock()
        self._queue_cond = threading.Condition()
        self._queue: list[_Request] = []
        self._sequencer: threading.Thread | None = None
        self._lock_wait_since: float | None = None  # the sequencer waits for the store's write lock
        self._stalled = False  # ... and has for WRITE_LOCK_TIMEOUT: writers are refused at once
        self._listeners: list[Callable[[int], None]] = []
        self._heads: OrderedDict[Head, bytes] = OrderedDict()  # section → digest of its newest event
        self._anchored: tuple[int, float] = (0, 0.0)  # latest anchored size seen, and when it was read

    def __len__(self) -> int:
        return len(self.tree)

    def refresh(self) -> int:
        """``catch_up`` under the commit lock; the size."""
        with self._commit_lock:
            return self.catch_up()

    def catch_up(self) -> int:
        """Take what other processes appended to the store: the tree's right edge is read again
        and the section heads they moved are taken (all forgotten after a long absence). Returns
        the size. Caller holds the commit lock, or accepts that a local commit may follow."""
        size, mine = self.store.size(), len(self.tree)
        if size != mine:
            self.tree.reload(size)
            if size - mine > MAX_HEADS:
                self._heads.clear()
            else:
                self._remember({(p, s): d for p, s, d in self.store.heads_between(mine, size)})
        return size

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(size)`` after each commit that logged something new (in the sequencer's
        thread: it must be quick, e.g. set an event)."""
        self._listeners.append(listener)

    def root(self, size: int) -> bytes:
        """The tree head at ``size`` (``BadRange`` beyond the log)."""
        return self.tree.root(self._check_size(size))

    # --- writing ---------------------------------------------------------------

    def _parse(self, i: int, raw: Any, rules: bool) -> tuple[dict[str, Any], bool]:
        if not isinstance(raw, dict):
            raise InvalidEvent(f"events[{i}] is not a JSON object", index=i)
        for field_ in ("salt", "prev"):
            if raw.get(field_) is not None:
                raise InvalidEvent(f"events[{i}].{field_}: the {field_} is set by the notary", index=i, field=field_)
        try:
            event, simple = inspect_event(raw)
        except MalformedError as exc:
            raise InvalidEvent(f"events[{i}]: {exc}", index=i, field=exc.evidence.get("field"),
                               errors=_plain(exc.evidence.get("errors"))) from exc
        if event["region"] != self.region:
            raise WrongRegion(f"events[{i}].region {event['region']} is not this notary's region {self.region}",
                              index=i)
        if not rules and is_rule_type(event["type"]):
            raise ReservedType(f"events[{i}].type {event['type']!r} is written by the rules engine only",
                               index=i, type=event["type"])
        return event, simple

    def submit(self, raw_events: Sequence[Any], writer: str, rules: bool = False) -> list[Accepted]:
        """Log events durably; a retried id returns its first answer, a reused id is refused.

        ``rules``: the writer is the rules engine, which alone may write rule types. An id
        belongs to the writer that used it first: another writer's retry of it is refused
        whatever it holds (409), so a guess at someone's payload is never confirmed.
        """
        request = self.prepare(raw_events, writer, rules)
        done = threading.Event()
        self.enqueue(request, lambda _: done.set())
        done.wait()
        return self.outcome(request)

    def prepare(self, raw_events: Sequence[Any], writer: str, rules: bool = False) -> _Request:
        """Validate, salt and hash a request's events in the caller's thread (``InvalidEvent`` …)."""
        # One getrandom call per request, not per event (a syscall per event cost ~10% here).
        salts = os.urandom(32 * len(raw_events)).hex()
        prepared = [self._prepare(i, *self._parse(i, raw, rules), salts[64 * i:64 * i + 64])
                    for i, raw in enumerate(raw_events)]
        return _Request(prepared, writer)

    def enqueue(self, request: _Request, done: Callable[[_Request], None]) -> None:
        """Hand a prepared request to the sequencer; ``done(request)`` is called from the sequencer's
        thread once it is committed (or refused; at once when the store's write lock is held by a
        process that hangs, see ``_watch``): it must be quick (set an event or a future).

        The sequencer commits whatever queued up while it was busy in one transaction (group
        commit): one fsync serves every waiting writer, however many, and no thread waits per
        request.
        """
        request.callback = done
        with self._queue_cond:
            if self._sequencer is None:  # (started before anything is queued: a failed start queues nothing)
                sequencer = threading.Thread(target=self._sequence, name="sequencer", daemon=True)
                watch = threading.Thread(target=self._watch, name="write-lock-watch", daemon=True)
                sequencer.start()
                watch.start()
                self._sequencer = sequencer
            stalled = self._stalled
            if not stalled:
                self._queue.append(request)
                self._queue_cond.notify()
        if stalled:
            self._refuse([request], _lock_held)

    def outcome(self, request: _Request) -> list[Accepted]:
        """A committed request's answers (raises what refused it)."""
        if request.error is not None:
            raise request.error
        return request.results

    def _sequence(self) -> None:
        while True:
            with self._queue_cond:
                while not self._queue:
                    self._queue_cond.wait()
                self._lock_wait_since = time.monotonic()
            # Processes sharing the store take turns: the store's write lock first, then what
            # queued up meanwhile (the commit lock is never held while another process is waited
            # for: readers that catch up go on).
            group: list[_Request] = []
            committed = False
            try:
                with self.store.write_lock():
                    with self._queue_cond:
                        self._lock_wait_since, self._stalled = None, False
                        group, self._queue = self._queue, []
                    with self._commit_lock:
                        self._commit_queued(group)  # sets each request's answer or error
                    committed = True
            except Exception as exc:  # noqa: BLE001 - the lock failed (its database gone): the sequencer goes on
                log.error("the store's write lock failed: %s", exc)
                with self._queue_cond:
                    self._lock_wait_since, self._stalled = None, False
                    waiting, self._queue = self._queue, []
                # (a group committed before its lock's release failed keeps its answers)
                self._refuse(waiting + ([] if committed else group), _storage_failed)
                if not committed:
                    group = []
            if self._listeners and any(not a.duplicate for r in group for a in r.results):
                for listener in self._listeners:
                    try:
                        listener(len(self.tree))
                    except Exception:  # noqa: BLE001 - the sequencer must outlive a listener
                        log.exception("a commit listener failed")
            self._answer(group)

    def _watch(self) -> None:
        """Refuse the waiting writers once the sequencer has waited ``WRITE_LOCK_TIMEOUT`` for the
        store's write lock, and every writer after them until it gets it (``enqueue``)."""
        while True:
            time.sleep(min(1.0, WRITE_LOCK_TIMEOUT / 4))
            with self._queue_cond:
                since = self._lock_wait_since
                if since is None or time.monotonic() - since < WRITE_LOCK_TIMEOUT:
                    continue
                if not self._stalled:
                    log.error("the store's write lock has been held by another process for %g s", WRITE_LOCK_TIMEOUT)
                self._stalled = True
                waiting, self._queue = self._queue, []
            self._refuse(waiting, _lock_held)

    def _refuse(self, requests: list[_Request], error: Callable[[], NotaryError]) -> None:
        for request in requests:  # an error each: a raised exception collects its traceback
            request.results, request.error = [], error()
        self._answer(requests)

    @staticmethod
    def _answer(requests: list[_Request]) -> None:
        for request in requests:
            # Taken off the request before it is called: the callback holds the waiter's future,
            # whose result is the request — a reference cycle per write otherwise, freed only by
            # the cyclic collector (measured: ~40,000 objects a collection, 20–50 ms pauses).
            callback, request.callback = request.callback, None
            try:
                callback(request)
            except Exception:  # noqa: BLE001 - one waiter's failure must not stop the sequencer
                log.exception("a writer's completion callback failed")

    def _prepare(self, i: int, event: dict[str, Any], simple: bool, salt: str) -> _Prepared:
        given = "id" in event
        if not given:
            event["id"] = uuid.uuid4().hex
        event["salt"] = salt
        try:
            # the size limit, with the link it will get
            canonical_bytes({**event, "prev": GENESIS}, known_simple=simple)
        except MalformedError as exc:
            raise InvalidEvent(f"events[{i}]: {exc}", index=i) from exc
        documents = sorted(bytes.fromhex(h) for h in document_hashes(event))
        return _Prepared(event["id"], given, event, documents, simple,
                         public_form(event, self.hasher, known_simple=simple))

    def _head(self, head: Head, pending: dict[Head, bytes]) -> bytes:
        """The digest of the newest event of a section: in this commit, cached, or stored."""
        if head in pending:
            return pending[head]
        digest = self._heads.get(head)
        if digest is None:
            digest = self.store.last_digest_of(*head) or bytes.fromhex(GENESIS)
        else:
            self._heads.move_to_end(head)
        return digest

    def _link(self, p: _Prepared, pending: dict[Head, bytes]) -> tuple[bytes, bytes]:
        """Link the event to its section's newest one; its canonical bytes and digest (in the
        sequencer, one at a time: only what needs ``prev`` is done here)."""
        p.wire["prev"] = prev = self._head(p.head, pending).hex()
        canonical = canonical_json(p.wire, known_simple=p.simple)
        digest = self.hasher.digest(canonical_json({**p.shown, "prev": prev}, known_simple=p.simple))
        pending[p.head] = digest
        return canonical, digest

    def _remember(self, pending: dict[Head, bytes]) -> None:
        for head, digest in pending.items():
            self._heads[head] = digest
            self._heads.move_to_end(head)
        while len(self._heads) > MAX_HEADS:
            self._heads.popitem(last=False)

    def _commit_queued(self, group: list[_Request]) -> None:
        """Commit the requests that queued up in one transaction (caller holds the store's write
        lock and the commit lock); each gets its answers or its error."""
        if not group:
            return
        try:
            # Catch up with the other processes' appends first. Most ids are new, so insert at
            # once and let the unique index on event_id find retries; only then look the group's
            # ids up and redo it.
            self.catch_up()
            known: dict[str, tuple[int, Any, str]] = {}
            for attempt in range(APPEND_ATTEMPTS):
                rows, docs, heads = self._rows(group, known)
                growth = self.tree.extend([row["digest"] for row in rows])
                try:
                    if rows:
                        self.store.append(rows, docs, growth.tiles)
                    break
                except DuplicateEventId:
                    if attempt == APPEND_ATTEMPTS - 1:
                        raise Unavailable("the log is busy: commits kept colliding with other writers; "
                                          "nothing of this request was logged, send it again") from None
                    self.catch_up()  # (every writer appends under the lock: mixed versions are unsupported)
                    known = self.store.ids([p.event_id for r in group for p in r.prepared if p.given_id])
            self.tree.apply(growth)
            self._remember(heads)
        except Exception as exc:  # noqa: BLE001 - every caller of the group learns of the failure
            if isinstance(exc, NotaryError):
                failure = exc
            else:  # the text stays in the server's log: it may quote other writers' events
                log.error("storage failed: %s", exc)
                failure = _storage_failed()
            for request in group:
                if request.error is None:  # an error each: a raised exception collects its traceback
                    request.results, request.error = [], copy.copy(failure)

    def _rows(self, group: list[_Request], known: dict[str, tuple[int, Any, str]]) -> tuple[list, list, dict]:
        rows: list[dict[str, Any]] = []
        docs: list[dict[str, Any]] = []
        heads: dict[Head, bytes] = {}
        size, now = len(self.tree), time.time()
        for request in group:
            request.results, request.error = [], None
            self._assign(request, known, size, rows, docs, heads, now)
        return rows, docs, heads

    def _assign(self, request: _Request, known: dict[str, tuple[int, Any, str]], size: int,
                rows: list[dict[str, Any]], docs: list[dict[str, Any]], heads: dict[Head, bytes],
                now: float) -> None:
        """Indices for one request's new events; a conflicting id refuses the whole request."""
        results: list[Accepted] = []
        mine: dict[str, tuple[int, Any, str]] = {}
        new_rows: list[dict[str, Any]] = []
        new_docs: list[dict[str, Any]] = []
        linked = dict(heads)  # a refused request links nothing
        for p in request.prepared:
            seen = mine.get(p.event_id) or (known.get(p.event_id) if p.given_id else None)
            if seen is not None:
                index, existing, owner = seen
                if owner != request.writer:
                    # Same answer whether or not the event matches: nothing of the owner's leaks.
                    request.error = IdConflict(f"event id {p.event_id!r} belongs to another writer",
                                               event_id=p.event_id)
                    return
                if not _same_event(existing, p.wire):
                    request.error = IdConflict(f"event id {p.event_id!r} was already used for a different event",
                                               event_id=p.event_id)
                    return
                results.append(Accepted(p.event_id, index, b"", True))
                continue
            index = size + len(rows) + len(new_rows)
            canonical, digest = self._link(p, linked)
            mine[p.event_id] = (index, p.wire, request.writer)
            new_rows.append({"idx": index, "event_id": p.event_id, "digest": digest,
                             "event_json": canonical.decode(), "writer": request.writer, "received_at": now,
                             "project": p.wire["project"], "section": p.wire.get("section")})
            new_docs.extend({"sha256": sha, "idx": index} for sha in p.documents)  # raw 32-byte hashes
            results.append(Accepted(p.event_id, index, digest, False, canonical))
        known.update(mine)
        heads.update(linked)
        rows.extend(new_rows)
        docs.extend(new_docs)
        request.results = results

    # --- reading ---------------------------------------------------------------

    def receipt_json(self, accepted: Accepted) -> bytes:
        """The receipt of an accepted event as JSON bytes.

        A newly logged event's pending receipt is assembled from its canonical bytes
        (the hot path: no re-encoding, no database read); a retried id gets its stored receipt.
        """
        if accepted.duplicate:
            return self.receipt(accepted.event_id).model_dump_json().encode()
        return b"".join((
            b'{"format":"', RECEIPT_FORMAT.encode(), b'","status":"pending","event_id":',
            orjson.dumps(accepted.event_id), b',"event":', accepted.canonical, b',"event_digest":"',
            accepted.digest.hex().encode(), b'","log":', self._log_json, b',"index":',
            str(accepted.index).encode(), b',"proof":null,"anchor":null}',
        ))

    def receipt(self, event_id: str, viewer: Viewer | None = None) -> Receipt:
        """The receipt of ``event_id``: full for the notary itself (no viewer) and for a viewer who
        may see the payload, in public form (payload, document names and salt sealed) otherwise."""
        entry = self.store.entry_by_id(event_id)
        if entry is None:
            raise NotFound(f"no event with id {event_id!r}", event_id=event_id)
        event = json.loads(entry.event_json)
        if viewer is not None and not viewer.sees_payload_of(entry.writer):
            event = public_form(event, self.hasher)
        receipt = Receipt(status="pending", event_id=entry.event_id, event=event, event_digest=entry.digest.hex(),
                          log=self.info, index=entry.idx)
        anchor = self.store.anchor_covering(entry.idx)
        if anchor is None:
            return receipt
        size = self._check_size(anchor.tree_size)  # this process may lag the one that anchored
        proof = TlogProof(entry.idx, tuple(self.tree.inclusion_proof(entry.idx, size)), anchor.checkpoint)
        receipt.status = "anchored"
        receipt.proof = proof.text()
        receipt.anchor = anchor.as_anchor()
        receipt.cosignatures = [c.as_cosignature() for c in self.store.cosignatures_at(anchor.tree_size)]
        return receipt

    def _check_size(self, size: int | None) -> int:
        current = len(self.tree)
        if size is None:
            return current
        if size > current and self.store.size() >= size:  # another process grew the log
            with self._commit_lock:
                current = self.catch_up()
        if not 0 <= size <= current:
            raise BadRange(f"tree size {size} is outside 0..{current}", size=size, current=current)
        return size

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self._check_size(size)
        if not 0 <= index < size:
            raise BadRange(f"index {index} is outside 0..{size - 1}", index=index, size=size)
        return self.tree.inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        size2 = self._check_size(size2)
        if not 1 <= size1 <= size2:  # from the empty tree a proof proves nothing (verifiers refuse it)
            raise BadRange(f"from={size1} must be within 1..{size2}", size1=size1, size2=size2)
        return self.tree.consistency_proof(size1, size2)

    def _published(self, leaves: int) -> None:
        """Tiles are served up to the latest anchored checkpoint only: beyond it nothing is yet
        committed to in public, and what a CDN caches as immutable must be (``NotFound``)."""
        anchored, read_at = self._anchored
        if leaves > anchored and time.monotonic() - read_at > 0.2:  # it only grows: re-read when asked beyond
            anchored = self.anchored_size()
            self._anchored = (anchored, time.monotonic())
        if leaves > anchored:
            raise NotFound(f"beyond the latest anchored checkpoint (size {anchored})", anchored=anchored)
        if anchored > len(self.tree):  # anchored by another process's appends: take them
            with self._commit_lock:
                self.catch_up()

    def tile(self, level: int, index: int, width: int) -> bytes:
        """The C2SP tile (level, index) at ``width`` hashes (``NotFound`` beyond the anchored log)."""
        self._published((index * 256 + width) << (8 * level))
        data = self.tree.tile(level, index, width)
        if data is None:
            raise NotFound(f"no tile {level}/{index} of width {width} in a log of {len(self)} entries")
        return data

    def entry_bundle(self, index: int, width: int) -> bytes:
        """The C2SP entry bundle ``index`` of ``width`` entries: each leaf's data (its 32-byte event
        digest) after its length as two big-endian bytes."""
        self._published(index * 256 + width)
        data = self.tree.bundle(index, width)
        if data is None:
            raise NotFound(f"no entry bundle {index} of width {width} in a log of {len(self)} entries")
        return data

    def index_of(self, event_id: str) -> int:
        entry = self.store.entry_by_id(event_id)
        if entry is None:
            raise NotFound(f"no event with id {event_id!r}", event_id=event_id)
        return entry.idx

    def checkpoint(self, size: int | None = None) -> dict[str, Any]:
        """The latest anchored checkpoint, or the one anchored at ``size``: signed note and anchor."""
        anchor = self.store.latest_anchor("confirmed") if size is None else self.store.anchor_at(size)
        if anchor is None:
            raise NotFound("nothing anchored yet" if size is None else f"no checkpoint anchored at size {size}")
        checkpoint = Checkpoint.parse_body(SignedNote.parse(anchor.checkpoint).body)
        return {
            "origin": checkpoint.origin, "size": checkpoint.size, "root": base64.b64encode(checkpoint.root).decode(),
            "hash": self.hasher.name, "region": self.region, "note": anchor.checkpoint,
            "anchor": anchor.as_anchor().model_dump(), "log_size": len(self),
        }

    def anchored_size(self) -> int:
        latest = self.store.latest_anchor("confirmed")
        return latest.tree_size if latest else 0

    def documents(self, sha256: str, limit: int) -> list[dict[str, Any]]:
        """Events that reference a document: public metadata and whether each is anchored."""
        events = []
        for entry in self.store.entries_with_document(sha256, limit):
            ev = json.loads(entry.event_json)
            anchor = self.store.anchor_covering(entry.idx)
            events.append({
                "event_id": entry.event_id, "index": entry.idx, "type": ev["type"], "region": ev["region"],
                "project": ev["project"], "section": ev.get("section"), "occurred_at": ev["occurred_at"],
                "event_digest": entry.digest.hex(), "status": "anchored" if anchor else "pending",
                "anchored_block": anchor.block_number if anchor else None,
            })
        return events

    def entries(self, start: int, end: int) -> list[tuple[int, str, bytes]]:
        size = len(self.tree)
        if not 0 <= start < end or end - start > MAX_RANGE:
            raise BadRange(f"need 0 <= start < end and at most {MAX_RANGE} entries per page", start=start, end=end)
        return self.store.entry_rows(start, min(end, size))


def _storage_failed() -> Unavailable:
    return Unavailable("storage failed; nothing of this request was logged, send it again")


def _lock_held() -> Unavailable:
    return Unavailable(f"the log's write lock has been held by another process for over {WRITE_LOCK_TIMEOUT:g} s (it "
                       "may hang: see the other notary processes); nothing of this request was logged, send it again")


def _open_tree(store: LogStore, h: Hasher) -> TileTree:
    """The tree from the store's tiles; a log stored before tiles gets them built once."""
    size = store.size()
    try:
        return TileTree(h, size, store.tile)
    except MissingTiles:
        log.warning("building the tiles of a log of %d entries stored before tiles (once)", size)
        backfill(h, store.digests(), store.put_tiles)
        return TileTree(h, size, store.tile)


def _same_event(existing: str | dict[str, Any], wire: dict[str, Any]) -> bool:
    """Whether a retried event equals the logged one (ignoring the notary's salt and link)."""
    logged = dict(json.loads(existing) if isinstance(existing, str) else existing)
    fresh = dict(wire)
    for field_ in ("salt", "prev"):
        logged.pop(field_, None)
        fresh.pop(field_, None)
    return logged == fresh


def _plain(errors: Any) -> Any:
    """Pydantic error details made JSON-safe (they may hold exception objects)."""
    if not errors:
        return None
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg"))} for e in errors]
