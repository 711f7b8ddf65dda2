"""A province's expert registry and its anchored snapshot: salted leaves of full records, an RFC 9162 root."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianzheng.rules.experts.registry import REGISTRY_FORMAT, Registry, check_record
from lianzheng.rules.experts.roster import Expert, PastDraw, Penalty, Relation, Roster, RosterError
from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.errors import RootMismatchError
from lianzheng.sdk.merkle import SHA256, MerkleTree, verify_inclusion
from tests.rules.experts_data import AS_OF, BIDDERS, OTHER_COMPANY, SECRET, TENDERER, random_roster, registry

ROSTER = random_roster(60, seed=21, tie_rate=0.5)
REGISTRY = registry(ROSTER)


def test_leaves_are_salted_records_in_id_order():
    reg = registry(ROSTER)
    ids = sorted(e.id for e in ROSTER.experts)
    assert reg.size == 60 and [reg.position(i) for i in ids] == list(range(60))
    tree = MerkleTree(SHA256)
    for eid in ids:  # the documented construction, written out
        salt = hmac.digest(SECRET, b"registry:" + eid.encode(), "sha256")
        expert = next(e for e in ROSTER.experts if e.id == eid)
        record = {"expert": expert.model_dump(mode="json"),
                  **{kind: sorted((r.model_dump(mode="json") for r in getattr(ROSTER, kind) if r.expert_id == eid),
                                  key=canonical_json) for kind in ("relations", "penalties", "history")}}
        assert reg.record(eid) == record
        leaf = hashlib.sha256(salt + canonical_json(record)).digest()
        assert reg.leaf(eid) == leaf
        tree.append(leaf)
    assert reg.root == tree.root()
    # the experts' order in the roster does not matter, nor the rows'
    shuffled = Roster(experts=ROSTER.experts[::-1], relations=ROSTER.relations[::-1],
                      penalties=ROSTER.penalties[::-1], history=ROSTER.history[::-1])
    assert registry(shuffled).root == reg.root
    assert registry(ROSTER, secret=bytes(32)).root != reg.root  # salted: nothing to guess a record from


def _mutations(eid):
    expert = next(e for e in ROSTER.experts if e.id == eid)
    other = OTHER_COMPANY if expert.employer != OTHER_COMPANY else TENDERER
    return [
        ("name", lambda r: _with_expert(r, eid, name=expert.name + "·")),
        ("specialities", lambda r: _with_expert(r, eid, specialities=expert.specialities[::-1]
                                                if len(expert.specialities) > 1 else (*expert.specialities, "Z9"))),
        ("region", lambda r: _with_expert(r, eid, region="379900" if expert.region != "379900" else "370100")),
        ("employer", lambda r: _with_expert(r, eid, employer=other)),
        ("available", lambda r: _with_expert(r, eid, available=not expert.available)),
        ("relation", lambda r: r.model_copy(update={"relations": (
            *r.relations, Relation(expert_id=eid, party=BIDDERS[0], kind="interest", until=date(2020, 1, 1)))})),
        ("penalty", lambda r: r.model_copy(update={"penalties": (
            *r.penalties, Penalty(expert_id=eid, decided_on=date(2001, 1, 1), until=date(2001, 2, 1), note="old"))})),
        ("history", lambda r: r.model_copy(update={"history": (
            *r.history, PastDraw(expert_id=eid, tenderer=OTHER_COMPANY, drawn_on=date(2001, 1, 1)))})),
    ]


def _with_expert(roster, eid, **changes):
    experts = tuple(Expert(**{**e.model_dump(), **changes}) if e.id == eid else e for e in roster.experts)
    return roster.model_copy(update={"experts": experts})


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(ROSTER.experts) - 1), st.integers(0, 7))
def test_the_root_changes_when_any_record_changes(which, mutation):
    eid = ROSTER.experts[which].id
    name, change = _mutations(eid)[mutation]
    changed = registry(change(ROSTER))
    assert changed.root != REGISTRY.root, name
    moved = [i for i in REGISTRY.ids if changed.leaf(i) != REGISTRY.leaf(i)]
    assert moved == [eid], name  # that expert's leaf, and only it
    # removing the expert changes the size and the root
    fewer = Roster(experts=tuple(e for e in ROSTER.experts if e.id != eid),
                   **{kind: tuple(r for r in getattr(ROSTER, kind) if r.expert_id != eid)
                      for kind in ("relations", "penalties", "history")})
    assert registry(fewer).root != REGISTRY.root and registry(fewer).size == REGISTRY.size - 1


def test_reveal_checks_and_a_tampered_reveal_fails():
    for eid in (REGISTRY.ids[0], REGISTRY.ids[17], REGISTRY.ids[-1]):
        shown = REGISTRY.reveal(eid)
        assert set(shown) == {"record", "salt", "leaf", "position", "proof", "root", "size"}
        assert check_record(shown) and check_record(shown, REGISTRY.root, REGISTRY.size)
        assert check_record(json.loads(json.dumps(shown)))  # as sent over the wire
        verify_inclusion(SHA256, shown["position"], shown["size"], SHA256.hash_leaf(bytes.fromhex(shown["leaf"])),
                         [bytes.fromhex(p) for p in shown["proof"]], REGISTRY.root)
        record = shown["record"]
        tampered = [
            {**shown, "record": {**record, "expert": {**record["expert"], "name": "someone else"}}},
            {**shown, "record": {**record, "penalties": []}} if record["penalties"] else
            {**shown, "record": {**record, "penalties": [{"expert_id": eid, "decided_on": "2026-01-01",
                                                            "until": None, "note": "x"}]}},
            {**shown, "salt": bytes(32).hex()},
            {**shown, "position": (shown["position"] + 1) % shown["size"]},
            {**shown, "proof": shown["proof"][:-1]},
            {**shown, "proof": ["zz"]},
            {k: v for k, v in shown.items() if k != "salt"},
            {**shown, "size": shown["size"] + 1},
        ]
        assert not any(check_record(t, REGISTRY.root, REGISTRY.size) for t in tampered)
        assert not any(check_record(t) for t in tampered[:-1])  # the size is bound by the anchor only
        # a consistent reveal of another registry is refused against the anchored root
        other = registry(ROSTER, secret=bytes(32)).reveal(eid)
        assert check_record(other) and not check_record(other, REGISTRY.root)
        with pytest.raises(RootMismatchError):
            verify_inclusion(SHA256, other["position"], other["size"], SHA256.hash_leaf(bytes.fromhex(other["leaf"])),
                             [bytes.fromhex(p) for p in other["proof"]], REGISTRY.root)
    with pytest.raises(RosterError, match="no expert 'nobody' in the registry of province 37"):
        REGISTRY.reveal("nobody")


def test_registry_belongs_to_one_province():
    gansu = Expert(id="G1", name="x", specialities=("A",), region="620400")
    with pytest.raises(RosterError, match="registry of province 37: expert 'G1' is of region 620400"):
        registry(Roster(experts=(*ROSTER.experts, gansu)))
    with pytest.raises(RosterError, match="province must be 2 digits"):
        Registry.build(ROSTER, "370", AS_OF, SECRET)
    with pytest.raises(RosterError, match="secret must be 32 bytes"):
        Registry.build(ROSTER, "37", AS_OF, b"short")
    assert len(Registry.build(ROSTER, "37", AS_OF).secret) == 32
    assert SECRET.hex() not in repr(REGISTRY)


def test_registry_file_round_trip_and_bad_files(tmp_path):
    path = tmp_path / "registry.json"
    REGISTRY.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = Registry.load(path)
    assert again == REGISTRY and again.root == REGISTRY.root
    good = json.loads(path.read_text())
    assert set(good) == {"format", "province", "as_of", "roster", "secret"} and good["format"] == REGISTRY_FORMAT
    for data, message in [
        ([], "not a registry file (lianzheng-expert-registry/1)"),
        ({**good, "format": "lianzheng-expert-pool/3"}, "not a registry file"),
        ({**good, "secret": "00" * 31}, "secret must be 32 bytes of hex"),
        ({**good, "secret": "not hex"}, "secret must be 32 bytes of hex"),
        ({**good, "as_of": "23.11.2026"}, "as_of must be an ISO date"),
        ({**good, "province": 37}, "province must be 2 digits, not 37"),
        ({**good, "province": "62"}, "registry of province 62: expert"),
        ({**good, "roster": {"experts": [{"id": "E1"}]}}, "registry.json roster: experts.0.name: Field required"),
    ]:
        path.write_text(json.dumps(data))
        with pytest.raises(RosterError) as caught:
            Registry.load(path)
        message_shown = str(caught.value)
        assert "\n" not in message_shown and message_shown.startswith(str(path)) and message in message_shown
    path.write_text("{")
    with pytest.raises(RosterError, match="registry.json: not valid JSON"):
        Registry.load(path)
    with pytest.raises(RosterError, match="cannot read"):
        Registry.load(tmp_path / "missing.json")
