"""RFC 9162 (CT v2) Merkle trees: hashing, proofs and their verification.

Pure code, no I/O: the notary builds proofs with ``MerkleTree`` and every verifier
checks them with ``verify_inclusion`` / ``verify_consistency``. The hash function is
a parameter (SHA-256 by default, SM3 for national-crypto logs), fixed when a log is
created and named in its checkpoints.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

from lianzheng.sdk.errors import MalformedError, ProofError, RootMismatchError

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def _sm3_factory() -> Callable[[bytes], "hashlib._Hash"]:
    try:
        hashlib.new("sm3")
    except ValueError as exc:  # OpenSSL built without SM3
        raise MalformedError("SM3 is not available in this Python's OpenSSL") from exc
    return lambda data=b"": hashlib.new("sm3", data)


@dataclass(frozen=True)
class Hasher:
    """A hash function used the RFC 9162 way: leaf = H(0x00‖d), node = H(0x01‖l‖r)."""

    name: str
    new: Callable[..., "hashlib._Hash"]
    size: int = 32

    def digest(self, data: bytes) -> bytes:
        return self.new(data).digest()

    def hash_leaf(self, data: bytes) -> bytes:
        return self.new(LEAF_PREFIX + data).digest()

    def hash_children(self, left: bytes, right: bytes) -> bytes:
        return self.new(NODE_PREFIX + left + right).digest()

    def empty_root(self) -> bytes:
        return self.new(b"").digest()


SHA256 = Hasher("sha256", hashlib.sha256)
# H(0x01 ‖ …) half done, for the proof verifier to copy: cheaper than a fresh hash per node.
_SHA256_NODE = hashlib.sha256(NODE_PREFIX)
# The log hash algorithms, in the order of EvidenceRegistry's HashAlgorithm enum: a name's index
# is the id the registry records (0 SHA-256, 1 SM3).
HASH_NAMES = ("sha256", "sm3")
HashName = Literal["sha256", "sm3"]


def hash_id(name: str) -> int:
    """The registry's id of hash algorithm ``name``."""
    if name not in HASH_NAMES:
        raise MalformedError(f"unknown hash algorithm {name!r}; expected one of {HASH_NAMES}")
    return HASH_NAMES.index(name)


def hash_name(algorithm_id: int) -> str:
    """The name of the registry's hash algorithm ``algorithm_id``."""
    if not 0 <= algorithm_id < len(HASH_NAMES):
        raise MalformedError(f"unknown hash algorithm id {algorithm_id}")
    return HASH_NAMES[algorithm_id]


def hasher(name: str) -> Hasher:
    """The hasher called ``name`` (``sha256`` or ``sm3``)."""
    if name == "sha256":
        return SHA256
    if name == "sm3":
        return Hasher("sm3", _sm3_factory())
    raise MalformedError(f"unknown hash algorithm {name!r}; expected one of {HASH_NAMES}")


def _split(n: int) -> int:
    """Largest power of two strictly smaller than n (RFC 9162 §2.1.1 'k')."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(h: Hasher, value: bytes, what: str) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != h.size:
        raise MalformedError(f"{what} must be {h.size} bytes, got {len(value) if value is not None else None}")


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) -------------------------------------


def root_from_inclusion_proof(
    h: Hasher, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """The root that ``proof`` yields for ``leaf_hash`` at ``index`` in a tree of ``size``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} outside tree of size {size}", index=index, size=size)
    _check_hash(h, leaf_hash, "leaf hash")
    width = h.size
    for p in proof:
        if len(p) != width:
            raise MalformedError(f"every proof hash must be {width} bytes")
    # The verifier's hot loop (≥ 60,000 proofs/s in pure Python; scripts/bench_verify.py), hence
    # its shape. RFC 9162's loop, split as transparency-dev/merkle does: below level `inner` the
    # index's bits say on which side each sibling is, above it every sibling is on the left (the
    # tree's right border); so the proof's length is known up front and compared once, not level
    # by level. Each node copies a hash already fed 0x01 and is fed its children as they are: a
    # copy and two updates cost less than a fresh hash of a concatenation.
    inner = (index ^ (size - 1)).bit_length()
    length = inner + (index >> inner).bit_count()
    if len(proof) != length:
        longer = "longer" if len(proof) > length else "shorter"
        raise ProofError(f"inclusion proof is {longer} than the tree is deep", size=size, length=len(proof))
    copy = (_SHA256_NODE if h is SHA256 else h.new(NODE_PREFIX)).copy
    r = leaf_hash if type(leaf_hash) is bytes else bytes(leaf_hash)
    bits = index
    for p in proof[:inner]:
        node = copy()
        if bits & 1:  # a right child: the sibling is on the left
            node.update(p)
            node.update(r)
        else:
            node.update(r)
            node.update(p)
        r = node.digest()
        bits >>= 1
    for p in proof[inner:]:
        node = copy()
        node.update(p)
        node.update(r)
        r = node.digest()
    return r


