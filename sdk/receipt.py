"""Receipts: self-contained evidence that an event sits in a notary log anchored on chain.

A receipt is ``pending`` when issued (index known, no anchor yet) and ``anchored`` once
its tree size is on chain; the anchored receipt holds a C2SP tlog-proof (inclusion path
and signed checkpoint) plus where the anchor is (chain id, registry, tx, block, time).

An anchored receipt may also carry alliance members' ``cosignatures`` of its checkpoint: each
is a member's EIP-712 attestation, made for one AllianceRelay (``relay``: the domain's chain id
and contract), of exactly (anchor chain id, registry, region, tree size, root) in the member's
epoch on that relay. With them and the members' list, ``lianzheng.sdk.cosign`` verifies the
receipt with no chain at all. A receipt without cosignatures serializes as before (no field).
"""
from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer

from lianzheng.sdk.errors import MalformedError, first_invalid
from lianzheng.sdk.merkle import HashName

RECEIPT_FORMAT = "lianzheng-receipt/1"
MAX_RECEIPT_BYTES = 4 * 1024 * 1024


class Anchor(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chain_id: int = Field(ge=0)
    registry: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    tx_hash: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    block_number: int = Field(ge=0)
    block_time: int = Field(ge=0, description="Unix seconds of the anchoring block")
    tree_size: int = Field(ge=1)


class LogInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    origin: str
    region: str = Field(pattern=r"^[1-8][0-9]{5}$")
    hash: HashName


ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class RelayDomain(BaseModel):
    """An AllianceRelay, as the EIP-712 domain its attestations are signed for (name
    ``LianzhengAllianceRelay``, version ``1``, this chain id and contract)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    chain_id: int = Field(ge=0, lt=2**63)
    address: str = Field(pattern=ADDRESS)


class Cosignature(BaseModel):
    """An alliance member's attestation of the receipt's anchored checkpoint (65-byte signature)."""

    model_config = ConfigDict(extra="forbid")
    relay: RelayDomain
    member: str = Field(pattern=ADDRESS)
    epoch: int = Field(ge=1, lt=2**64)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class Receipt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["lianzheng-receipt/1"] = RECEIPT_FORMAT
    status: Literal["pending", "anchored"]
    event_id: str
    event: dict[str, Any]
    event_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    log: LogInfo
    index: int = Field(ge=0)
    proof: str | None = Field(None, description="C2SP tlog-proof text, once anchored")
    anchor: Anchor | None = None
    cosignatures: list[Cosignature] = Field(default_factory=list, max_length=1024,
                                            description="alliance members' attestations of the anchored checkpoint")

    @model_serializer(mode="wrap")
    def _without_empty_cosignatures(self, handler):
        data = handler(self)
        if not self.cosignatures:  # receipts from before cosignatures keep their exact JSON
            data.pop("cosignatures", None)
        return data

    def public(self) -> "Receipt":
        """This receipt with its event in public form (payload, document names and salt sealed)."""
        from lianzheng.sdk.event import public_form
        from lianzheng.sdk.merkle import hasher

        return self.model_copy(update={"event": public_form(self.event, hasher(self.log.hash))})

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def parse_receipt(data: str | bytes | dict[str, Any]) -> Receipt:
    """A ``Receipt`` from JSON text or a decoded object; ``MalformedError`` otherwise."""
    if isinstance(data, (str, bytes)):
        if len(data) > MAX_RECEIPT_BYTES:
            raise MalformedError("receipt is larger than 4 MiB")
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise MalformedError(f"not a Lianzheng receipt: not JSON ({exc})") from exc
    try:
        return Receipt.model_validate(data)
    except ValidationError as exc:
        raise first_invalid(exc, "not a Lianzheng receipt", "receipt") from exc
