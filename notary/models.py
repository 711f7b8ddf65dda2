"""Tables of the notary store (SQLModel: SQLite and PostgreSQL with the same code)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, Text
from sqlmodel import Field, SQLModel

from lianzheng.sdk.receipt import Anchor, Cosignature, RelayDomain


class Entry(SQLModel, table=True):
    """One logged event. ``idx`` is its leaf index: dense, from 0, never rewritten."""

    __tablename__ = "entries"
    __table_args__ = (Index("ix_entries_section", "project", "section", "idx"),)
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str = Field(max_length=128, unique=True)
    digest: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    event_json: str = Field(sa_column=Column(Text, nullable=False))
    writer: str = Field(max_length=64)
    received_at: float
    project: str = Field(max_length=128)
    section: str | None = Field(default=None, max_length=128)


class EntryDocument(SQLModel, table=True):
    """Which entries reference a document. The primary key is the lookup index (one B-tree;
    raw 32-byte hashes: measured 3.7x faster batch inserts than hex text plus an index)."""

    __tablename__ = "entry_documents"
    __table_args__ = {"sqlite_with_rowid": False}
    sha256: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


class TreeTile(SQLModel, table=True):
    """A C2SP tlog-tile of the log's tree (``notary.tiles``): up to 256 hashes of one level, or at
    level -1 an entry bundle; stored as its longest prefix so far, written with the entries it
    covers, in the same transaction."""

    __tablename__ = "tiles"
    __table_args__ = {"sqlite_with_rowid": False}
    level: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class AnchorIntent(SQLModel, table=True):
    """An anchor of one tree size, recorded before its transaction is sent.

    At most one row per size is not ``failed``; a row is failed only when its transaction
    can never land (reverted, or its nonce was taken by another transaction).
    """

    __tablename__ = "anchors"
    id: int | None = Field(default=None, primary_key=True)
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    checkpoint: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16, index=True)  # intent | confirmed | failed
    chain_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    registry_address: str = Field(max_length=42)
    tx_hash: str = Field(max_length=66)
    raw_tx: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    nonce: int
    block_number: int | None = Field(default=None, sa_column=Column(BigInteger))
    block_time: int | None = Field(default=None, sa_column=Column(BigInteger))
    gas_used: int | None = None
    created_at: float

    def as_anchor(self) -> Anchor:
        """Where a confirmed anchor is on chain, as receipts, checkpoints and timelines show it."""
        return Anchor(chain_id=self.chain_id, registry=self.registry_address, tx_hash=self.tx_hash,
                      block_number=self.block_number, block_time=self.block_time, tree_size=self.tree_size)


class CheckpointCosignature(SQLModel, table=True):
    """An alliance member's attestation of an anchored checkpoint of this log, for one relay's
    EIP-712 domain; checked against the anchored root before it is stored. One per member, relay
    and size."""

    __tablename__ = "cosignatures"
    tree_size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    relay_chain_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    relay_address: str = Field(primary_key=True, max_length=42)  # checksummed
    member: str = Field(primary_key=True, max_length=42)  # checksummed
    epoch: int = Field(sa_column=Column(BigInteger, nullable=False))
    signature: bytes = Field(sa_column=Column(LargeBinary(65), nullable=False))
    received_at: float

    def as_cosignature(self) -> Cosignature:
        """As receipts carry it."""
        return Cosignature(relay=RelayDomain(chain_id=self.relay_chain_id, address=self.relay_address),
                           member=self.member, epoch=self.epoch, signature="0x" + self.signature.hex())


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"
    name: str = Field(primary_key=True, max_length=64)
    key_hash: str = Field(max_length=64, unique=True)
    role: str = Field(default="writer", max_length=16)  # writer: logs events; reader: reads payloads
    created_at: float
    revoked: bool = False


class Meta(SQLModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class TenderSection(SQLModel, table=True):
    """A tender section this notary's desk serves: who owns it over HTTP, and its private keys."""

    __tablename__ = "tender_sections"
    section_id: str = Field(primary_key=True, max_length=64)
    owner: str = Field(max_length=64)  # the writer key that opened it
    signal_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))  # keys the collusion signals
    holders_json: str = Field(sa_column=Column(Text, nullable=False))  # [{account, x25519}] bidders seal to
    sealed: bool = False
    created_at: float


class BoxItem(SQLModel, table=True):
    """One entry of a section's sealed box. ``entry_json`` is public once sealed; ``private_json``
    (ciphertext, sealed shares, what opening reveals) stays with the desk, in the domain."""

    __tablename__ = "box_entries"
    section_id: str = Field(primary_key=True, max_length=64)
    idx: int = Field(primary_key=True)
    entry_json: str = Field(sa_column=Column(Text, nullable=False))
    private_json: str = Field(sa_column=Column(Text, nullable=False))
    settled: str = Field(default="", max_length=16)  # "", valid, inconsistent, revoked, withdrawn


class BoxRefusal(SQLModel, table=True):
    """A submission the desk refused before the deadline; published with the box at the seal."""

    __tablename__ = "box_refusals"
    id: int | None = Field(default=None, primary_key=True)
    section_id: str = Field(max_length=64, index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    received_at: float


class ShareRelease(SQLModel, table=True):
    """The shares a holder released for a section (their digest is on chain)."""

    __tablename__ = "share_releases"
    section_id: str = Field(primary_key=True, max_length=64)
    holder: str = Field(primary_key=True, max_length=42)
    shares_json: str = Field(sa_column=Column(Text, nullable=False))
