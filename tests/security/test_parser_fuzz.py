"""Every parser of evidence, fed anything: only the project's own typed errors come out.

Receipts, signed notes, checkpoints, tlog-proofs, events (full and public), certificate PDFs
and their evidence. A witness's tool that crashes with a KeyError on a hostile file is a tool
an attacker can use to hide a failure; each of these must say "malformed" instead.
"""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lianzheng.sdk.certificate import extract_evidence, signed_body, verify_certificate
from lianzheng.sdk.checkpoint import Checkpoint, SignedNote, TlogProof
from lianzheng.sdk.errors import VerificationError
from lianzheng.sdk.event import parse_event, parse_public_event
from lianzheng.sdk.receipt import parse_receipt
from lianzheng.sdk.verifier import check_offline
from tests.helpers import make_event

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=6),
    max_leaves=25,
)
# Notes and proofs are lines of known words: build them from those, so the fuzzer reaches past
# the first check (random text rarely even has a blank line in it).
TOKENS = ["c2sp.org/tlog-proof@v1", "index ", "extra ", "0", "7", "18446744073709551616", "\n", "\n\n", "\u2014 ",
          "- ", "lianzheng.notary/370000", " ", "AAAA", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "=", "é",
          "\x00"]
note_text = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join) | st.text(max_size=100)


class ReachedChain(Exception):
    """The parser accepted the structure and asked the chain: not a parser failure."""


class NoChain:
    chain_id, address = 1, "0x" + "00" * 20

    def __getattr__(self, name):
        def call(*_a, **_k):
            raise ReachedChain(name)
        return call


def _only_typed(fn, *args):
    try:
        fn(*args)
    except (VerificationError, ReachedChain):
        pass


@FUZZ
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_receipt_text(data):
    _only_typed(parse_receipt, data)


@FUZZ
@given(json_values)
def test_receipt_json_and_event_json(value):
    _only_typed(parse_receipt, value)
    _only_typed(parse_event, value)
    _only_typed(parse_public_event, value)


@FUZZ
@given(note_text)
def test_signed_note_checkpoint_and_tlog_proof(text):
    _only_typed(SignedNote.parse, text)
    _only_typed(Checkpoint.parse_body, text)
    _only_typed(TlogProof.parse, text)


@pytest.fixture(scope="module")
def real_receipt(tmp_path_factory):
    from lianzheng.notary.services.setup import open_notary
    from lianzheng.notary.settings import Settings

    notary = open_notary(Settings(data_dir=tmp_path_factory.mktemp("fuzz") / "data"))
    try:
        notary.log.submit([make_event(i) for i in range(7)], "ts")
        notary.worker.anchor_once()
        yield notary.log.receipt("evt-5").model_dump(mode="json")
    finally:
        notary.close()


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["event", "log", "anchor", "proof", "event_digest", "index", "event_id"]),
                          st.text(max_size=12), json_values), min_size=1, max_size=3))
def test_mutated_receipts_fail_with_a_reason(real_receipt, changes):
    data = copy.deepcopy(real_receipt)
    for where, key, value in changes:
        if isinstance(data.get(where), dict) and key:
            data[where][key] = value
        else:
            data[where] = value
    try:
        receipt = parse_receipt(data)
    except VerificationError:
        return
    _only_typed(check_offline, receipt)
    _only_typed(check_offline, receipt, make_event(5))


@FUZZ
@given(st.integers(min_value=0, max_value=2000), st.integers(min_value=0, max_value=255))
def test_receipt_proof_with_a_changed_character(real_receipt, position, byte):
    data = copy.deepcopy(real_receipt)
    proof = data["proof"]
    i = position % len(proof)
    data["proof"] = proof[:i] + chr(byte) + proof[i + 1:]
    _only_typed(lambda: check_offline(parse_receipt(data)))


@FUZZ
@given(st.binary(max_size=400))
def test_certificate_bytes(data):
    _only_typed(extract_evidence, b"%PDF-1.7\n" + data)
    _only_typed(extract_evidence, data)


@FUZZ
@given(json_values, st.dictionaries(st.sampled_from(["log", "receipts", "outcomes", "signature", "tree_size",
                                                    "project", "section", "chain", "format"]), json_values))
def test_certificate_evidence(value, fields):
    evidence = {"format": "lianzheng-certificate/1", "log": {"origin": "o", "region": "370000", "hash": "sha256"},
                "project": "P", "receipts": [], "outcomes": [], "signature": "x\n", "tree_size": 1, **fields}
    _only_typed(verify_certificate, evidence, NoChain())
    try:  # the same evidence with a signature over its own digest gets past the digest check
        evidence["signature"] = SignedNote(signed_body(evidence), (("o", b"\x01" * 68),)).text()
    except (KeyError, TypeError, VerificationError):
        pass  # no log.origin to sign under, or no canonical form: the first check refused it already
    _only_typed(verify_certificate, evidence, NoChain())
    if isinstance(value, dict):
        _only_typed(verify_certificate, value, NoChain())
    assert json.dumps(evidence, default=str)


@FUZZ
@given(st.fixed_dictionaries({"origin": st.text(min_size=1, max_size=8), "region": json_values}), json_values,
       json_values)
def test_certificate_evidence_signed_over_odd_fields(log, tree_size, receipts):
    evidence = {"format": "lianzheng-certificate/1", "log": log, "project": "P", "receipts": receipts,
                "outcomes": receipts, "tree_size": tree_size}
    try:
        evidence["signature"] = SignedNote(signed_body(evidence), (("o", b"\x01" * 68),)).text()
    except VerificationError:
        return
    _only_typed(verify_certificate, evidence, NoChain())
