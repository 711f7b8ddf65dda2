"""Witness reads: the verification page, a section's timeline, the witness certificate (PDF).

All public: they show public forms (hashes, public fields, rule outcomes), never payloads.
"""
from __future__ import annotations

import re
from importlib import resources
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from lianzheng.notary.api.deps import PublicConfigDep, SettingsDep, WitnessDep
from lianzheng.notary.api.limits import get_limits, limit_reads
from lianzheng.notary.services import page as page_data
from lianzheng.sdk.event import IDENT_PATTERN

router = APIRouter(tags=["witness"])

Ident = Annotated[str, Query(min_length=1, max_length=128, pattern=IDENT_PATTERN)]
WEB = resources.files("lianzheng.notary") / "web"
ASSET = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\.(js|css)")
ASSET_TYPES = {"js": "text/javascript", "css": "text/css"}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page() -> HTMLResponse:
    return HTMLResponse((WEB / "index.html").read_text(encoding="utf-8"))


@router.get("/web/{name}", include_in_schema=False)
def asset(name: str) -> Response:
    if name == "table.js":  # generated: the shared words and the rule contracts' fingerprints
        return Response(page_data.table_js(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})
    match = ASSET.fullmatch(name)  # checked before the file system sees the name (too long, odd bytes)
    item = WEB / name if match else None
    if item is None or not item.is_file():
        return Response(status_code=404, content=b'{"code":"not_found","message":"no such asset"}',
                        media_type="application/json")
    return Response(item.read_bytes(), media_type=ASSET_TYPES[match.group(1)], headers={"Cache-Control": "no-cache"})


@router.get("/v1/config", dependencies=[Depends(limit_reads)],
            summary="What the verification page needs: chain, registry, RPC for browsers")
def config(public_config: PublicConfigDep) -> dict:
    return public_config


@router.get("/v1/timeline", dependencies=[Depends(limit_reads)],
            summary="A project's (or section's) events in log order with anchors and rule outcomes")
def get_timeline(witness: WitnessDep, project: Ident, section: Ident | None = None) -> dict:
    return witness.timeline(project, section)


@router.get("/v1/certificates/{section}", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}},
            summary="Electronic witness certificate (PDF, signed evidence attached) of a section")
def get_certificate(section: Annotated[str, Path(min_length=1, max_length=128, pattern=IDENT_PATTERN)],
                    request: Request, witness: WitnessDep, settings: SettingsDep,
                    project: Ident | None = None) -> Response:
    limits = get_limits(request)
    limits.certificates.take(f"certificates from {limits.client(request)}")
    project = witness.resolve_project(section, project)
    base = settings.public_url or str(request.base_url)
    verify_url = base.rstrip("/") + "/?" + urlencode({"project": project, "section": section})
    from lianzheng.notary.services import certificate_pdf  # reportlab and pikepdf: ~0.4 s of imports, not at start

    pdf = certificate_pdf.render(witness.certificate_evidence(project, section, verify_url))
    filename = f"certificate-{section}.pdf".replace('"', "")
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
