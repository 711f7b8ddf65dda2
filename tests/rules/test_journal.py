"""No chain step without its record: a rules engine that dies mid-step finishes it on restart.

The crash is made where it hurts, in process: the engine dies after signing and journaling a
step but before sending it, or after the chain mined it but before the notary recorded it.
A new engine over the same journal (as ``open_notary`` does on start) rolls the step forward:
the same signed transaction lands at most once, and the step is notarized exactly once.
"""
from __future__ import annotations

import time

import pytest

from lianzheng.rules.journal import SqliteJournal
from lianzheng.rules.tender.crypto import HolderKey, new_holder_key, public_bytes
from lianzheng.rules.tender.sections import Profile, TenderSections
from lianzheng.sdk import event_types as et

REGION = 370000


class Crash(BaseException):
    """The process dies here (BaseException: no ``except Exception`` in the engine catches it)."""


class Log:
    """The notary's log as the engine sees it; ``down`` makes the next notarization die."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.down = False

    def notarize(self, event: dict) -> None:
        if self.down:
            raise Crash("died before the notary recorded the step")
        self.events.append(event)


@pytest.fixture
def world(chain, funded, tmp_path):
    admin, centre = funded(), funded()
    rules = TenderSections.deploy(chain, admin, profiles={})
    rules.set_profile(admin, "test", Profile(0, 1800, 300, 3))
    rules.grant_centre(admin, REGION, centre.address)
    holders = []
    for _ in range(3):
        account, key = funded(), public_bytes(new_holder_key())
        rules.grant_holder(admin, account.address)
        rules.set_holder_key(admin, account.address, key, rules.sign_holder_key(account, key))
        holders.append(HolderKey(account.address, key))
    return rules, centre, holders, tmp_path / "rule-steps.db"


def _open(rules: TenderSections, centre, holders, name: str) -> bytes:
    deadline = max(rules.chain.block_time(), int(time.time())) + 3600
    return rules.open_section(centre, REGION, "P-1", name, "test", deadline, holders, 2)


def _engine(rules: TenderSections, log: Log, journal: SqliteJournal) -> TenderSections:
    return TenderSections(rules.chain, rules.address, log, journal)


def test_a_step_mined_but_not_notarized_is_notarized_on_restart(world):
    rules, centre, holders, path = world
    log, journal = Log(), SqliteJournal(path)
    log.down = True
    with pytest.raises(Crash):
        _open(_engine(rules, log, journal), centre, holders, "S1")
    journal.close()
    section_id = rules.section_id(REGION, "P-1", "S1")
    assert rules.section(section_id).state == "bidding" and log.events == []  # on chain, no record yet

    log.down = False
    restarted = _engine(rules, log, SqliteJournal(path))
    assert restarted.roll_forward() == 1
    [event] = log.events
    assert event["type"] == et.SECTION_OPENED and event["public"]["section_id"] == section_id.hex()
    assert event["public"]["status"] == "accepted"
    assert restarted.roll_forward() == 0 and len(log.events) == 1  # once


def test_a_step_signed_but_never_sent_lands_once_on_restart(world, monkeypatch):
    rules, centre, holders, path = world
    log, journal = Log(), SqliteJournal(path)
    engine = _engine(rules, log, journal)

    def die(signed):
        raise Crash("died between the journal and the chain")

    with monkeypatch.context() as m:
        m.setattr(rules.chain, "send_raw", die)
        with pytest.raises(Crash):
            _open(engine, centre, holders, "S2")
    journal.close()
    section_id = rules.section_id(REGION, "P-1", "S2")
    assert rules.section(section_id).state == "none"  # nothing reached the chain

    restarted = _engine(rules, log, SqliteJournal(path))
    assert restarted.roll_forward() == 1
    assert rules.section(section_id).state == "bidding"
    assert [e["type"] for e in log.events] == [et.SECTION_OPENED]
    assert restarted.roll_forward() == 0


def test_a_step_whose_nonce_went_to_another_transaction_never_happened(world, monkeypatch):
    rules, centre, holders, path = world
    log, journal = Log(), SqliteJournal(path)

    def die(signed):
        raise Crash("died between the journal and the chain")

    with monkeypatch.context() as m:
        m.setattr(rules.chain, "send_raw", die)
        with pytest.raises(Crash):
            _open(_engine(rules, log, journal), centre, holders, "S3")
    rules.chain.release_nonce(centre.address)  # the next process signs afresh with the same nonce
    _open(_engine(rules, log, journal), centre, holders, "S4")
    journal.close()

    restarted = _engine(rules, log, SqliteJournal(path))
    assert restarted.roll_forward() == 0  # S3's step is abandoned, not resent
    assert rules.section(rules.section_id(REGION, "P-1", "S3")).state == "none"
    assert [e["section"] for e in log.events] == ["S4"]


def test_a_refused_step_is_notarized_as_refused_on_restart(world):
    rules, centre, holders, path = world
    log, journal = Log(), SqliteJournal(path)
    section_id = _open(_engine(rules, log, journal), centre, holders, "S5")
    log.down = True
    with pytest.raises(Crash):  # sealing before the deadline: mined, refused, then the crash
        _engine(rules, log, journal).seal_box(centre, section_id, 3, b"\x01" * 32)
    log.down = False
    assert _engine(rules, log, journal).roll_forward() == 1
    assert [e["type"] for e in log.events] == [et.SECTION_OPENED, et.BOX_SEALED + et.REJECTED]
    assert "TenderRules" in log.events[-1]["public"]["reason"]
