"""An alliance node's mirror of another member's notary log (镜像), verified entry by entry.

The mirror copies the log's entries (their event digests: never payloads) and rebuilds the
RFC 9162 tree, accepting entries only up to a checkpoint anchored on the source chain whose root
its own tree reproduces. Between successive anchored checkpoints it also checks the source's
consistency proof, so a notary that rewrote its history is reported with both checkpoints. A run
of entries that does not reproduce the anchored root is rejected, and the first entry whose
inclusion proof fails against that root is named by its index. What was verified is kept in
SQLite: an interrupted sync resumes where it stopped.

It copies from the source's C2SP tlog-tiles (``alliance.tiles``: level-0 tiles, the leaf hashes,
and their entry bundles, the digests; each bundle entry must hash to its tile's hash) when the
source serves ``/checkpoint``, else page by page from ``GET /v1/entries`` (``source="json"``).
Tiles carry no event ids: entries copied from tiles have none until ``fill_event_ids`` (or a
lookup by ``proof``) asks the JSON API for them; entries copied over the JSON API have theirs.
"""
from __future__ import annotations

import base64
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import httpx

from lianzheng.alliance.errors import MirrorError, NoTiles
from lianzheng.alliance.tiles import WIDTH, entries_path, parse_bundle, tile_path, tiles_covering
from lianzheng.sdk.checkpoint import Checkpoint, SignedNote
from lianzheng.sdk.client import NotaryClient, NotaryClientError
from lianzheng.sdk.errors import MalformedError, VerificationError
from lianzheng.sdk.merkle import MerkleTree, hasher, root_from_inclusion_proof, verify_consistency
from lianzheng.sdk.registry import RegistryReader

PAGE = 5000  # entries per /v1/entries page (the notary's maximum)
PAGES_AHEAD = 4  # JSON pages fetched ahead, one at a time
TILES_AHEAD = 32  # tiles (with their bundles) fetched ahead ...
TILE_FETCHERS = 4  # ... this many at a time
BUSY = {429, 502, 503, 504}  # statuses a tile fetch waits out (the client's own retries exhausted)
SOURCES = ("tiles", "json")

# (first index, event ids or None, digests, leaf hashes): a run of consecutive entries as fetched
Chunk = tuple[int, "list[str] | None", list[bytes], list[bytes]]


@dataclass(frozen=True)
class SyncResult:
    verified_size: int
    root: bytes
    copied: int
    seconds: float
    source: str = ""  # "tiles" or "json": how entries were copied ("" when there was nothing to copy)


