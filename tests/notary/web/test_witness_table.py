"""One definition of what a witness is told: sdk/witness.py and the page's witness.js agree on every
event type (and on the odd values a lying notary could put in a public field)."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from lianzheng.notary.services import page
from lianzheng.sdk import event_types as et
from lianzheng.sdk.witness import label, outcome

NODE = shutil.which("node")


def _corpus() -> list[dict]:
    events = ([{"type": t, "public": {}} for t in et.LABELS]
              + [{"type": t + et.REJECTED, "public": {}} for t in et.LABELS])
    events += [{"type": "something.else", "public": None}, {"type": "x.y", "public": []}]
    ok = {"reason": "BidDeadlinePassed()"}
    variants = {
        et.FLAG_SHARED_SIGNAL: [{"kind": k, "firstPseudonym": "ab" * 32, "secondPseudonym": "cd" * 32}
                                for k in (0, 1, 2, 3, 4, 5, 6, -1, "2", True, None, 2.0)],
        et.FLAG_BID_FILE_INCONSISTENT: [{"bidderId": "12" * 32}, {"bidderId": 7}, {"bidderId": "短名"},
                                        {"bidderId": "投标人甲乙丙丁戊己庚辛壬癸子丑"}],
        et.SECTION_FAILED: [{"reason": 2}, {"reason": "not_sealed"}, {"reason": 1, "bids": 2}, {"bids": "2"},
                            {"reason": True}],
        et.BOX_SEALED: [{"box_size": 3}, {"box_size": None}, {"box_size": [1, {"b": 2, "a": 1}]}],
        et.BID_UNDECRYPTABLE: [{"byBidder": True}, {"byBidder": False}, {"byBidder": 1}, {"byBidder": "yes"}],
        et.BID_REPLACED: [{"replaced": 1, "by": 4}, {"replaced": 1.5}],
        et.HOLDER_WITHHELD: [{"holder": "0x" + "ab" * 20}],
        et.OPENING_CLOSED: [{"valid_bids": 3}, {"expired": True}],
        et.DEADLINE_EXTENDED: [{"deadline": 1_790_000_000, "reason": "clarification"}, {"deadline": "1790000000"},
                               {"deadline": True}, {"deadline": 1_790_000_000}, {"deadline": 9 * 10**12},
                               {"deadline": -1}],
        et.BIDS_REJECTED: [{"decision": "none meets the requirements"}, {"decision": {"n": 1}}],
        et.DRAW_VOIDED: [{"defaulters": ["0x" + "12" * 20, "0x" + "34" * 20]}, {"defaulters": "0x12"}],
        et.EXPERTS_DRAWN: [{"positions": [3, 1, 4]}, {"positions": []}, {"positions": "3"}],
        et.EXPERT_REPLACED: [{"ordinal": 2, "reason": "conflict of interest"}, {"ordinal": None}],
        et.SECRET_RECOVERED: [{"party": "0x" + "56" * 20}],
        et.SECTION_OPENED: [{"deadline": 1_790_000_000}, {"deadline": 1.5e9}],
        et.BID_SEALED + et.REJECTED: [ok, {"reason": "BidderNotRegistered(0x12)"}, {"reason": ""}, {"reason": 42}],
        et.SEED_REVEALED + et.REJECTED: [{"reason": "ExpertDrawSeedMismatch()"}],
        "bid.submitted.rejected": [ok],  # a refusal is a rule's: its words only for a rule type's refusal
    }
    events += [{"type": t, "public": p} for t, ps in variants.items() for p in ps]
    return events


def _modules(where) -> None:
    for name in page.MODULES:
        (where / name).write_text(page.module_text(name))
    (where / "package.json").write_text('{"type": "module"}')


@pytest.mark.skipif(NODE is None, reason="node is installed by ./scripts/test (npm packages)")
def test_the_page_derives_the_ids_the_rule_contracts_derive(tmp_path):
    """keccak256, sectionIdOf and drawIdOf in the page equal eth_utils and the contracts' abi.encode."""
    from eth_abi import encode
    from eth_utils import keccak

    _modules(tmp_path)
    cases = [(370000, "SDGP-2026-0042", "S1", 0), (110000, "", "", 3), (620400, "项目-甲", "标段" * 40, 7)]
    texts = ["", "abc", "a" * 135, "a" * 136, "中" * 100]
    (tmp_path / "ids.js").write_text(
        'import { keccak256 } from "./keccak.js";\n'
        'import { sectionIdOf, drawIdOf } from "./rules.js";\n'
        'import { toHex } from "./sha256.js";\n'
        f"const cases = {json.dumps(cases, ensure_ascii=False)}, texts = {json.dumps(texts, ensure_ascii=False)};\n"
        'console.log(JSON.stringify([texts.map((t) => toHex(keccak256(new TextEncoder().encode(t)))),\n'
        '  cases.map(([r, p, s, n]) => { const id = sectionIdOf(r, p, s); return [id, drawIdOf(id, n)]; })]));\n')
    hashes, ids = json.loads(subprocess.run([NODE, str(tmp_path / "ids.js")], capture_output=True, text=True,
                                            check=True).stdout)
    assert hashes == [keccak(text=t).hex() for t in texts]
    for (region, project, section, round_), (section_id, draw_id) in zip(cases, ids):
        expected = keccak(encode(["uint32", "string", "string"], [region, project, section]))
        assert section_id == expected.hex()
        assert draw_id == keccak(encode(["bytes32", "uint32"], [expected, round_])).hex()


@pytest.mark.skipif(NODE is None, reason="node is installed by ./scripts/test (npm packages)")
def test_python_and_the_page_tell_a_witness_the_same_for_every_event_type(tmp_path):
    _modules(tmp_path)
    corpus = _corpus()
    (tmp_path / "corpus.json").write_text(json.dumps(corpus, ensure_ascii=False))
    (tmp_path / "run.js").write_text(
        'import { readFileSync } from "node:fs";\n'
        'import { label, outcome, isRuleType } from "./witness.js";\n'
        'const corpus = JSON.parse(readFileSync(new URL("./corpus.json", import.meta.url)));\n'
        'console.log(JSON.stringify(corpus.map((e) => [label(e.type), outcome(e), isRuleType(e.type)])));\n')
    out = subprocess.run([NODE, str(tmp_path / "run.js")], capture_output=True, text=True, check=True).stdout
    answers = json.loads(out)
    assert len(answers) == len(corpus) > 100
    for event, (js_label, js_outcome, js_rule) in zip(corpus, answers):
        mine = outcome(event)
        assert js_label == label(event["type"]), event
        assert js_outcome == {"level": mine.level, "code": mine.code, "zh": mine.zh, "en": mine.en}, event
        assert js_rule == et.is_rule_type(event["type"]), event
    codes = {outcome(e).code for e in corpus}
    assert {"collusion:duplicate_file", "withdrawn", "revoked", "section_failed:not_sealed", "experts_drawn",
            "rejected:BidDeadlinePassed", "recorded"} <= codes  # the corpus reaches every branch that matters
