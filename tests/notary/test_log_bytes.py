"""What the log stores and hashes is RFC 8785, on and off the fast path: the log decides per event
whether the fast encoder may be used (``sdk.event.inspect_event``) and reuses that answer for the
salted, linked and public forms. Checked here against the reference encoder (``rfc8785``) and
hashlib, built from the format's field lists alone — a notary whose shortcut logged other bytes
would hand out receipts no witness could reproduce."""
from __future__ import annotations

import hashlib

import orjson
import rfc8785

from lianzheng.sdk.event import PUBLIC_FIELDS, SEALED_FIELDS
from tests.helpers import make_event


def _reference_digest(wire: dict) -> bytes:
    shown = {k: wire[k] for k in PUBLIC_FIELDS if k in wire}
    if wire.get("documents"):
        shown["documents"] = [{k: d[k] for k in ("sha256", "sm3") if k in d} for d in wire["documents"]]
    sealed = rfc8785.dumps({k: wire[k] for k in SEALED_FIELDS if k in wire})
    shown["sealed"] = hashlib.sha256(sealed).hexdigest()
    return hashlib.sha256(rfc8785.dumps(shown)).digest()


CASES = [  # what each section's events carry besides the sample's fields
    {"payload": {"round": 1, "note": "投标文件已递交"}},                 # the fast path
    {"payload": {"price": 1234.5, "ratio": 1e-7, "zero": -0.0}},        # floats: ECMAScript number forms
    {"payload": {"投标人": "甲", "zh": 1}},                              # a non-ASCII key
    {"payload": {"\U0001f600": 1, "\ufb01": 2}},                        # keys ordered by UTF-16 code units
    {"payload": {"deep": [{"b": 1.0, "a": [True, None, "x"]}]}},
    {"public": {"score": 87.5, "zero": -0.0, "whole": 123456789.0, "\U0001f600": 1, "\ufb01": 2}},  # public, off it
]


def test_logged_bytes_and_digest_are_the_reference_ones(notary):
    for n, fields in enumerate(CASES):  # one section each: two events, the second linked to the first
        events = [make_event(10 * n + i, section=f"S{n}", **fields) for i in range(2)]
        first, second = notary.log.submit(events, "writer-a")
        for accepted in (first, second):
            wire = orjson.loads(accepted.canonical)
            assert accepted.canonical == rfc8785.dumps(wire), fields
            assert accepted.digest == _reference_digest(wire), fields
        assert orjson.loads(second.canonical)["prev"] == first.digest.hex()
