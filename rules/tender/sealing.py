"""A bid as it leaves the bidder: sealed, pseudonymous, signed, with the platform's signals.

What the bidder's side (the platform's bid tool, 投标文件制作工具) does with a clear bid file:

- picks a per-section pseudonym ``keccak(sectionId, bidderId, salt)`` with a random salt, so its
  entries in different sections cannot be linked without the salts;
- encrypts the file under a fresh key (``crypto``), splits the key k-of-n among the section's
  holders, seals each share to its holder; keeps the key (it can always open its own bid);
- commits to the clear file: ``clearCommitment = keccak(abi.encode(sha256(clear), clearSalt))``
  ("inconsistent" at opening means: the opened file is not the one this commitment names);
- signs (EIP-712 ``SealedBid``) the section, pseudonym, ciphertext hash and clear commitment with
  its registered key;
- extracts the collusion signals the platform observes: the clear file's hash, document metadata
  (author, creating software, machine code in the file), and the device and lock identifiers the
  platform sees; the platform turns them into keyed hashes (``keyed_signals``) with a secret
  key of the section, so raw values stay in the domain and equal values still match.

The clear file never leaves the bidder's side: only the ciphertext, its hash and the keyed
signals travel.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from lianzheng.rules.tender import crypto
from lianzheng.rules.tender.crypto import HolderKey

# The order in which a box entry commits to the signals (the contract's SIGNAL_KINDS).
SIGNAL_KINDS = ("clear_file", "author", "software", "machine", "device", "lock")
ZERO = bytes(32)


def bidder_id_of(credit_code: str) -> bytes:
    """A bidder's id: SHA-256 of its unified social credit code (统一社会信用代码), upper case."""
    code = credit_code.strip().upper()
    if len(code) != 18 or not code.isalnum():
        raise ValueError("a unified social credit code has 18 letters and digits")
    return hashlib.sha256(code.encode()).digest()


def pseudonym_of(section_id: bytes, bidder_id: bytes, salt: bytes) -> bytes:
    return keccak(encode(["bytes32", "bytes32", "bytes32"], [section_id, bidder_id, salt]))


def clear_commitment_of(clear_hash: bytes, clear_salt: bytes) -> bytes:
    return keccak(encode(["bytes32", "bytes32"], [clear_hash, clear_salt]))


def signals_hash_of(signals: list[bytes]) -> bytes:
    return keccak(encode(["bytes32[6]"], [list(signals)]))


def shares_hash_of(shares: dict[str, bytes], holders: list[str]) -> bytes:
    """What the bidder signs of its sealed shares: each holder's sealed share, in the section's holder order."""
    return keccak(encode(["address[]", "bytes[]"], [list(holders), [shares.get(h, b"") for h in holders]]))


def seal_hash_of(file_key_hash: bytes, shares_hash: bytes, version: int) -> bytes:
    """``TenderRules``' sealHash: binds the file key, the sealed shares and the bid's version."""
    return keccak(encode(["bytes32", "bytes32", "uint64"], [file_key_hash, shares_hash, version]))


@dataclass(frozen=True)
class BoxEntry:
    """A box entry as the contract commits to it (``TenderRules.BoxEntry``)."""

    section_id: bytes
    pseudonym: bytes
    cipher_hash: bytes
    clear_commitment: bytes
    seal_hash: bytes
    signals_hash: bytes
    received_at: int

    def as_tuple(self) -> tuple:
        return (self.section_id, self.pseudonym, self.cipher_hash, self.clear_commitment, self.seal_hash,
                self.signals_hash, self.received_at)

    def leaf_data(self) -> bytes:
        return encode(["(bytes32,bytes32,bytes32,bytes32,bytes32,bytes32,uint64)"], [self.as_tuple()])

    def to_json(self) -> dict[str, Any]:
        return {"section_id": self.section_id.hex(), "pseudonym": self.pseudonym.hex(),
                "cipher_hash": self.cipher_hash.hex(), "clear_commitment": self.clear_commitment.hex(),
                "seal_hash": self.seal_hash.hex(), "signals_hash": self.signals_hash.hex(),
                "received_at": self.received_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "BoxEntry":
        b = bytes.fromhex
        return cls(b(data["section_id"]), b(data["pseudonym"]), b(data["cipher_hash"]), b(data["clear_commitment"]),
                   b(data["seal_hash"]), b(data["signals_hash"]), int(data["received_at"]))


@dataclass(frozen=True)
class Observed:
    """What the platform sees of a submission besides the file: device and lock identifiers."""

    device: str = ""
    lock: str = ""


def document_metadata(clear: bytes) -> dict[str, str]:
    """Author, creating software and machine code recorded inside a PDF or an OOXML (docx/xlsx) file."""
    found: dict[str, str] = {}
    if clear.startswith(b"%PDF-"):
        from pypdf import PdfReader

        quiet = logging.getLogger("pypdf")
        level, quiet.level = quiet.level, logging.CRITICAL  # a damaged PDF is not the log's business
        try:
            info = PdfReader(io.BytesIO(clear)).metadata or {}
        except Exception:  # noqa: BLE001 - a damaged PDF simply yields no metadata
            info = {}
        finally:
            quiet.level = level
        found = {"author": str(info.get("/Author") or ""), "software": str(info.get("/Creator") or
                                                                          info.get("/Producer") or ""),
                 "machine": str(info.get("/MachineCode") or "")}
    elif clear.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(clear)) as z:
                core = (z.read("docProps/core.xml").decode("utf-8", "replace")
                        if "docProps/core.xml" in z.namelist() else "")
                app = (z.read("docProps/app.xml").decode("utf-8", "replace")
                       if "docProps/app.xml" in z.namelist() else "")
        except zipfile.BadZipFile:
            core = app = ""

        def tag(xml: str, name: str) -> str:
            match = re.search(rf"<(?:\w+:)?{name}>([^<]*)</(?:\w+:)?{name}>", xml)
            return match.group(1).strip() if match else ""

        found = {"author": tag(core, "creator") or tag(core, "lastModifiedBy"), "software": tag(app, "Application"),
                 "machine": tag(app, "Company")}
    return {k: v for k, v in found.items() if v}


