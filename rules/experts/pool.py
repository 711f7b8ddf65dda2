"""The eligible pool of a draw and its commitment: a pure function of the published inputs.

Eligibility: the expert has the requested speciality and is in the draw's scope (``local``:
same province as the draw region; ``remote``/异地: another province, one of
``remote_provinces`` when given). In scope but avoided (回避), with every reason recorded:
``unavailable``, ``employer_is_tenderer``, ``employer_is_bidder``, ``related_to_tenderer``,
``related_to_bidder``, ``recently_drawn_for_tenderer`` (within ``cooldown_days`` before
``as_of``). The pool is the remaining experts sorted by id; position i is the i-th.

Commitment (only this leaves the centre's domain, 数据可用不可见):

    salt_i     = HMAC-SHA256(pool secret, "expert:" + id)
    leaf_i     = SHA-256(salt_i || JCS({"id": id, "name": name}))          (32 bytes)
    pool root  = RFC 9162 SHA-256 Merkle root over leaf_0 .. leaf_{n-1}
    exclusion  = HMAC-SHA256(pool secret, JCS([{"id", "reasons"}, ...] sorted by id))

The pool file (JSON, confidential: it holds the roster and the secret) lets a supervisor
recompute all of it: ``{"format", "request", "roster", "secret"}``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from lianzheng.rules.experts.roster import DrawRequest, Expert, Roster, RosterError, _validated
from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.merkle import SHA256, MerkleTree

POOL_FORMAT = "lianzheng-expert-pool/2"  # 2: the key "roster" became "roster"


def in_scope(expert: Expert, request: DrawRequest) -> bool:
    if request.speciality not in expert.specialities:
        return False
    province, home = expert.region[:2], request.region[:2]
    if request.mode == "local":
        return province == home
    return province != home and (not request.remote_provinces or province in request.remote_provinces)


def avoidance(roster: Roster, request: DrawRequest) -> dict[str, list[str]]:
    """Reasons (回避) for each expert in scope that must not be drawn; empty lists omitted."""
    bidders = set(request.bidders)
    ties: dict[str, set[str]] = {}
    for r in roster.relations:
        ties.setdefault(r.expert_id, set()).add(r.party)
    since = request.as_of - timedelta(days=request.cooldown_days)
    recent = {h.expert_id for h in roster.history
              if h.tenderer == request.tenderer and since <= h.drawn_on <= request.as_of}
    reasons: dict[str, list[str]] = {}
    for e in roster.experts:
        if not in_scope(e, request):
            continue
        tied = ties.get(e.id, set())
        why = [name for name, hit in (
            ("unavailable", not e.available),
            ("employer_is_tenderer", e.employer == request.tenderer),
            ("employer_is_bidder", e.employer in bidders),
            ("related_to_tenderer", request.tenderer in tied),
            ("related_to_bidder", bool(tied & bidders)),
            ("recently_drawn_for_tenderer", e.id in recent),
        ) if hit]
        if why:
            reasons[e.id] = why
    return reasons


def leaf_of(salt: bytes, expert: Expert) -> bytes:
    return hashlib.sha256(salt + canonical_json({"id": expert.id, "name": expert.name})).digest()


@dataclass(frozen=True)
class Pool:
    request: DrawRequest
    roster: Roster
    secret: bytes = field(repr=False)

    @classmethod
    def build(cls, roster: Roster, request: DrawRequest, secret: bytes | None = None) -> "Pool":
        pool = cls(request, roster, secret or os.urandom(32))
        if len(pool.experts) < request.k:
            raise RosterError(f"only {len(pool.experts)} eligible experts for k = {request.k}")
        return pool

    @cached_property
    def excluded(self) -> dict[str, list[str]]:
        return avoidance(self.roster, self.request)

    @cached_property
    def experts(self) -> list[Expert]:
        """The eligible experts in pool order (by id)."""
        return sorted((e for e in self.roster.experts
                       if in_scope(e, self.request) and e.id not in self.excluded), key=lambda e: e.id)

    def salt(self, expert_id: str) -> bytes:
        return hmac.digest(self.secret, b"expert:" + expert_id.encode(), "sha256")

    @cached_property
    def tree(self) -> MerkleTree:
        tree = MerkleTree(SHA256)
        tree.extend_leaf_hashes([SHA256.hash_leaf(leaf_of(self.salt(e.id), e)) for e in self.experts])
        return tree

    @property
    def size(self) -> int:
        return len(self.experts)

    @property
    def root(self) -> bytes:
        return self.tree.root()

    @cached_property
    def exclusion_hash(self) -> bytes:
        listing = [{"id": i, "reasons": r} for i, r in sorted(self.excluded.items())]
        return hmac.digest(self.secret, canonical_json(listing), "sha256")

    def reveal(self, position: int) -> dict[str, Any]:
        """What an entitled person is shown for the expert at ``position``: identity, salt, leaf, proof."""
        expert = self.experts[position]
        salt = self.salt(expert.id)
        return {"position": position, "expert": {"id": expert.id, "name": expert.name}, "salt": salt.hex(),
                "leaf": leaf_of(salt, expert).hex(), "pool_root": self.root.hex(), "pool_size": self.size,
                "proof": [p.hex() for p in self.tree.inclusion_proof(position)]}

    # --- the pool file -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {"format": POOL_FORMAT, "request": self.request.model_dump(mode="json"),
                "roster": self.roster.model_dump(mode="json"), "secret": self.secret.hex()}

    def save(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False)
            f.write("\n")

    @classmethod
    def load(cls, path: Path) -> "Pool":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise RosterError(f"cannot read {exc.filename}: {exc.strerror}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RosterError(f"{path}: not valid JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != POOL_FORMAT:
            raise RosterError(f"{path}: not a pool file ({POOL_FORMAT})")
        try:
            secret = bytes.fromhex(data["secret"])
        except (KeyError, TypeError, ValueError):
            secret = b""
        if len(secret) != 32:
            raise RosterError(f"{path}: secret must be 32 bytes of hex")
        return cls(_validated(DrawRequest, data.get("request"), f"{path} request"),
                   _validated(Roster, data.get("roster"), f"{path} roster"), secret)
