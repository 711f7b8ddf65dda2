"""Escrowed seed secrets (Feldman verifiable secret sharing on BN254), exactly as ExpertDraw checks them.

Each party of a draw deals its secret ``s`` (a scalar modulo the BN254 group order ``R``) with a
random polynomial ``f(x) = s + a_1 x + … + a_{t-1} x^{t-1}`` of degree ``t - 1``, where
``t = threshold(n) = ⌊(n - 1) / 2⌋ + 1`` for ``n`` parties:

    commitments  C_l = a_l · G  (l = 0 .. t-1; C_0 = s · G)           on chain, public
    share of j   f(j + 1) mod R  for every other party j (0-based)     sealed to j's X25519 key

A recipient checks its share against the commitments, ``f(j+1) · G == Σ_l (j+1)^l · C_l``
(the contract checks the same with the ecMul/ecAdd precompiles), and acknowledges on chain.
A party that does not reveal ``s`` is overridden by any ``t`` of the others publishing their
shares: Lagrange interpolation at 0 gives ``s`` back, and ``s · G == C_0`` proves it. Fewer
than ``t`` parties learn nothing of ``s``; the centre's accounts are always fewer than ``t``.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_abi import encode
from eth_utils import keccak, to_canonical_address
from py_ecc.optimized_bn128 import G1, Z1, add, curve_order, multiply, normalize

from lianzheng.rules.tender.crypto import SealError, open_share, seal_share

R = curve_order
Point = tuple[int, int]
SHARE_BYTES = 32


def threshold(parties: int) -> int:
    """Shares needed to recover a secret: a strict majority of the other parties' side."""
    return (parties - 1) // 2 + 1


def _affine(p) -> Point:
    x, y = normalize(p)
    return int(x), int(y)


def public_of(scalar: int) -> Point:
    """``scalar · G`` in affine coordinates (what ecMul(G, scalar) returns on chain)."""
    return _affine(multiply(G1, scalar % R))


def _evaluate(commitments: Sequence[Point], x: int):
    from py_ecc.fields import optimized_bn128_FQ as FQ

    total = Z1
    power = 1
    for c in commitments:
        point = (FQ(c[0]), FQ(c[1]), FQ.one())
        total = add(total, multiply(point, power))
        power = power * x % R
    return total


@dataclass(frozen=True)
class Dealing:
    """A party's secret, its polynomial's commitments and the shares for the other parties."""

    dealer: int
    secret: int = field(repr=False)
    commitments: tuple[Point, ...]
    shares: Mapping[int, int] = field(repr=False)

    @property
    def secret_bytes(self) -> bytes:
        return self.secret.to_bytes(32, "big")


def deal(parties: int, dealer: int, secret: int | None = None) -> Dealing:
    """Deal a fresh (or the given) secret of party ``dealer`` (0-based) among ``parties`` parties."""
    if not 0 <= dealer < parties:
        raise ValueError(f"dealer {dealer} is not one of {parties} parties")
    t = threshold(parties)
    secret = secret if secret is not None else 1 + secrets.randbelow(R - 1)
    coefficients = [secret % R] + [1 + secrets.randbelow(R - 1) for _ in range(t - 1)]
    commitments = tuple(public_of(a) for a in coefficients)
    shares = {j: evaluate(coefficients, j + 1) for j in range(parties) if j != dealer}
    return Dealing(dealer, secret % R, commitments, shares)


def evaluate(coefficients: Sequence[int], x: int) -> int:
    value = 0
    for a in reversed(coefficients):
        value = (value * x + a) % R
    return value


def share_is_valid(commitments: Sequence[Point], recipient: int, share: int) -> bool:
    """Whether ``share`` is the dealer's polynomial at ``recipient + 1`` (Feldman's check)."""
    if not 0 <= share < R:
        return False
    return public_of(share) == _affine(_evaluate(commitments, recipient + 1))


def recover(shares: Mapping[int, int]) -> int:
    """The secret from shares of parties (0-based index → share): Lagrange interpolation at 0."""
    xs = {j: j + 1 for j in shares}
    secret = 0
    for j, share in shares.items():
        numerator, denominator = 1, 1
        for m in shares:
            if m != j:
                numerator = numerator * xs[m] % R
                denominator = denominator * (xs[m] - xs[j]) % R
        secret = (secret + share * numerator * pow(denominator, R - 2, R)) % R
    return secret


def commitments_hash(commitments: Sequence[Point]) -> bytes:
    """keccak256(abi.encode(uint256[2][] commitments)), as the contract stores it."""
    return keccak(encode(["uint256[2][]"], [[list(c) for c in commitments]]))


def share_context(draw_id: bytes, dealer: str, recipient: str) -> bytes:
    """Binds a sealed share to its draw, dealer and recipient (it cannot be replayed elsewhere)."""
    return b"lianzheng expert share " + draw_id + to_canonical_address(dealer) + to_canonical_address(recipient)


def party_key(account_key: bytes) -> X25519PrivateKey:
    """A party's X25519 key, derived from its account key (HKDF-SHA256, own domain): one key file
    serves both, and the key can always be derived again for a late ``publish-share``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = HKDF(hashes.SHA256(), 32, salt=None, info=b"lianzheng expert-draw party x25519").derive(bytes(account_key))
    return X25519PrivateKey.from_private_bytes(raw)


def seal(share: int, recipient_public: bytes, context: bytes) -> bytes:
    return seal_share(share.to_bytes(SHARE_BYTES, "big"), recipient_public, context)


def open_sealed(sealed: bytes, key: X25519PrivateKey, context: bytes) -> int:
    """The share inside ``sealed``; ``SealError`` when it is not for this key or was changed."""
    clear = open_share(sealed, key, context)
    if len(clear) != SHARE_BYTES:
        raise SealError("a sealed expert-draw share holds 32 bytes")
    return int.from_bytes(clear, "big")
