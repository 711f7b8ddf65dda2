"""The plan hash, seed and positions of a draw, exactly as the ExpertDraw contract derives them (pure).

    strataHash = h_S with h_0 = 0, h_{i+1} = keccak256(abi.encode(h_i, stratum_i))
                 stratum = (speciality bytes32, venue uint8, scope uint32, quota uint32)
    planHash   = keccak256(abi.encode(drawId, profile, tendererReps, keccak256(avoidance), strataHash, parties))
                 avoidance = the plan's avoidance inputs, canonical JSON (``DrawPlan.avoidance_inputs``)
                 then, once every pool is committed, for each stratum in order:
                 planHash = keccak256(abi.encode(planHash, pool_i))
                 pool = (root bytes32, size uint32, exclusionHash bytes32, snapshot uint32)
    seed       = keccak256(abi.encode(SEED_DOMAIN, drawId, planHash, uint256[] secrets))
                 secrets in party order, each revealed or recovered (``escrow``)
    stratum i  = the first quota (+ replacements) picks of the shuffle under
                 keccak256(abi.encode(seed, uint32 i)) over its pool's size:
    x_j        = keccak256(abi.encode(seed_i, uint256 j)) as an integer, j = 0, 1, 2, ...
    pick i     = a Fisher-Yates step on the virtual array A = (0 .. size-1): m = size - i;
                 the next x_j below 2^256 - (2^256 mod m) (no modulo bias); r = i + x_j mod m;
                 position_i = A[r]; A[r] = A[i]

Every pick costs one hash (rejections have probability below 2^-224), so the contract's cost
grows with k only. Alternates are the next picks of the same stratum's shuffle.
"""
from __future__ import annotations

from collections.abc import Sequence

from eth_abi import encode
from eth_utils import keccak, to_checksum_address

SEED_DOMAIN = keccak(b"LianzhengExpertDraw.seed.v2")
VENUES = ("main", "remote")
_SPAN = 1 << 256
_STRATUM = "(bytes32,uint8,uint32,uint32)"
_POOL = "(bytes32,uint32,bytes32,uint32)"


def speciality_code(code: str) -> bytes:
    """A speciality code (ASCII, ≤ 32 bytes) as the bytes32 the contract keeps."""
    raw = code.encode("ascii")
    if not 0 < len(raw) <= 32:
        raise ValueError("a speciality code is 1..32 ASCII characters")
    return raw.ljust(32, b"\x00")


def stratum_tuple(speciality: str, venue: str, scope: str, quota: int) -> tuple[bytes, int, int, int]:
    return speciality_code(speciality), VENUES.index(venue), int(scope), quota


def plan_hash(draw_id: bytes, profile_id: bytes, tenderer_reps: int, avoidance: bytes, strata: Sequence[tuple],
              parties: Sequence[str], pools: Sequence[tuple] = ()) -> bytes:
    """The plan hash the contract holds: before the pools are committed (``pools`` empty), or after."""
    strata_hash = bytes(32)
    for s in strata:
        strata_hash = keccak(encode(["bytes32", _STRATUM], [strata_hash, s]))
    h = keccak(encode(["bytes32", "bytes32", "uint32", "bytes32", "bytes32", "address[]"],
                      [draw_id, profile_id, tenderer_reps, keccak(avoidance), strata_hash,
                       [to_checksum_address(p) for p in parties]]))
    for pool in pools:
        h = keccak(encode(["bytes32", _POOL], [h, pool]))
    return h


def seed_of(draw_id: bytes, plan: bytes, secrets: Sequence[int]) -> bytes:
    return keccak(encode(["bytes32", "bytes32", "bytes32", "uint256[]"], [SEED_DOMAIN, draw_id, plan, list(secrets)]))


def stratum_seed(seed: bytes, index: int) -> bytes:
    return keccak(encode(["bytes32", "uint32"], [seed, index]))


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
