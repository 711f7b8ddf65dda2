"""An alliance node's mirror of another member's notary log (镜像), verified entry by entry.

The mirror copies the log's entries (index, event id, event digest: never payloads) page by
page, rebuilds the RFC 9162 tree, and accepts entries only up to a checkpoint anchored on the
source chain whose root its own tree reproduces. Between successive anchored checkpoints it
also checks the source's consistency proof, so a notary that rewrote its history is reported
with both checkpoints. A page whose entries do not reproduce the anchored root is rejected, and
the first entry whose inclusion proof fails against that root is named by its index. What was
verified is kept in SQLite: an interrupted sync resumes where it stopped.
"""
from __future__ import annotations

import base64
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lianzheng.alliance.errors import MirrorError
from lianzheng.sdk.client import NotaryClient, NotaryClientError
from lianzheng.sdk.errors import VerificationError
from lianzheng.sdk.merkle import MerkleTree, hasher, root_from_inclusion_proof, verify_consistency
from lianzheng.sdk.registry import RegistryReader

PAGE = 5000


@dataclass(frozen=True)
class SyncResult:
    verified_size: int
    root: bytes
    copied: int
    seconds: float


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
            CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, event_id TEXT NOT NULL, digest BLOB NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS entries_event ON entries(event_id);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)
        source = f"{self.reader.chain_id}:{self.reader.address}:{self.region}"
        known = self._meta("source")
        if known is None:
            self._set_meta("source", source)
        elif known != source:
            raise MirrorError(f"{data_dir} mirrors {known}, not {source}")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mirror-fetch")
        self.tree = MerkleTree(self.hasher)
        for (digest,) in self.db.execute("SELECT digest FROM entries ORDER BY idx"):
            self.tree.append_leaf_hash(self.hasher.hash_leaf(digest))

    def close(self) -> None:
        self._pool.shutdown()
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

    def sync(self, limit: int | None = None, progress: Callable[[int], None] | None = None) -> SyncResult:
        """Copy and verify up to the latest anchored checkpoint (or ``limit`` more entries)."""
        started, copied = time.perf_counter(), 0
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
        if todo:
            try:
                copied = self._copy(have, todo, progress)
            except BaseException:  # interrupted (network, Ctrl-C): keep exactly what was committed
                verified = self.verified()
                self._truncate(verified[0] if verified else 0)
                raise
        return SyncResult(len(self.tree), self.tree.root() if len(self.tree) else b"", copied,
                          time.perf_counter() - started)

    def _copy(self, have: int, todo: list[tuple[int, bytes]], progress: Callable[[int], None] | None) -> int:
        """Stream entries [have, last checkpoint); keep each run of entries once its checkpoint's root matches."""
        h, tree = self.hasher, self.tree
        checkpoints = iter(todo)
        size, root = next(checkpoints)
        rows: list[tuple[int, str, bytes]] = []
        for page in self._pages(have, todo[-1][0]):
            for e in page:
                index = e["index"]
                if index != len(tree):
                    raise MirrorError(f"source returned entry {index} where {len(tree)} was due", index=len(tree))
                digest = bytes.fromhex(e["event_digest"])
                tree.append_leaf_hash(h.hash_leaf(digest))
                rows.append((index, e["event_id"], digest))
                if len(tree) < size:
                    continue
                if tree.root() != root:
                    bad = self._locate(rows, size, root)
                    self._truncate(rows[0][0])
                    raise MirrorError(f"entry {bad} does not belong to the log anchored at size {size} "
                                      f"(root {root.hex()}): rejected", index=bad)
                self.db.execute("BEGIN")
                self.db.executemany("INSERT INTO entries VALUES (?, ?, ?)", rows)
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

    def _pages(self, start: int, end: int) -> Iterator[list[dict]]:
        """Pages of entries [start, end), fetched ahead (at most 4 in flight) while we verify."""
        pages = iter(range(start, end, PAGE))
        ahead: deque[Future] = deque()

        def fetch_next() -> None:
            page = next(pages, None)
            if page is not None:
                ahead.append(self._pool.submit(self.client.entries, page, min(page + PAGE, end)))

        for _ in range(4):
            fetch_next()
        while ahead:
            entries = ahead.popleft().result()
            fetch_next()
            yield entries

    def _check_consistency(self, old: tuple[int, bytes], new: tuple[int, bytes]) -> None:
        try:
            proof = self.client.consistency(old[0], new[0])
            verify_consistency(self.hasher, old[0], new[0], proof, old[1], new[1])
        except (VerificationError, NotaryClientError) as exc:
            raise MirrorError(f"the log forked: anchored checkpoint ({new[0]}, {new[1].hex()}) is not consistent "
                              f"with ({old[0]}, {old[1].hex()}) verified before: {exc}") from exc

    def _locate(self, rows: list[tuple[int, str, bytes]], size: int, root: bytes) -> int:
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

    # --- serving what was verified ------------------------------------------------------

    def verified(self) -> tuple[int, str] | None:
        """The latest anchored checkpoint (size, root hex) the mirror verified, or None."""
        verified = self._meta("verified")
        return (int(verified.split(":")[0]), verified.split(":")[1]) if verified else None

    def proof(self, event_id: str) -> dict:
        """An inclusion proof of a mirrored event against the latest verified (anchored) checkpoint."""
        row = self.db.execute("SELECT idx, digest FROM entries WHERE event_id = ?", (event_id,)).fetchone()
        verified = self.verified()
        if row is None or verified is None:
            raise MirrorError(f"event {event_id} is not in the verified mirror")
        size, root = verified
        index, digest = row
        return {"event_id": event_id, "index": index, "event_digest": digest.hex(), "tree_size": size,
                "root": root, "hashes": [h.hex() for h in self.tree.inclusion_proof(index, size)],
                "chain_id": self.reader.chain_id, "registry": self.reader.address, "region": self.region}
