"""A province's expert registry (省级专家库) and its anchored snapshot: a salted Merkle root.

The registry is the roster of one province (every expert's region starts with ``province``) as
it stood on ``as_of``. Its snapshot commits to every expert's full record without showing any:

    record(id) = {"expert": expert, "relations": [...], "penalties": [...], "history": [...]}
                 (the expert's rows, JSON as in the roster file; each list sorted by the
                 canonical JSON of its rows)
    salt(id)   = HMAC-SHA256(secret, "registry:" + id)
    leaf(id)   = SHA-256(salt(id) || JCS(record(id)))                          (32 bytes)
    root       = RFC 9162 SHA-256 Merkle root over the leaves, experts sorted by id

Anchoring the root (and size) fixes the registry before any draw uses it: a record shown later
(``reveal``: record, salt, leaf, position, inclusion proof) is checked against the anchored root
with ``check_record``, and nothing can be added, removed or changed unnoticed.

The registry file (JSON, confidential: it holds the roster and the secret), written 0600::

    {"format": "lianzheng-expert-registry/1", "province": "37", "as_of": "2026-11-20",
     "roster": {...}, "secret": "<64 hex>"}
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from lianzheng.rules.errors import RosterError
from lianzheng.rules.experts.roster import Roster, _validated
from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.errors import VerificationError
from lianzheng.sdk.merkle import SHA256, MerkleTree, root_from_inclusion_proof

REGISTRY_FORMAT = "lianzheng-expert-registry/1"
_PROVINCE = re.compile(r"^[1-8][0-9]$")


def _hex_bytes(value: Any) -> bytes:
    try:
        secret = bytes.fromhex(value)
    except (TypeError, ValueError):
        secret = b""
    return secret


def record_leaf(salt: bytes, record: dict[str, Any]) -> bytes:
    return hashlib.sha256(salt + canonical_json(record)).digest()


@dataclass(frozen=True)
class Registry:
    province: str
    as_of: date
    roster: Roster
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.province, str) or not _PROVINCE.match(self.province):
            raise RosterError(f"registry province must be 2 digits (GB/T 2260), not {self.province!r}")
        if not isinstance(self.secret, bytes) or len(self.secret) != 32:
            raise RosterError("registry secret must be 32 bytes")
        for e in self.roster.experts:
            if not e.region.startswith(self.province):
                raise RosterError(f"registry of province {self.province}: expert {e.id!r} is of region {e.region}")

    @classmethod
    def build(cls, roster: Roster, province: str, as_of: date, secret: bytes | None = None) -> Registry:
        return cls(province, as_of, roster, os.urandom(32) if secret is None else secret)

    # --- records and leaves ------------------------------------------------------------

    @cached_property
    def ids(self) -> list[str]:
        """The experts' ids in tree order (sorted)."""
        return sorted(e.id for e in self.roster.experts)

    @cached_property
    def _records(self) -> dict[str, dict[str, Any]]:
        dumped = self.roster.model_dump(mode="json")  # one call: much faster than one per row
        records: dict[str, dict[str, Any]] = {
            e["id"]: {"expert": e, "relations": [], "penalties": [], "history": []} for e in dumped["experts"]}
        for kind in ("relations", "penalties", "history"):
            for row in dumped[kind]:
                records[row["expert_id"]][kind].append(row)
        for record in records.values():
            for kind in ("relations", "penalties", "history"):
                if len(record[kind]) > 1:
                    record[kind].sort(key=canonical_json)
        return records

    def record(self, expert_id: str) -> dict[str, Any]:
        """The expert's full record as the leaf commits to it (JSON-able; a copy)."""
        try:
            record = self._records[expert_id]
        except KeyError:
            raise RosterError(f"no expert {expert_id!r} in the registry of province {self.province}") from None
        return json.loads(json.dumps(record))

    def salt(self, expert_id: str) -> bytes:
        return hmac.digest(self.secret, b"registry:" + expert_id.encode(), "sha256")

    def leaf(self, expert_id: str) -> bytes:
        """SHA-256(salt || JCS(record)): the tree's leaf data for the expert (before RFC 9162 leaf hashing)."""
        return record_leaf(self.salt(expert_id), self.record(expert_id))

    # --- the tree ----------------------------------------------------------------------

    @cached_property
    def tree(self) -> MerkleTree:
        tree = MerkleTree(SHA256)
        records = self._records
        tree.extend_leaf_hashes([SHA256.hash_leaf(record_leaf(self.salt(i), records[i])) for i in self.ids])
        return tree

    @cached_property
    def root(self) -> bytes:
        return self.tree.root()

    @property
    def size(self) -> int:
        return len(self.ids)

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {eid: i for i, eid in enumerate(self.ids)}

    def position(self, expert_id: str) -> int:
        try:
            return self._positions[expert_id]
        except KeyError:
            raise RosterError(f"no expert {expert_id!r} in the registry of province {self.province}") from None

    def proof(self, expert_id: str) -> list[bytes]:
        return self.tree.inclusion_proof(self.position(expert_id))

    def reveal(self, expert_id: str) -> dict[str, Any]:
        """What an entitled person is shown of one expert's record, checkable with ``check_record``."""
        salt, record = self.salt(expert_id), self.record(expert_id)
        return {"record": record, "salt": salt.hex(), "leaf": record_leaf(salt, record).hex(),
                "position": self.position(expert_id), "proof": [p.hex() for p in self.proof(expert_id)],
                "root": self.root.hex(), "size": self.size}

    # --- the registry file -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"format": REGISTRY_FORMAT, "province": self.province, "as_of": self.as_of.isoformat(),
                "roster": self.roster.model_dump(mode="json"), "secret": self.secret.hex()}

    @classmethod
    def from_json(cls, data: Any, source: str) -> Registry:
        """The registry of a registry file's JSON; RosterError naming ``source`` when it is not one."""
        if not isinstance(data, dict) or data.get("format") != REGISTRY_FORMAT:
            raise RosterError(f"{source}: not a registry file ({REGISTRY_FORMAT})")
        secret = _hex_bytes(data.get("secret"))
        if len(secret) != 32:
            raise RosterError(f"{source}: secret must be 32 bytes of hex")
        try:
            as_of = date.fromisoformat(data.get("as_of"))
        except (TypeError, ValueError):
            raise RosterError(f"{source}: as_of must be an ISO date") from None
        province = data.get("province")
        if not isinstance(province, str) or not _PROVINCE.match(province):
            raise RosterError(f"{source}: province must be 2 digits, not {province!r}")
        roster = _validated(Roster, data.get("roster"), f"{source} roster")
        try:
            return cls(province, as_of, roster, secret)
        except RosterError as exc:
            raise RosterError(f"{source}: {exc}") from None

    def save(self, path: Path) -> None:
        _write_private(Path(path), self.to_json())

    @classmethod
    def load(cls, path: Path) -> Registry:
        path = Path(path)
        return cls.from_json(_read_json(path), str(path))


def check_record(shown: dict[str, Any], root: bytes | None = None, size: int | None = None) -> bool:
    """True when ``shown`` (a ``Registry.reveal``) is consistent: its leaf is the salted hash of
    its record and its proof leads from that leaf to its root. Pass the anchored ``root`` and
    ``size`` to also require that the shown ones are those on chain (otherwise compare them
    yourself): an inclusion proof alone does not bind the size (the first leaf's proof in a tree
    of 60 also fits one of 61)."""
    try:
        leaf = record_leaf(bytes.fromhex(shown["salt"]), shown["record"])
        if leaf.hex() != shown["leaf"]:
            return False
        computed = root_from_inclusion_proof(SHA256, shown["position"], shown["size"], SHA256.hash_leaf(leaf),
                                             [bytes.fromhex(p) for p in shown["proof"]])
        return (computed.hex() == shown["root"] and (root is None or computed == root)
                and (size is None or shown["size"] == size))
    except (KeyError, TypeError, ValueError, AttributeError, VerificationError):  # malformed: key missing, bad hex
        return False


def _write_private(path: Path, data: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode under O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.write("\n")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RosterError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: not valid JSON: {exc}") from None
