"""Public reads: receipts, checkpoint, proofs, entries, documents. No key needed."""
from __future__ import annotations

import base64
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Response

from lianzheng.notary.api.deps import LogDep, ViewerDep
from lianzheng.notary.api.limits import limit_reads
from lianzheng.notary.errors import BadRange
from lianzheng.notary.services.log import MAX_RANGE
from lianzheng.sdk.receipt import Receipt

router = APIRouter(tags=["reads"], dependencies=[Depends(limit_reads)])

Index = Annotated[int, Query(ge=0, le=2**62)]
EventId = Annotated[str, Path(min_length=1, max_length=128)]


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


@router.get("/v1/receipts/{event_id}", response_model=Receipt,
            summary="The receipt of an event (upgraded once anchored); payload sealed unless your key may read it")
def get_receipt(event_id: EventId, log: LogDep, viewer: ViewerDep) -> Response:
    # Serialized once, by the receipt itself (the response model would validate it again first).
    return Response(content=log.receipt(event_id, viewer).model_dump_json(), media_type="application/json")


@router.get("/v1/checkpoint",
            summary="The latest anchored checkpoint (signed note) and its anchor, or the one of ?size=")
def get_checkpoint(log: LogDep, size: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None) -> dict:
    return log.checkpoint(size)


@router.get("/v1/proofs/inclusion", summary="RFC 9162 inclusion proof, by index or event id")
def get_inclusion(
    log: LogDep,
    index: Index | None = None,
    event_id: Annotated[str | None, Query(max_length=128)] = None,
    size: Index | None = None,
) -> dict:
    if (index is None) == (event_id is None):
        raise BadRange("give exactly one of index or event_id")
    if event_id is not None:
        index = log.index_of(event_id)
    proof = log.inclusion_proof(index, size)
    return {"index": index, "tree_size": size if size is not None else len(log), "hashes": _b64(proof)}


@router.get("/v1/proofs/consistency", summary="RFC 9162 consistency proof between two tree sizes")
def get_consistency(
    log: LogDep,
    from_: Annotated[int, Query(alias="from", ge=0, le=2**62)],
    to: Index | None = None,
) -> dict:
    proof = log.consistency_proof(from_, to)
    return {"from": from_, "to": to if to is not None else len(log), "hashes": _b64(proof)}


@router.get("/v1/entries", summary=f"Log entries [start, end): event ids and digests, at most {MAX_RANGE}",
            response_class=Response, responses={200: {"content": {"application/json": {}}}})
def get_entries(log: LogDep, start: Index, end: Index) -> Response:
    rows = log.entries(start, end)
    # Mirrors read the whole log through here: serialized once with orjson (measured ~2x a dict response)
    body = orjson.dumps({"entries": [{"index": i, "event_id": eid, "event_digest": d.hex()} for i, eid, d in rows],
                         "tree_size": len(log)})
    return Response(content=body, media_type="application/json")


@router.get("/v1/documents/{sha256}", summary="Events that reference a document (hashes and metadata only)")
def get_document(
    log: LogDep,
    sha256: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{64}$")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict:
    return {"sha256": sha256.lower(), "events": log.documents(sha256.lower(), limit)}
