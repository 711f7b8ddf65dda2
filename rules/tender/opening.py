"""Opening (开标) off chain: holders release their shares, the opening combines and decrypts.

- A holder opens, for every box entry, the share sealed to it, and releases them together: the
  on-chain record is ``releaseDigest`` = keccak of the released shares in box order, so the
  opening service accepts exactly what the holder recorded on chain, no more, no less.
- The opening combines, per entry, the shares of the holders that released (any ``threshold``
  of them), decrypts the file and checks it against the bidder's own commitment. With the
  key published at opening (``BidOpened.fileKey``) any entitled witness holding the ciphertext
  re-checks the outcome; the clear file stays in the domain.
"""
from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_abi import encode
from eth_utils import keccak

from lianzheng.rules.tender import crypto
from lianzheng.rules.tender.crypto import SealError
from lianzheng.rules.tender.sealing import share_context

MAX_TRIES = 20_000


def release_digest(shares: list[bytes]) -> bytes:
    """What a holder records on chain for the shares it released (box order; empty bytes: none)."""
    return keccak(encode(["bytes[]"], [list(shares)]))


def open_my_shares(holder: X25519PrivateKey, account: str, section_id: bytes,
                   sealed: list[tuple[bytes, bytes | None]], cipher: str) -> list[bytes]:
    """The holder's shares of every entry, in box order: ``index byte ‖ share`` (b"" where the
    entry held no share for this holder, or it does not open: a bidder's fault, shown as such)."""
    released = []
    for pseudonym, blob in sealed:
        if not blob:
            released.append(b"")
            continue
        try:
            share = crypto.open_share(blob[1:], holder, share_context(section_id, pseudonym, account), cipher)
            released.append(blob[:1] + share)
        except SealError:
            released.append(b"")
    return released


@dataclass(frozen=True)
class Decrypted:
    file_key: bytes
    clear: bytes

    @property
    def clear_hash(self) -> bytes:
        return hashlib.sha256(self.clear).digest()


def decrypt_entry(ciphertext: bytes, section_id: bytes, cipher: str, shares: list[bytes], threshold: int) -> Decrypted:
    """Combine ``threshold`` of the released shares (``index ‖ share``) and decrypt; ``SealError`` if
    there are too few, or the file does not open with the key they give."""
    usable = sorted({(s[0], s[1:]) for s in shares if len(s) == 1 + crypto.KEY_BYTES})
    if len({i for i, _ in usable}) < threshold:
        raise SealError(f"{len(usable)} shares released for this entry, {threshold} needed")
    # A bad share (from the bidder, or a holder, even one claiming another holder's index) must
    # not hide a good set: try the sets of ``threshold`` shares of distinct indices (bounded)
    # until one opens the file.
    for chosen in itertools.islice(itertools.combinations(usable, threshold), MAX_TRIES):
        if len({i for i, _ in chosen}) < threshold:
            continue
        key = crypto.combine_shares(list(chosen))
        try:
            return Decrypted(key, crypto.decrypt(ciphertext, key, cipher, aad=section_id))
        except SealError:
            continue
    raise SealError("no set of the released shares opens the file")
