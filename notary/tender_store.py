"""The desk's tender tables: sections it serves, sealed boxes, refusals, released shares.

The same engine as the log's store (SQLite or PostgreSQL); boxes are private until sealed.
"""
from __future__ import annotations

import time

from sqlalchemy import select, update
from sqlmodel import Session

from lianzheng.notary.models import BoxItem, BoxRefusal, ShareRelease, TenderSection
from lianzheng.notary.store import SqlStore


class TenderStore:
    def __init__(self, store: SqlStore) -> None:
        self.engine = store.engine

    def add_section(self, section_id: str, owner: str, signal_key: bytes, holders_json: str) -> None:
        with Session(self.engine) as s:
            s.merge(TenderSection(section_id=section_id, owner=owner, signal_key=signal_key, holders_json=holders_json,
                                  created_at=time.time()))
            s.commit()

    def section(self, section_id: str) -> TenderSection | None:
        with Session(self.engine, expire_on_commit=False) as s:
            return s.get(TenderSection, section_id)

    def mark_sealed(self, section_id: str) -> None:
        with self.engine.begin() as conn:
            t = TenderSection.__table__
            conn.execute(update(t).where(t.c.section_id == section_id).values(sealed=True))

    def add_entry(self, section_id: str, idx: int, entry_json: str, private_json: str) -> None:
        """Durable before the bidder gets its receipt."""
        with Session(self.engine) as s:
            s.add(BoxItem(section_id=section_id, idx=idx, entry_json=entry_json, private_json=private_json))
            s.commit()

    def entries(self, section_id: str) -> list[BoxItem]:
        with Session(self.engine, expire_on_commit=False) as s:
            stmt = select(BoxItem).where(BoxItem.section_id == section_id).order_by(BoxItem.idx)
            return list(s.execute(stmt).scalars())

    def settle(self, section_id: str, idx: int, state: str) -> None:
        with self.engine.begin() as conn:
            t = BoxItem.__table__
            conn.execute(update(t).where(t.c.section_id == section_id, t.c.idx == idx).values(settled=state))

    def add_refusal(self, section_id: str, reason: str) -> None:
        with Session(self.engine) as s:
            s.add(BoxRefusal(section_id=section_id, reason=reason, received_at=time.time()))
            s.commit()

    def refusals(self, section_id: str) -> list[BoxRefusal]:
        with Session(self.engine, expire_on_commit=False) as s:
            stmt = select(BoxRefusal).where(BoxRefusal.section_id == section_id).order_by(BoxRefusal.id)
            return list(s.execute(stmt).scalars())

    def add_release(self, section_id: str, holder: str, shares_json: str) -> None:
        with Session(self.engine) as s:
            s.merge(ShareRelease(section_id=section_id, holder=holder, shares_json=shares_json))
            s.commit()

    def releases(self, section_id: str) -> list[ShareRelease]:
        with Session(self.engine, expire_on_commit=False) as s:
            return list(s.execute(select(ShareRelease).where(ShareRelease.section_id == section_id)).scalars())
