"""Sealing bid files: encryption, the k-of-n split of the file key, shares sealed to their holders.

- A bid file is encrypted on the bidder's side with a fresh 128-bit file key: AES-128-GCM by
  default, SM4-GCM (GB/T 32907) in national-crypto mode (both from ``cryptography``).
- The file key is split k-of-n with Shamir's scheme (pycryptodome's ``Shamir``, over GF(2^128)):
  no holder alone, nor any k-1 of them, learns anything of it; the bidder keeps the key itself
  and can always decrypt its own file.
- Each share is sealed to its holder's X25519 key (ephemeral key agreement, HKDF-SHA256, then
  the section's cipher), so it travels through the platform unread and only its holder opens it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from lianzheng.rules.errors import RuleError

KEY_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
CIPHERS = ("aes-128-gcm", "sm4-gcm")


class SealError(RuleError):
    """A sealed file or share cannot be opened: wrong key, changed bytes, too few shares."""

    code = "seal_invalid"


def encrypt(clear: bytes, key: bytes, cipher: str = "aes-128-gcm", aad: bytes = b"") -> bytes:
    """nonce ‖ ciphertext ‖ tag."""
    if len(key) != KEY_BYTES:
        raise SealError(f"a file key is {KEY_BYTES} bytes")
    nonce = os.urandom(NONCE_BYTES)
    if cipher == "aes-128-gcm":
        return nonce + AESGCM(key).encrypt(nonce, clear, aad)
    if cipher == "sm4-gcm":
        enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(clear) + enc.finalize()
        return nonce + body + enc.tag
    raise SealError(f"unknown cipher {cipher!r}; expected one of {CIPHERS}")


def decrypt(sealed: bytes, key: bytes, cipher: str = "aes-128-gcm", aad: bytes = b"") -> bytes:
    if len(key) != KEY_BYTES or len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise SealError("sealed data or key has the wrong length")
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        if cipher == "aes-128-gcm":
            return AESGCM(key).decrypt(nonce, body, aad)
        if cipher == "sm4-gcm":
            dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, body[-TAG_BYTES:])).decryptor()
            dec.authenticate_additional_data(aad)
            return dec.update(body[:-TAG_BYTES]) + dec.finalize()
    except InvalidTag as exc:
        raise SealError("the data does not open with this key (changed, or the wrong key)") from exc
    raise SealError(f"unknown cipher {cipher!r}; expected one of {CIPHERS}")


def split_key(key: bytes, threshold: int, holders: int) -> list[tuple[int, bytes]]:
    """``holders`` shares (index from 1, 16 bytes) of which any ``threshold`` give ``key`` back."""
    if len(key) != KEY_BYTES or not 2 <= threshold <= holders <= 255:
        raise SealError("split needs a 16-byte key and 2 <= threshold <= holders <= 255")
    return Shamir.split(threshold, holders, key)


def combine_shares(shares: list[tuple[int, bytes]]) -> bytes:
    """The key from at least ``threshold`` shares (with fewer, a wrong key: decryption then fails)."""
    if len({i for i, _ in shares}) != len(shares) or not shares:
        raise SealError("shares must be distinct")
    return Shamir.combine(shares)


@dataclass(frozen=True)
class HolderKey:
    """A key holder: its chain account (it records its release on chain) and its X25519 key."""

    account: str
    public_key: bytes  # raw X25519, 32 bytes


def new_holder_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_bytes(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _kek(shared: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), KEY_BYTES, salt=None, info=b"lianzheng tender share " + info).derive(shared)


def seal_share(share: bytes, holder_public: bytes, context: bytes, cipher: str = "aes-128-gcm") -> bytes:
    """``share`` readable by the holder of ``holder_public`` only: ephemeral public key ‖ sealed share.
    ``context`` (section, pseudonym, holder) is bound in, so a share cannot be moved to another bid."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(holder_public))
    return public_bytes(ephemeral) + encrypt(share, _kek(shared, context), cipher, aad=context)


def open_share(sealed: bytes, holder: X25519PrivateKey, context: bytes, cipher: str = "aes-128-gcm") -> bytes:
    if len(sealed) < 32:
        raise SealError("a sealed share starts with a 32-byte key")
    try:
        shared = holder.exchange(X25519PublicKey.from_public_bytes(sealed[:32]))
    except ValueError as exc:
        raise SealError("the sealed share's key is not an X25519 key") from exc
    return decrypt(sealed[32:], _kek(shared, context), cipher, aad=context)
