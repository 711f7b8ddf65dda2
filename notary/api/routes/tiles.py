"""The log as static files, at the C2SP tlog-tiles paths (https://c2sp.org/tlog-tiles).

``/tile/<L>/<N>[.p/<W>]`` (hashes), ``/tile/entries/<N>[.p/<W>]`` (entry bundles: each leaf's
data, the 32-byte event digest, after its 2-byte length) and ``/checkpoint`` (the latest
anchored signed note). A tile's bytes at a given path never change, so tiles and bundles are
served as immutable: mirrors and CDNs may keep them forever. Read-only, no key.
"""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Response

from lianzheng.notary.api.deps import LogDep
from lianzheng.notary.api.limits import limit_tiles
from lianzheng.notary.errors import BadRange
from lianzheng.notary.services.log import NotaryLog
from lianzheng.notary.tiles import parse_tile_index

router = APIRouter(tags=["tiles"], dependencies=[Depends(limit_tiles)])

IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
MAX_LEVEL = 7  # 256**8 leaves is beyond any log


@router.get("/tile/{level}/{index:path}", response_class=Response,
            summary="A C2SP tile (level 0..7) or entry bundle (level 'entries'); .p/W for a partial one",
            responses={200: {"content": {"application/octet-stream": {}}}, 404: {"description": "beyond the log"}})
def get_tile(level: str, index: str, log: LogDep) -> Response:
    return Response(content=tile_bytes(log, level, index), media_type="application/octet-stream", headers=IMMUTABLE)


def tile_bytes(log: NotaryLog, level: str, index: str) -> bytes:
    """The bytes at ``/tile/<level>/<index>`` (the route's and the fast lane's one implementation)."""
    try:
        number, width = parse_tile_index(index)
    except ValueError as exc:
        raise BadRange(f"tile path {index!r}: {exc}") from exc
    if level == "entries":
        body = log.entry_bundle(number, width)
    elif re.fullmatch(f"[0-{MAX_LEVEL}]", level):
        body = log.tile(int(level), number, width)
    else:
        raise BadRange(f"tile level {level!r}: expected 0..{MAX_LEVEL} or 'entries'")
    return body


@router.get("/checkpoint", response_class=Response, summary="The latest anchored checkpoint (C2SP signed note)",
            responses={200: {"content": {"text/plain": {}}}, 404: {"description": "nothing anchored yet"}})
def get_checkpoint_note(log: LogDep) -> Response:
    note = log.checkpoint()["note"]
    return Response(content=note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})
