"""What a mirror serves (``lianzheng mirror --serve``): the entries and proofs it verified.

A mirror holds no payloads, only what the source's ``/v1/entries`` gives (event ids and
digests), so it serves inclusion proofs against the latest checkpoint anchored on the source
chain, not receipts. A holder of an event (and its notary salt, from the receipt) checks it
with the digest: leaf = H(0x00 || digest), root = the registry's anchored root at that size.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Path, Query
from fastapi.responses import JSONResponse

from lianzheng.alliance.errors import MirrorError
from lianzheng.alliance.mirror import Mirror

MAX_PAGE = 5000


def create_mirror_app(mirror: Mirror) -> FastAPI:
    app = FastAPI(title="Lianzheng mirror", summary="Entries and inclusion proofs of a mirrored notary log")

    @app.get("/healthz")
    def health() -> dict:
        verified = mirror.verified()
        return {"status": "ok", "region": str(mirror.region), "chain_id": mirror.reader.chain_id,
                "registry": mirror.reader.address, "verified_size": verified[0] if verified else 0}

    @app.get("/v1/proofs/inclusion/{event_id}", summary="Inclusion proof of a mirrored event (latest verified size)")
    def proof(event_id: Annotated[str, Path(max_length=128)]):
        try:
            return mirror.proof(event_id)
        except MirrorError as exc:
            return JSONResponse({"code": "not_found", "message": str(exc)}, status_code=404)

    @app.get("/v1/entries", summary=f"Verified entries [start, end), at most {MAX_PAGE}")
    def entries(start: Annotated[int, Query(ge=0)], end: Annotated[int, Query(ge=1)]):
        if end <= start or end - start > MAX_PAGE:
            return JSONResponse({"code": "bad_range", "message": f"need start < end, at most {MAX_PAGE} entries"},
                                status_code=400)
        rows = mirror.db.execute("SELECT idx, event_id, digest FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
                                 (start, end)).fetchall()
        return {"entries": [{"index": i, "event_id": e, "event_digest": d.hex()} for i, e, d in rows]}

    return app
