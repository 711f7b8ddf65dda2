"""Seed and positions of a draw, exactly as the ExpertDraw contract derives them (pure).

    commitment = keccak256(abi.encode(drawId, party, secret))
    seed       = keccak256(abi.encode(SEED_DOMAIN, drawId, poolRoot, poolSize, xor of the secrets))
    x_j        = keccak256(abi.encode(seed, uint256 j)) as an integer, j = 0, 1, 2, ...
    x_j >= 2^256 - (2^256 mod poolSize) is skipped (no modulo bias); position = x_j mod poolSize,
    skipped when drawn already. Alternates continue the same sequence.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

SEED_DOMAIN = keccak(b"LianzhengExpertDraw.seed.v1")
_SPAN = 1 << 256


def commitment_of(draw_id: bytes, party: str, secret: bytes) -> bytes:
    return keccak(encode(["bytes32", "address", "bytes32"], [draw_id, to_checksum_address(party), secret]))


def seed_of(draw_id: bytes, pool_root: bytes, pool_size: int, secrets: Iterable[bytes]) -> bytes:
    mixed = 0
    for secret in secrets:
        mixed ^= int.from_bytes(secret, "big")
    return keccak(encode(["bytes32", "bytes32", "bytes32", "uint32", "bytes32"],
                         [SEED_DOMAIN, draw_id, pool_root, pool_size, mixed.to_bytes(32, "big")]))


def sequence(seed: bytes, pool_size: int) -> Iterator[int]:
    """The endless sequence of uniform pool positions (repeats included) a seed gives."""
    if pool_size < 1:
        raise ValueError("the pool is empty")
    accept_below = _SPAN - _SPAN % pool_size
    j = 0
    while True:
        x = int.from_bytes(keccak(seed + j.to_bytes(32, "big")), "big")
        j += 1
        if x < accept_below:
            yield x % pool_size


def positions(seed: bytes, pool_size: int, count: int) -> list[int]:
    """The first ``count`` distinct positions: the drawn experts, then the alternates in order."""
    if count > pool_size:
        raise ValueError(f"cannot draw {count} distinct experts from a pool of {pool_size}")
    out: list[int] = []
    seen: set[int] = set()
    for p in sequence(seed, pool_size):
        if len(out) == count:
            break
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out