def raw_signals(clear: bytes, observed: Observed) -> dict[str, str]:
    """The signals of one submission, raw (they stay on the platform, in the domain)."""
    raw = {"clear_file": hashlib.sha256(clear).hexdigest(), **document_metadata(clear)}
    if observed.device:
        raw["device"] = observed.device
    if observed.lock:
        raw["lock"] = observed.lock
    return raw


def keyed_signals(raw: dict[str, str], signal_key: bytes) -> list[bytes]:
    """The six signals as keyed hashes (HMAC-SHA256 under the section's secret key; zero if absent)."""
    return [hmac.new(signal_key, f"{kind}\n{raw[kind]}".encode(), hashlib.sha256).digest() if raw.get(kind) else ZERO
            for kind in SIGNAL_KINDS]


@dataclass
class SealedBid:
    """Everything the bidder's side produces for one section; ``submission`` is what it sends."""

    section_id: bytes
    bidder_id: bytes
    pseudonym_salt: bytes
    file_key: bytes
    cipher: str
    ciphertext: bytes
    clear_hash: bytes
    clear_salt: bytes
    shares: dict[str, bytes] = field(default_factory=dict)  # holder account → sealed share
    signature: bytes = b""
    version: int = 0  # a later version of the same bidder's bid replaces this one (Art. 29)

    @property
    def pseudonym(self) -> bytes:
        return pseudonym_of(self.section_id, self.bidder_id, self.pseudonym_salt)

    @property
    def cipher_hash(self) -> bytes:
        return hashlib.sha256(self.ciphertext).digest()

    @property
    def clear_commitment(self) -> bytes:
        return clear_commitment_of(self.clear_hash, self.clear_salt)

    @property
    def file_key_hash(self) -> bytes:
        return keccak(self.file_key)

    @property
    def shares_hash(self) -> bytes:
        return shares_hash_of(self.shares, list(self.shares))

    @property
    def seal_hash(self) -> bytes:
        return seal_hash_of(self.file_key_hash, self.shares_hash, self.version)

    def opening(self) -> dict[str, str]:
        """What opening reveals besides the key: who the bidder is and what the clear file was."""
        return {"bidder_id": self.bidder_id.hex(), "pseudonym_salt": self.pseudonym_salt.hex(),
                "clear_file_hash": self.clear_hash.hex(), "clear_salt": self.clear_salt.hex(),
                "file_key_hash": self.file_key_hash.hex(), "version": self.version}


def identity_context(section_id: bytes) -> bytes:
    """What a bid's sealed identity is bound to: it opens only for this section."""
    return b"lianzheng bid identity" + section_id


def share_context(section_id: bytes, pseudonym: bytes, holder: str) -> bytes:
    return section_id + pseudonym + bytes.fromhex(holder.removeprefix("0x").lower())


def seal(clear: bytes, section_id: bytes, bidder_id: bytes, holders: list[HolderKey], threshold: int,
         cipher: str = "aes-128-gcm", version: int | None = None) -> SealedBid:
    """Encrypt ``clear``, split its key among ``holders`` (in the section's order) and seal each
    share to its holder. ``version`` (default: now, in microseconds) orders a bidder's changes."""
    key = os.urandom(crypto.KEY_BYTES)
    salt = os.urandom(32)
    bid = SealedBid(section_id, bidder_id, salt, key, cipher, crypto.encrypt(clear, key, cipher, aad=section_id),
                    hashlib.sha256(clear).digest(), os.urandom(32),
                    version=time.time_ns() // 1000 if version is None else version)
    pseudonym = bid.pseudonym
    for (index, share), holder in zip(crypto.split_key(key, threshold, len(holders)), holders):
        bid.shares[holder.account] = index.to_bytes(1, "big") + crypto.seal_share(
            share, holder.public_key, share_context(section_id, pseudonym, holder.account), cipher)
    return bid


SEALED_BID_TYPES = {"SealedBid": [{"name": "sectionId", "type": "bytes32"}, {"name": "pseudonym", "type": "bytes32"},
                                  {"name": "cipherHash", "type": "bytes32"},
                                  {"name": "clearCommitment", "type": "bytes32"},
                                  {"name": "sealHash", "type": "bytes32"}]}


def sign(bid: SealedBid, bidder_key: LocalAccount, domain: dict[str, Any]) -> SealedBid:
    """The bidder's EIP-712 signature over its entry (under the TenderRules contract's domain)."""
    message = {"sectionId": bid.section_id, "pseudonym": bid.pseudonym, "cipherHash": bid.cipher_hash,
               "clearCommitment": bid.clear_commitment, "sealHash": bid.seal_hash}
    bid.signature = bytes(bidder_key.sign_typed_data(domain, SEALED_BID_TYPES, message).signature)
    return bid
