"""C2SP tlog-checkpoint signed notes (Ed25519), and the C2SP tlog-proof text format.

Checkpoint body: ``<origin>\\n<size>\\n<base64 root>\\n``. A signed note appends a blank
line and signature lines ``— <key name> <base64(key hash[4] ‖ signature)>``, where the
Ed25519 key hash is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4] (C2SP signed-note).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from lianzheng.sdk.errors import MalformedError, SignatureError

SIG_PREFIX = "\u2014 "  # em dash and space
ED25519_ALG = b"\x01"
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_NOTE_BYTES = 1_000_000


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedError(f"{what} is not valid base64") from exc


def key_hash(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALG + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The note verifier key string ``<name>+<hex hash>+<base64(0x01 ‖ key)>``."""
    return f"{name}+{key_hash(name, public_key).hex()}+{base64.b64encode(ED25519_ALG + public_key).decode()}"


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse_body(cls, body: str) -> "Checkpoint":
        lines = body.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise MalformedError("checkpoint body must be origin, size, root lines ending in a newline")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not origin or not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text):
            raise MalformedError("checkpoint origin is empty or its size is not a decimal number")
        return cls(origin, int(size_text), _b64decode(root_text, "checkpoint root"))


@dataclass(frozen=True)
class SignedNote:
    body: str
    signatures: tuple[tuple[str, bytes], ...]  # (key name, key hash ‖ signature)

    def text(self) -> str:
        lines = "".join(f"{SIG_PREFIX}{name} {base64.b64encode(sig).decode()}\n" for name, sig in self.signatures)
        return f"{self.body}\n{lines}"

    @classmethod
    def parse(cls, text: str) -> "SignedNote":
        if len(text) > MAX_NOTE_BYTES or not text.endswith("\n"):
            raise MalformedError("signed note is too long or does not end in a newline")
        body, sep, sigs = text.rpartition("\n\n")
        if not sep or not sigs:
            raise MalformedError("signed note has no blank line before its signatures")
        signatures = []
        for line in sigs[:-1].split("\n"):
            if not line.startswith(SIG_PREFIX):
                raise MalformedError("signature line does not start with an em dash")
            name, _, b64 = line[len(SIG_PREFIX):].rpartition(" ")
            sig = _b64decode(b64, "note signature")
            if not name or len(sig) < 5:
                raise MalformedError("signature line is incomplete")
            signatures.append((name, sig))
        return cls(body + "\n", tuple(signatures))

    def verify(self, name: str, public_key: bytes) -> None:
        """Raise ``SignatureError`` unless a signature by (``name``, ``public_key``) verifies."""
        want = key_hash(name, public_key)
        candidates = [sig[4:] for n, sig in self.signatures if n == name and sig[:4] == want]
        if not candidates:
            raise SignatureError(f"checkpoint carries no signature by the registered key of {name}", key=want.hex())
        try:
            pub = Ed25519PublicKey.from_public_bytes(public_key)
            pub.verify(candidates[0], self.body.encode())
        except (InvalidSignature, ValueError) as exc:
            raise SignatureError(f"checkpoint signature of {name} does not verify") from exc


def sign_note(body: str, name: str, key: Ed25519PrivateKey) -> str:
    """A C2SP signed note of ``body`` by key ``name``."""
    from cryptography.hazmat.primitives import serialization

    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SignedNote(body, ((name, key_hash(name, public) + key.sign(body.encode())),)).text()


def sign_checkpoint(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> str:
    return sign_note(checkpoint.body(), checkpoint.origin, key)


@dataclass(frozen=True)
class TlogProof:
    """C2SP tlog-proof: index, inclusion path and the signed checkpoint it leads to."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def text(self) -> str:
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines += [base64.b64encode(h).decode() for h in self.hashes]
        return "\n".join(lines) + "\n\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> "TlogProof":
        head, sep, note = text.partition("\n\n")
        if not sep:
            raise MalformedError("tlog-proof has no blank line before its checkpoint")
        lines = head.split("\n")
        if lines[0] != PROOF_HEADER:
            raise MalformedError(f"tlog-proof must start with {PROOF_HEADER}")
        rest = lines[1:]
        extra = None
        if rest and rest[0].startswith("extra "):
            extra = _b64decode(rest.pop(0)[6:], "tlog-proof extra")
        if not rest or not re.fullmatch(r"index (0|[1-9][0-9]{0,19})", rest[0]):
            raise MalformedError("tlog-proof has no valid index line")
        index = int(rest[0][6:])
        hashes = tuple(_b64decode(h, "proof hash") for h in rest[1:])
        return cls(index, hashes, note, extra)
