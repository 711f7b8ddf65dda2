"""Seed and positions of a draw, exactly as the ExpertDraw contract derives them (pure).

    commitment = keccak256(abi.encode(drawId, party, secret))
    seed       = keccak256(abi.encode(SEED_DOMAIN, drawId, poolRoot, poolSize, xor of the secrets))
    x_j        = keccak256(abi.encode(seed, uint256 j)) as an integer, j = 0, 1, 2, ...
    pick i     = a Fisher-Yates step on the virtual array A = (0 .. poolSize-1): m = poolSize - i;
                 the next x_j below 2^256 - (2^256 mod m) (no modulo bias); r = i + x_j mod m;
                 position_i = A[r]; A[r] = A[i]

Every pick costs one hash (rejections have probability below 2^-224), so the contract's cost
grows with k only. Alternates are the next picks of the same shuffle.
"""
from __future__ import annotations

from collections.abc import Iterable

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


def positions(seed: bytes, pool_size: int, count: int) -> list[int]:
    """The first ``count`` picks: the drawn experts' positions, then the alternates in order."""
    if not 0 <= count <= pool_size:
        raise ValueError(f"cannot draw {count} distinct experts from a pool of {pool_size}")
    moved: dict[int, int] = {}
    out: list[int] = []
    j = 0
    for i in range(count):
        m = pool_size - i
        accept_below = _SPAN - _SPAN % m
        while True:
            x = int.from_bytes(keccak(seed + j.to_bytes(32, "big")), "big")
            j += 1
            if x < accept_below:
                break
        r = i + x % m
        out.append(moved.get(r, r))
        moved[r] = moved.get(i, i)
    return out
