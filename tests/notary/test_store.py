"""The store refuses a batch holding an id or index it has, whole, on both databases (the
sequencer then looks the ids up and redoes the batch: ``notary.services.log``); a process that
hangs holding the write lock costs the others' writers a 503 after a bounded wait, not a stall."""
from __future__ import annotations

import threading
import time

import pytest

from lianzheng.notary.errors import DuplicateEventId, Unavailable
from lianzheng.notary.local import sample_event
from lianzheng.notary.services import log as log_module
from lianzheng.notary.services.log import NotaryLog
from lianzheng.notary.store import SqlStore
from lianzheng.sdk.merkle import SHA256


def _row(i: int, event_id: str) -> dict:
    return {"idx": i, "event_id": event_id, "digest": bytes([i]) * 32, "event_json": "{}", "writer": "w",
            "received_at": 0.0, "project": "P", "section": "S"}


BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _url(tmp_path, request, kind: str, name: str) -> str:
    return (f"sqlite:///{tmp_path / 'log.db'}" if kind == "sqlite"
            else request.getfixturevalue("postgres").create_database(name))


@pytest.mark.parametrize("kind", BOTH)
def test_a_batch_with_a_stored_id_or_index_commits_nothing(tmp_path, request, kind):
    url = _url(tmp_path, request, kind, "store_dup")
    store = SqlStore(url)
    store.append([_row(0, "a"), _row(1, "b")], [{"sha256": b"\x01" * 32, "idx": 1}])
    with pytest.raises(DuplicateEventId):
        store.append([_row(2, "c"), _row(3, "a")], [{"sha256": b"\x02" * 32, "idx": 2}])  # id a is stored
    with pytest.raises(DuplicateEventId):
        store.append([_row(1, "d")], [])  # index 1 is taken (another process appended first)
    assert store.size() == 2 and set(store.ids(["a", "b", "c", "d"])) == {"a", "b"}
    store.append([_row(2, "c")], [])  # nothing of the refused batches was left behind
    assert store.size() == 3


@pytest.mark.parametrize("kind", BOTH)
def test_a_writer_waits_for_a_hung_holder_of_the_write_lock_a_bounded_time(tmp_path, request, kind, monkeypatch):
    monkeypatch.setattr(log_module, "WRITE_LOCK_TIMEOUT", 0.3)
    url = _url(tmp_path, request, kind, "store_lock")
    store, hung = SqlStore(url), SqlStore(url)  # two notary processes on one store
    log = NotaryLog(store, SHA256, "370000", "lianzheng.notary/370000")
    refused: list[Exception] = []

    def write(i: int) -> None:
        try:
            log.submit([sample_event(i)], "writer")
        except Unavailable as exc:
            refused.append(exc)

    with hung.write_lock():  # the other process stops while it holds the lock
        started = time.monotonic()
        first = threading.Thread(target=write, args=(1,), daemon=True)
        first.start()
        first.join(5)
        assert not first.is_alive(), "the writer waits without end"
        assert 0.25 < time.monotonic() - started
        assert "write lock has been held by another process for over 0.3 s" in str(refused[0])
        started = time.monotonic()
        write(2)  # while it still hangs, a writer is told at once
        assert time.monotonic() - started < 0.2 and len(refused) == 2
        assert log.refresh() == 0  # readers are not held up by the wait
        assert store.size() == 0 and len(log) == 0
    deadline = time.monotonic() + 5
    while True:  # sent again, as a client does after a 503, until the lock is free
        try:
            accepted = log.submit([sample_event(1), sample_event(2)], "writer")
            break
        except Unavailable:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert [(a.index, a.duplicate) for a in accepted] == [(0, False), (1, False)]
    assert store.size() == 2
    store.close()
    hung.close()