def verify_inclusion(
    h: Hasher, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise unless ``proof`` shows ``leaf_hash`` at ``index`` in the tree (``size``, ``root``)."""
    _check_hash(h, root, "root")
    computed = root_from_inclusion_proof(h, index, size, leaf_hash, proof)
    if computed != root:
        raise RootMismatchError(size, computed, bytes(root))


def verify_consistency(
    h: Hasher, size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Raise unless ``proof`` shows the tree (size1, root1) is a prefix of (size2, root2).

    The order of checks follows transparency-dev/merkle ``proof.VerifyConsistency``: sizes
    ordered; a proof from the empty tree is refused (it proves nothing: every tree extends
    it); for equal sizes the proof must be empty and the roots are compared as given.
    """
    if not 0 <= size1 <= size2:
        raise ProofError(f"sizes not ordered: {size1} > {size2}", size1=size1, size2=size2)
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree is meaningless", size2=size2)
    if size1 == size2:
        if proof:
            raise ProofError("proof must be empty for equal sizes", length=len(proof))
        if root1 != root2:
            raise RootMismatchError(size1, bytes(root1), bytes(root2))
        return
    _check_hash(h, root1, "first root")
    _check_hash(h, root2, "second root")
    for p in proof:
        _check_hash(h, p, "proof hash")
    if not proof:
        raise ProofError("empty consistency proof", size1=size1, size2=size2)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is the first node
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long", length=len(proof))
        if fn & 1 or fn == sn:
            fr = h.hash_children(c, fr)
            sr = h.hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = h.hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof too short", length=len(proof))
    if fr != root1:
        raise RootMismatchError(size1, fr, bytes(root1), "first root")
    if sr != root2:
        raise RootMismatchError(size2, sr, bytes(root2), "second root")


# --- building (the notary side, and mirrors) ------------------------------------------


class TreeReader:
    """Roots and proofs of an RFC 9162 tree, read from its nodes: whatever keeps the nodes (in RAM:
    ``MerkleTree``; in stored tiles: ``notary.tiles.TileTree``) gives ``__len__`` and ``_node``.
    Roots of any past size and proofs are O(log n) hashes of stored nodes."""

    hasher: Hasher

    def __len__(self) -> int:
        raise NotImplementedError

    def _node(self, level: int, i: int) -> bytes:
        """The hash of the i-th perfect subtree of 2**level leaves (complete in the tree)."""
        raise NotImplementedError

    def leaf_hash(self, index: int) -> bytes:
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._node(0, index)

    def _subtree(self, start: int, n: int) -> bytes:
        """Hash of leaves [start, start+n), with start aligned as RFC 9162 splits are."""
        if n & (n - 1) == 0:
            level = n.bit_length() - 1
            return self._node(level, start >> level)
        k = _split(n)
        return self.hasher.hash_children(self._subtree(start, k), self._subtree(start + k, n - k))

    def root(self, size: int | None = None) -> bytes:
        size = len(self) if size is None else size
        if not 0 <= size <= len(self):
            raise ProofError(f"tree size {size} beyond the log ({len(self)})")
        return self.hasher.empty_root() if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = len(self) if size is None else size
        if not 0 <= index < size <= len(self):
            raise ProofError(f"no leaf {index} in tree of size {size}", index=index, size=size)
        proof: list[bytes] = []
        start, n, m = 0, size, index
        while n > 1:  # RFC 9162 §2.1.3.1 PATH, iteratively
            k = _split(n)
            if m < k:
                proof.append(self._subtree(start + k, n - k))
                n = k
            else:
                proof.append(self._subtree(start, k))
                start, n, m = start + k, n - k, m - k
        proof.reverse()
        return proof

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        size2 = len(self) if size2 is None else size2
        if not 0 <= size1 <= size2 <= len(self):
            raise ProofError(f"no consistency proof from {size1} to {size2}", size1=size1, size2=size2)
        if size1 in (0, size2):
            return []
        proof: list[bytes] = []
        start, n, m, complete = 0, size2, size1, True
        while m != n:  # RFC 9162 §2.1.4.1 SUBPROOF, iteratively
            k = _split(n)
            if m <= k:
                proof.append(self._subtree(start + k, n - k))
                n = k
            else:
                proof.append(self._subtree(start, k))
                start, n, m, complete = start + k, n - k, m - k, False
        if not complete:
            proof.append(self._subtree(start, n))
        proof.reverse()
        return proof


class MerkleTree(TreeReader):
    """An append-only tree in memory that keeps every complete aligned subtree hash.

    Level k holds the hashes of the perfect subtrees of 2**k leaves, packed in one
    bytearray (32 bytes each: ~64 bytes of memory per leaf in all). Appending is O(1)
    amortized.
    """

    def __init__(self, h: Hasher = SHA256) -> None:
        self.hasher = h
        self._levels: list[bytearray] = [bytearray()]

    def __len__(self) -> int:
        return len(self._levels[0]) // self.hasher.size

    def _node(self, level: int, i: int) -> bytes:
        s = self.hasher.size
        return bytes(self._levels[level][i * s : (i + 1) * s])

    def append_leaf_hash(self, leaf_hash: bytes) -> int:
        """Append a leaf by its RFC 9162 leaf hash; return its index."""
        h, s = self.hasher, self.hasher.size
        if len(leaf_hash) != s:
            raise MalformedError(f"leaf hash must be {s} bytes")
        index = len(self)
        node, level = bytes(leaf_hash), 0
        while True:
            buf = self._levels[level]
            buf += node
            count = len(buf) // s
            if count % 2:
                return index
            node = h.hash_children(bytes(buf[-2 * s : -s]), node)
            level += 1
            if level == len(self._levels):
                self._levels.append(bytearray())

    def append(self, data: bytes) -> int:
        return self.append_leaf_hash(self.hasher.hash_leaf(data))

    def extend_leaf_hashes(self, leaf_hashes: Sequence[bytes]) -> None:
        for lh in leaf_hashes:
            self.append_leaf_hash(lh)
