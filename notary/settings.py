"""All notary settings in one place (pydantic-settings; env prefix ``LIANZHENG_``).

Nothing reads settings at import time: ``create_app(settings)`` and the CLI build them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lianzheng.sdk.merkle import HashName


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIANZHENG_", extra="forbid")

    data_dir: Path = Field(Path("data"), description="keys, SQLite files and the embedded chain live here")
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8000, ge=1, le=65535, description="port to listen on")
    workers: int = Field(1, ge=1, le=64, description="HTTP worker processes, each a whole notary on the one store "
                                                      "(one is elected sequencer); more than 1 needs --rpc")
    region: str = Field("370000", pattern=r"^[1-8][0-9]{5}$", description="GB/T 2260 code of this notary's log")
    origin: str | None = Field(None, description="checkpoint origin line; default lianzheng.notary/<region>")
    hash: HashName = Field("sha256", description="Merkle hash, fixed when the log is created")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in the data dir")
    rpc_url: str | None = Field(None, description="JSON-RPC node; default the embedded chain")
    registry: str | None = Field(None, description="EvidenceRegistry address on a JSON-RPC chain")
    public_rpc_url: str | None = Field(None, description="JSON-RPC URL the witness page reads roots from; default "
                                                         "<notary>/chain/rpc (embedded) or rpc_url")
    public_url: str | None = Field(None, description="base URL printed in certificates' QR codes; default the "
                                                     "URL the request came to")
    tender_contract: str | None = Field(None, description="TenderRules address; default: deployed on first start")
    tender_profiles: list[str] = Field(["engineering", "government_procurement"],
                                       description="trading-type profiles set on a tender contract this notary "
                                                   "deploys (rules/tender/profiles.json; 'demo' is not a legal one)")
    expert_draw_contract: str | None = Field(None, description="ExpertDraw address; default: deployed on first start")
    chain_key_file: Path | None = Field(None, description="the notary's chain account key (hex, mode 0600); "
                                        "default <data dir>/keys/chain.key, made on first start")
    checkpoint_key_file: Path | None = Field(None, description="the Ed25519 key that signs checkpoints (PEM); "
                                             "default <data dir>/keys/checkpoint.pem, made on first start")
    anchor_interval: float = Field(1.0, gt=0, description="seconds between anchors while events arrive")
    anchor_every: int = Field(10_000, ge=1, description="anchor early once this many events wait")
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    max_batch: int = Field(10_000, ge=1, description="events per POST /v1/events")
    rate_limit: float = Field(500.0, gt=0, description="write requests per second per API key (bursts 2x)")
    read_rate: float = Field(200.0, gt=0, description="keyless reads per second per client address (bursts 2x)")
    tile_rate: float = Field(2000.0, gt=0, description="tile, entry bundle and /checkpoint reads per second per "
                             "client address (bursts 2x; a mirror fetches two per 256 entries)")
    trusted_proxies: list[str] = Field(default_factory=list, description="reverse proxies (IPs or CIDR networks) "
                                       "whose X-Forwarded-For names the client; nobody else's header is believed")
    rpc_gas_cap: int = Field(10_000_000, ge=21_000, le=30_000_000, description="gas per eth_call on /chain/rpc "
                             "(at most the embedded chain's block gas limit)")
    rpc_timeout: float = Field(2.0, gt=0, le=60, description="seconds per /chain/rpc call before it is stopped")
    rpc_workers: int = Field(1, ge=1, le=16, description="processes answering /chain/rpc")
    rpc_rate: float = Field(200.0, gt=0, description="/chain/rpc calls per second per client address (bursts 2x)")
    rpc_in_flight: int = Field(4, ge=1, description="/chain/rpc requests in flight per client address")
    log_format: Literal["text", "json"] = Field("text", description="log lines on stderr: text, or json (one "
                                                "object per line, with an access line per request)")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is not None:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                url = make_url(value)
            except ArgumentError:
                raise ValueError("not a database URL (e.g. postgresql+psycopg://user@host/db)") from None
            if url.get_backend_name() not in ("sqlite", "postgresql"):
                raise ValueError(f"database {url.get_backend_name()!r}: SQLite or PostgreSQL only")
        return value

    @field_validator("registry", "tender_contract", "expert_draw_contract")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            from eth_utils import is_address

            if not is_address(value):
                raise ValueError(f"{value!r} is not a 20-byte hex address (0x…)")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        from lianzheng.notary.api.clients import parse_networks

        parse_networks(value)  # ValueError names the entry that is not an address or network
        return value

    @field_validator("tender_profiles")
    @classmethod
    def _profiles(cls, value: list[str]) -> list[str]:
        from lianzheng.rules.tender.sections import load_profiles

        unknown = set(value) - set(load_profiles())
        if unknown:
            raise ValueError(f"unknown tender profile {', '.join(sorted(unknown))} (rules/tender/profiles.json)")
        return value

    @property
    def log_origin(self) -> str:
        return self.origin or f"lianzheng.notary/{self.region}"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'notary.db').resolve()}"

    @property
    def chain_key_path(self) -> Path:
        return self.chain_key_file or self.data_dir / "keys" / "chain.key"

    @property
    def checkpoint_key_path(self) -> Path:
        return self.checkpoint_key_file or self.data_dir / "keys" / "checkpoint.pem"
