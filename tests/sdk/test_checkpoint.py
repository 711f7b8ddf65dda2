"""Signed notes and tlog-proofs: byte-exact round trips and every tampering refused."""
from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lianzheng.sdk.checkpoint import (
    Checkpoint,
    SignedNote,
    TlogProof,
    key_hash,
    sign_checkpoint,
    verifier_key,
)
from lianzheng.sdk.errors import MalformedError, SignatureError

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
ORIGIN = "lianzheng.notary/370000"


def _note(size=42, root=b"\x07" * 32):
    return sign_checkpoint(Checkpoint(ORIGIN, size, root), KEY)


def test_signed_note_round_trips_byte_exact_and_verifies():
    text = _note()
    note = SignedNote.parse(text)
    assert note.text() == text
    assert Checkpoint.parse_body(note.body) == Checkpoint(ORIGIN, 42, b"\x07" * 32)
    root_b64 = base64.b64encode(b"\x07" * 32).decode()
    assert text.startswith(f"{ORIGIN}\n42\n{root_b64}\n\n\u2014 {ORIGIN} ")
    note.verify(ORIGIN, PUB)


def test_key_hash_follows_c2sp_signed_note():
    # key hash = SHA-256(name || "\n" || 0x01 || key)[:4]; the verifier key string embeds it.
    vkey = verifier_key(ORIGIN, PUB)
    name, hexhash, b64 = vkey.split("+", 2)
    assert name == ORIGIN and bytes.fromhex(hexhash) == key_hash(ORIGIN, PUB)
    assert base64.b64decode(b64) == b"\x01" + PUB


@pytest.mark.parametrize("mutation", ["size", "root", "origin", "signature-bit", "other-key"])
def test_tampered_checkpoint_fails_signature(mutation):
    text = _note()
    if mutation == "size":
        text = text.replace("\n42\n", "\n43\n", 1)
    elif mutation == "root":
        text = text.replace(base64.b64encode(b"\x07" * 32).decode(), base64.b64encode(b"\x08" * 32).decode(), 1)
    elif mutation == "origin":
        text = text.replace(ORIGIN + "\n", "lianzheng.notary/370100\n", 1)
    elif mutation == "signature-bit":
        body, _, sigline = text.rstrip("\n").rpartition("\n")
        name, _, b64 = sigline.rpartition(" ")
        sig = bytearray(base64.b64decode(b64))
        sig[10] ^= 1
        text = f"{body}\n{name} {base64.b64encode(bytes(sig)).decode()}\n"
    elif mutation == "other-key":
        text = sign_checkpoint(Checkpoint(ORIGIN, 42, b"\x07" * 32), Ed25519PrivateKey.generate())
    with pytest.raises(SignatureError):
        SignedNote.parse(text).verify(ORIGIN, PUB)


@pytest.mark.parametrize("text", ["", "no blank line\n", "a\n1\nAAAA\n\nnot a signature\n",
                                  "a\n1\nAAAA\n\n\u2014 a !!!\n"])
def test_malformed_notes_are_refused(text):
    with pytest.raises(MalformedError):
        SignedNote.parse(text)


def test_tlog_proof_round_trips_byte_exact():
    proof = TlogProof(7, (b"\x01" * 32, b"\x02" * 32), _note(), extra=b"lianzheng")
    text = proof.text()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra bGlhbnpoZW5n\nindex 7\n")
    parsed = TlogProof.parse(text)
    assert parsed == proof and parsed.text() == text
    bare = TlogProof(0, (), _note(size=1))
    assert TlogProof.parse(bare.text()) == bare


@pytest.mark.parametrize("text", ["c2sp.org/tlog-proof@v2\nindex 1\n\nx", "c2sp.org/tlog-proof@v1\nindex -1\n\nx",
                                  "c2sp.org/tlog-proof@v1\nindex 01\n\nx", "c2sp.org/tlog-proof@v1\nindex 1\n@@@\n\nx"])
def test_malformed_tlog_proofs_are_refused(text):
    with pytest.raises(MalformedError):
        TlogProof.parse(text)
