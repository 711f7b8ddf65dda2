"""The store refuses a batch holding an id or index it has, whole, on both databases (the
sequencer then looks the ids up and redoes the batch: ``notary.services.log``)."""
from __future__ import annotations

import pytest

from lianzheng.notary.errors import DuplicateEventId
from lianzheng.notary.store import SqlStore


def _row(i: int, event_id: str) -> dict:
    return {"idx": i, "event_id": event_id, "digest": bytes([i]) * 32, "event_json": "{}", "writer": "w",
            "received_at": 0.0, "project": "P", "section": "S"}


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_batch_with_a_stored_id_or_index_commits_nothing(tmp_path, request, kind):
    url = (f"sqlite:///{tmp_path / 'log.db'}" if kind == "sqlite"
           else request.getfixturevalue("postgres").create_database("store_dup"))
    store = SqlStore(url)
    store.append([_row(0, "a"), _row(1, "b")], [{"sha256": b"\x01" * 32, "idx": 1}])
    with pytest.raises(DuplicateEventId):
        store.append([_row(2, "c"), _row(3, "a")], [{"sha256": b"\x02" * 32, "idx": 2}])  # id a is stored
    with pytest.raises(DuplicateEventId):
        store.append([_row(1, "d")], [])  # index 1 is taken (another process appended first)
    assert store.size() == 2 and set(store.ids(["a", "b", "c", "d"])) == {"a", "b"}
    store.append([_row(2, "c")], [])  # nothing of the refused batches was left behind
    assert store.size() == 3