class Mirror:
    def __init__(self, data_dir: Path, source: str | NotaryClient, rpc, registry: str | None = None) -> None:
        """``source``: the notary's URL (or a client); ``rpc``: its chain (URL or JSON-RPC transport)."""
        data_dir.mkdir(parents=True, exist_ok=True)
        self._own_client = not isinstance(source, NotaryClient)
        self.client = NotaryClient(source, retries=2) if self._own_client else source
        health = self.client.health()
        self.region = int(health["region"])
        self.reader = RegistryReader(rpc, registry or health["chain"]["registry"])
        log = self.reader.log_of(self.region)
        if not any(log.checkpoint_key):
            raise MirrorError(f"region {self.region} has no log registered in {self.reader.address}")
        self.hasher = hasher(log.hash)
        self.db = sqlite3.connect(data_dir / "mirror.db", isolation_level=None, check_same_thread=False)
        self.db.executescript("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
            CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, event_id TEXT, digest BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)
        self._migrate()
        source = f"{self.reader.chain_id}:{self.reader.address}:{self.region}"
        known = self._meta("source")
        if known is None:
            self._set_meta("source", source)
        elif known != source:
            raise MirrorError(f"{data_dir} mirrors {known}, not {source}")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror-fetch")
        self._tile_pool = ThreadPoolExecutor(max_workers=TILE_FETCHERS, thread_name_prefix="mirror-tiles")
        self._source: str | None = None  # how the source is read, once probed
        self.tree = MerkleTree(self.hasher)
        for (digest,) in self.db.execute("SELECT digest FROM entries ORDER BY idx"):
            self.tree.append_leaf_hash(self.hasher.hash_leaf(digest))

    def _migrate(self) -> None:
        """Mirrors made before tiles kept ``event_id NOT NULL``; SQLite cannot drop a constraint in
        place, so such a table is copied once into the current one (one transaction)."""
        columns = {row[1]: row for row in self.db.execute("PRAGMA table_info(entries)")}
        if columns["event_id"][3]:  # notnull
            self.db.executescript("""
                BEGIN;
                CREATE TABLE entries_nullable_ids (idx INTEGER PRIMARY KEY, event_id TEXT, digest BLOB NOT NULL);
                INSERT INTO entries_nullable_ids SELECT idx, event_id, digest FROM entries ORDER BY idx;
                DROP TABLE entries;
                ALTER TABLE entries_nullable_ids RENAME TO entries;
                COMMIT;
            """)
        # Ids are unique where known; entries copied from tiles have none (NULL, not indexed).
        self.db.execute("CREATE UNIQUE INDEX IF NOT EXISTS entries_event ON entries(event_id) "
                        "WHERE event_id IS NOT NULL")

    def close(self) -> None:
        self._pool.shutdown()
        self._tile_pool.shutdown()
        if self._own_client:
            self.client.close()
        self.db.close()

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (key, value))

    @property
    def verified_size(self) -> int:
        return len(self.tree)

    def anchored(self) -> list[tuple[int, bytes]]:
        """Every checkpoint of the source log anchored on its chain, by size."""
        events = self.reader.contract.logs("CheckpointAnchored", region=self.region)
        return sorted({(e.args["treeSize"], bytes(e.args["root"])) for e in events})

    def source_kind(self) -> str:
        """``"tiles"`` if the source serves C2SP tlog-tiles (it answers ``GET /checkpoint``), else
        ``"json"`` (a notary from before tiles). Asked once."""
        if self._source is None:
            self._source = "json" if self._served_size() is None else "tiles"
        return self._source

    def _served_size(self) -> int | None:
        """The size of the checkpoint at the source's ``/checkpoint``, which its tiles are served up
        to (a notary may learn of an anchor after the chain shows it); None if it has none (404).
        Only a bound on what to fetch: what is accepted is what the chain anchored."""
        try:
            text = self.client._request("GET", "/checkpoint", raw=True)
        except NotaryClientError as exc:
            if exc.status != 404:
                raise
            return None
        try:
            return Checkpoint.parse_body(SignedNote.parse(text.decode()).body).size
        except (MalformedError, UnicodeDecodeError) as exc:
            raise MirrorError(f"the source's /checkpoint is not a checkpoint: {exc}") from exc

    def sync(self, limit: int | None = None, progress: Callable[[int], None] | None = None,
             source: str | None = None) -> SyncResult:
        """Copy and verify up to the latest anchored checkpoint (or ``limit`` more entries).

        ``source``: ``"tiles"`` or ``"json"`` (the JSON API, which copies event ids too; notaries from
        before tiles serve only it); by default tiles if the source serves them. From tiles, only
        checkpoints up to the source's ``/checkpoint`` are copied now (it serves tiles that far)."""
        if source not in (None, *SOURCES):
            raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
        started, copied, used = time.perf_counter(), 0, ""
        have = len(self.tree)
        checkpoints = self.anchored()
        previous = max(((s, r) for s, r in checkpoints if s <= have), default=None)
        if previous and self.tree.root(previous[0]) != previous[1]:
            raise MirrorError(f"stored entries do not reproduce the anchored root at {previous[0]}")
        todo = [(s, r) for s, r in checkpoints if s > have and (limit is None or s - have <= limit)]
        for checkpoint in todo:  # the source's history must extend what was verified, step by step
            if previous:
                self._check_consistency(previous, checkpoint)
            previous = checkpoint
        if todo and (source or self._source) != "json":  # tiles go up to the source's own latest checkpoint
            served = self._served_size()
            if self._source is None:
                self._source = "json" if served is None else "tiles"
            if source == "tiles" and served is None:
                raise NoTiles("the source serves no tlog-tiles (no /checkpoint): mirror it over its JSON API")
            if (source or self._source) == "tiles":
                used, todo = "tiles", [(s, r) for s, r in todo if s <= (served or 0)]
        if todo:
            used = used or "json"
            end = todo[-1][0]
            chunks = self._tile_chunks(have, end) if used == "tiles" else self._json_chunks(have, end)
            try:
                copied = self._copy(have, todo, progress, chunks)
            except BaseException:  # interrupted (network, Ctrl-C): keep exactly what was committed
                chunks.close()
                verified = self.verified()
                self._truncate(verified[0] if verified else 0)
                raise
        return SyncResult(len(self.tree), self.tree.root() if len(self.tree) else b"", copied,
                          time.perf_counter() - started, used)

    def _copy(self, have: int, todo: list[tuple[int, bytes]], progress: Callable[[int], None] | None,
              chunks: Iterator[Chunk]) -> int:
        """Take entries [have, last checkpoint) as fetched; keep each run of entries once its
        checkpoint's root matches."""
        tree = self.tree
        append = tree.append_leaf_hash
        checkpoints = iter(todo)
        size, root = next(checkpoints)
        rows: list[tuple[int, str | None, bytes]] = []
        for first, ids, digests, leaves in chunks:
            if first != len(tree):
                raise MirrorError(f"source returned entry {first} where {len(tree)} was due", index=len(tree))
            pos, count = 0, len(digests)
            while pos < count:
                take = min(count - pos, size - len(tree))
                if take <= 0:
                    raise MirrorError(f"source returned entries past {len(tree)}, the last size asked for",
                                      index=len(tree))
                index = len(tree)
                for leaf in leaves[pos:pos + take]:
                    append(leaf)
                rows.extend(zip(range(index, index + take),
                                ids[pos:pos + take] if ids is not None else repeat(None, take),
                                digests[pos:pos + take]))
                pos += take
                if len(tree) < size:
                    continue
                if tree.root() != root:
                    bad = self._locate(rows, size, root)
                    self._truncate(rows[0][0])
                    raise MirrorError(f"entry {bad} does not belong to the log anchored at size {size} "
                                      f"(root {root.hex()}): rejected", index=bad)
                self.db.execute("BEGIN")
                try:
                    self.db.executemany("INSERT INTO entries VALUES (?, ?, ?)", rows)
                except sqlite3.IntegrityError as exc:  # an event id the source gave twice
                    self.db.execute("ROLLBACK")
                    raise MirrorError(f"source gave an event id twice among entries {rows[0][0]}..{size - 1}: "
                                      f"{exc}", index=rows[0][0]) from exc
                self._set_meta("verified", f"{size}:{root.hex()}")
                self.db.execute("COMMIT")
                if progress:
                    progress(len(rows))
                rows = []
                size, root = next(checkpoints, (0, b""))
        if len(tree) != todo[-1][0]:
            raise MirrorError(f"source returned {len(tree)} entries of {todo[-1][0]}", index=len(tree))
        return len(tree) - have

    def _truncate(self, size: int) -> None:
        tree = MerkleTree(self.hasher)
        for (digest,) in self.db.execute("SELECT digest FROM entries WHERE idx < ? ORDER BY idx", (size,)):
            tree.append_leaf_hash(self.hasher.hash_leaf(digest))
        self.tree = tree

    # --- reading the source ---------------------------------------------------------------

    @staticmethod
    def _ahead(jobs: Iterator[Callable[[], object]], pool: ThreadPoolExecutor, window: int) -> Iterator:
        """The results of ``jobs`` in order, ``window`` of them submitted ahead to ``pool``."""
        ahead: deque[Future] = deque()

        def submit_next() -> None:
            job = next(jobs, None)
            if job is not None:
                ahead.append(pool.submit(job))

        try:
            for _ in range(window):
                submit_next()
            while ahead:
                result = ahead.popleft().result()
                submit_next()
                yield result
        finally:  # stopped early (a rejected entry, an interruption): drop what was not started
            for future in ahead:
                future.cancel()

    def _json_chunks(self, start: int, end: int) -> Iterator[Chunk]:
        """Entries [start, end) from ``/v1/entries`` pages, fetched ahead while we verify."""
        jobs = ((lambda page=page: self.client.entries(page, min(page + PAGE, end)))
                for page in range(start, end, PAGE))
        leaf, due = self.hasher.hash_leaf, start
        for page in self._ahead(jobs, self._pool, PAGES_AHEAD):
            ids, digests = [], []
            for e in page:
                if e["index"] != due:
                    raise MirrorError(f"source returned entry {e['index']} where {due} was due", index=due)
                try:
                    digest = bytes.fromhex(e["event_digest"])
                except (TypeError, ValueError) as exc:
                    raise MirrorError(f"entry {due}: the source's digest is not hex", index=due) from exc
                ids.append(e["event_id"])
                digests.append(digest)
                due += 1
            if digests:
                yield due - len(digests), ids, digests, [leaf(d) for d in digests]

    def _tile_chunks(self, start: int, end: int) -> Iterator[Chunk]:
        """Entries [start, end) from level-0 tiles and their entry bundles, fetched ahead (several
        at a time) while we verify; each bundle entry checked against its tile's leaf hash."""
        jobs = ((lambda index=index, width=width: self._read_tile(index, width, start))
                for index, width in tiles_covering(start, end))
        yield from self._ahead(jobs, self._tile_pool, TILES_AHEAD)

    def _read_tile(self, index: int, width: int, start: int) -> Chunk:
        """Tile ``index`` at ``width`` and its bundle, checked against each other (and against the
        entries verified before ``start``): its entries from ``start`` on."""
        first, s = index * WIDTH, self.hasher.size
        tile, got = self._get(tile_path(0, index, width), tile_path(0, index), first)
        if len(tile) != got * s:
            raise MirrorError(f"entry {first}: tile {tile_path(0, index, got)} has {len(tile)} bytes, "
                              f"{got * s} expected", index=first)
        tile = tile[:width * s]
        bundle, got = self._get(entries_path(index, width), entries_path(index), first)
        try:
            digests = parse_bundle(bundle, got)[:width]
        except MalformedError as exc:
            position = first + int(exc.evidence.get("position", 0))
            raise MirrorError(f"entry {position}: malformed entry bundle {entries_path(index, got)}: {exc}",
                              index=position) from exc
        leaf = self.hasher.hash_leaf
        leaves = [leaf(d) for d in digests]
        if b"".join(leaves) != tile or any(len(d) != s for d in digests):
            k = next(k for k, (d, h) in enumerate(zip(digests, leaves))
                     if len(d) != s or h != tile[k * s:(k + 1) * s])
            raise MirrorError(f"entry {first + k}: the entry bundle {entries_path(index, width)} disagrees with its "
                              f"tile {tile_path(0, index, width)} (leaf hash {leaves[k].hex()}, tile "
                              f"{tile[k * s:(k + 1) * s].hex()}): rejected", index=first + k)
        skip = max(0, start - first)
        for k in range(skip):  # verified before: the source must still serve the same entries
            if leaves[k] != self.tree.leaf_hash(first + k):
                raise MirrorError(f"entry {first + k}: the source's tile differs from the entry verified before",
                                  index=first + k)
        return first + skip, None, digests[skip:], leaves[skip:]

    def _get(self, path: str, full: str, first: int) -> tuple[bytes, int]:
        """The body at ``path`` and its width; for a partial tile the source no longer has (C2SP
        lets a log drop them once the full tile exists), the full one. A tile the source
        withholds (it was anchored, so it exists) rejects the source at its first entry."""
        body, width = self._fetch("/" + path), int(path.rsplit("/", 1)[1]) if ".p/" in path else WIDTH
        if body is None and full != path:
            body, width = self._fetch("/" + full), WIDTH
        if body is None:
            raise MirrorError(f"entry {first}: the source has no {path} though its log was anchored past it",
                              index=first)
        return body, width

    def _fetch(self, path: str) -> bytes | None:
        """GET ``path`` (None when 404), waiting out a busy source longer than the client's retries."""
        for attempt in range(6):
            try:
                return self.client._request("GET", path, raw=True)
            except NotaryClientError as exc:
                if exc.status == 404:
                    return None
                if exc.status not in BUSY or attempt == 5:
                    raise
            time.sleep(min(0.5 * 2 ** attempt, 5.0))
        raise AssertionError("unreachable")

    def _check_consistency(self, old: tuple[int, bytes], new: tuple[int, bytes]) -> None:
        try:
            proof = self.client.consistency(old[0], new[0])
            verify_consistency(self.hasher, old[0], new[0], proof, old[1], new[1])
        except (VerificationError, NotaryClientError) as exc:
            raise MirrorError(f"the log forked: anchored checkpoint ({new[0]}, {new[1].hex()}) is not consistent "
                              f"with ({old[0]}, {old[1].hex()}) verified before: {exc}") from exc

    def _locate(self, rows: list[tuple[int, str | None, bytes]], size: int, root: bytes) -> int:
        """The first copied entry whose inclusion proof does not lead to the anchored root."""
        for index, _, digest in rows:
            try:
                body = self.client._request("GET", "/v1/proofs/inclusion", params={"index": index, "size": size})
                proof = [base64.b64decode(x) for x in body["hashes"]]
                if root_from_inclusion_proof(self.hasher, index, size, self.hasher.hash_leaf(digest), proof) != root:
                    return index
            except (VerificationError, NotaryClientError):
                return index
        return rows[0][0]

    # --- event ids (not in tiles) ---------------------------------------------------------

    def fill_event_ids(self, progress: Callable[[int], None] | None = None) -> int:
        """Ask the source's JSON API for the event ids of verified entries copied without them
        (from tiles); each page's digests must be the verified ones. Returns how many were filled."""
        size = len(self.tree)
        pages = sorted({i - i % PAGE for (i,) in self.db.execute("SELECT idx FROM entries WHERE event_id IS NULL")})
        filled = 0
        jobs = ((lambda p=p: self.client.entries(p, min(p + PAGE, size))) for p in pages)
        for page in self._ahead(jobs, self._pool, PAGES_AHEAD):
            self.db.execute("BEGIN")
            try:
                rows = [self._checked_id(e) for e in page]
                cursor = self.db.executemany(
                    "UPDATE entries SET event_id = ? WHERE idx = ? AND event_id IS NULL", rows)
            except (MirrorError, sqlite3.IntegrityError) as exc:
                self.db.execute("ROLLBACK")
                if isinstance(exc, MirrorError):
                    raise
                raise MirrorError(f"source gave an event id twice: {exc}") from exc
            self.db.execute("COMMIT")
            filled += cursor.rowcount
            if progress:
                progress(cursor.rowcount)
        return filled

    def _checked_id(self, entry: dict) -> tuple[str, int]:
        """(event id, index) of an entry the source served, if its digest is the one verified."""
        index = entry["index"]
        ok = isinstance(index, int) and 0 <= index < len(self.tree) and isinstance(entry.get("event_id"), str)
        try:
            ok = ok and self.hasher.hash_leaf(bytes.fromhex(entry["event_digest"])) == self.tree.leaf_hash(index)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise MirrorError(f"entry {index}: the source's JSON entry is not the verified one", index=index)
        return entry["event_id"], index

    def _learn_event_id(self, event_id: str) -> tuple[int, bytes] | None:
        """(index, digest) of ``event_id`` if the source says which verified entry it is (and that
        entry was copied without its id): the id is kept. None if unknown or the source is away."""
        try:
            index = self.client._request("GET", "/v1/proofs/inclusion", params={"event_id": event_id})["index"]
            if not isinstance(index, int) or not 0 <= index < len(self.tree):
                return None
            entry = self.client.entries(index, index + 1)
        except (NotaryClientError, httpx.HTTPError, ValueError, KeyError, TypeError):  # unknown, or away
            return None
        if len(entry) != 1 or entry[0].get("event_id") != event_id:
            return None
        _, index = self._checked_id(entry[0])
        cursor = self.db.execute("UPDATE entries SET event_id = ? WHERE idx = ? AND event_id IS NULL",
                                 (event_id, index))
        if cursor.rowcount != 1:
            return None
        return index, self.db.execute("SELECT digest FROM entries WHERE idx = ?", (index,)).fetchone()[0]

    # --- serving what was verified ------------------------------------------------------

    def verified(self) -> tuple[int, str] | None:
        """The latest anchored checkpoint (size, root hex) the mirror verified, or None."""
        verified = self._meta("verified")
        return (int(verified.split(":")[0]), verified.split(":")[1]) if verified else None

    def proof(self, event_id: str) -> dict:
        """An inclusion proof of a mirrored event against the latest verified (anchored) checkpoint.
        An event copied from tiles (no id kept) is looked up once at the source, then kept."""
        row = self.db.execute("SELECT idx, digest FROM entries WHERE event_id = ?", (event_id,)).fetchone()
        verified = self.verified()
        if row is None and verified is not None:
            row = self._learn_event_id(event_id)
        if row is None or verified is None:
            raise MirrorError(f"event {event_id} is not in the verified mirror")
        size, root = verified
        index, digest = row
        return {"event_id": event_id, "index": index, "event_digest": digest.hex(), "tree_size": size,
                "root": root, "hashes": [h.hex() for h in self.tree.inclusion_proof(index, size)],
                "chain_id": self.reader.chain_id, "registry": self.reader.address, "region": self.region}
