"""The sequencer election: one process anchors; a failed takeover is retried, a lost lock stands
the process down, and the lock goes with the process that held it."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine

from lianzheng.notary.services.election import Election, SequencerLock


def _wait(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _engine(kind: str, tmp_path, request):
    if kind == "sqlite":
        return create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    return create_engine(request.getfixturevalue("postgres").create_database(f"el{abs(hash(tmp_path)) % 10**6}"))


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_one_sequencer_and_a_takeover_that_failed_once_is_retried(tmp_path, request, kind):
    engine = _engine(kind, tmp_path, request)
    calls: list[str] = []
    failing = threading.Event()
    failing.set()

    def elected(name: str):
        def on_elected() -> None:
            calls.append(name)
            if name == "b" and failing.is_set():
                failing.clear()
                raise RuntimeError("the chain is down right at the takeover")
        return on_elected

    a = Election(SequencerLock(engine, "370000"), elected("a"), lambda: None, interval=0.05)
    b = Election(SequencerLock(engine, "370000"), elected("b"), lambda: None, interval=0.05)
    a.start()
    b.start()
    time.sleep(0.3)
    assert a.elected and not b.elected and calls == ["a"]
    a.stop()  # the sequencer goes away: its lock with it
    _wait(lambda: b.elected)
    assert calls == ["a", "b", "b"]  # the first takeover raised; the lock stayed b's and it was retried
    b.stop()
    engine.dispose()


@pytest.mark.postgres
def test_a_sequencer_whose_session_ends_stands_down_and_another_takes_over(tmp_path, postgres):
    engine = create_engine(postgres.create_database("lost"))
    lost = threading.Event()
    a = Election(SequencerLock(engine, "370000"), lambda: None, lost.set, interval=0.05)
    b = Election(SequencerLock(engine, "370000"), lambda: None, lambda: None, interval=0.05)
    a.start()
    b.start()
    assert a.elected and a.check()
    pid = a.lock._conn.info.backend_pid
    with engine.connect() as conn:  # the database ends a's session (a restart, a timeout, an operator)
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        conn.commit()
    _wait(lambda: b.elected)
    assert not a.check() and lost.is_set() and not a.elected
    a.stop()
    b.stop()
    engine.dispose()
