"""``/docs``: Swagger UI served by the notary itself, so it works offline and under our CSP.

FastAPI's default page loads Swagger UI from a CDN: blank on a machine without internet, and
refused anyway by a policy that allows scripts from the notary only. The files come from the
``fastapi-swagger`` package (Swagger UI's release files, Apache-2.0, kept current there); the
page is FastAPI's own ``get_swagger_ui_html``, whose one inline script is allowed by its hash
in a policy for this page alone: the rest of the site allows no inline script at all.

The page runs sandboxed (CSP ``sandbox allow-scripts``: an opaque origin). Swagger UI is a large
third-party script on the witness page's origin, and the witness page keeps its trust anchors in
that origin's localStorage; sandboxed, /docs can read neither the storage nor the cookies. It
fetches /openapi.json cross-origin, which CORS allows for any origin (app.py). "Try it out" works
for keyless reads; a write's Authorization header never passes CORS, so writes are tried with a
client, not here. Page and assets count as keyless reads (the bundle is 1.7 MB).
"""
from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from lianzheng.notary.api.limits import limit_reads
from lianzheng.notary.errors import NotFound

DOCS = "/docs"
ASSETS = {  # route under /docs/ -> (file in fastapi_swagger/resources, media type)
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui.css", "text/css"),
    "favicon.png": ("favicon-32x32.png", "image/png"),
}
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_csp(html: str) -> str:
    """The page's policy: scripts from the notary plus exactly the inline scripts ``html`` has."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
                      for s in INLINE_SCRIPT.findall(html))
    # img-src data: for the icons inlined in swagger-ui.css; connect-src 'self' for the
    # schema and "Try it out".
    return (f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
            "sandbox allow-scripts")


@cache
def _asset(name: str) -> bytes:
    return (resources.files("fastapi_swagger") / "resources" / ASSETS[name][0]).read_bytes()


def docs_router(app: FastAPI) -> APIRouter:
    """The page and its assets for ``app`` (create it with ``docs_url=None, redoc_url=None``)."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(limit_reads)])
    html = get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} - API",
                               swagger_js_url=f"{DOCS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS}/swagger-ui.css",
                               swagger_favicon_url=f"{DOCS}/favicon.png").body.decode()
    headers = {"Content-Security-Policy": docs_csp(html)}

    @router.get(DOCS)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers=headers)

    @router.get(DOCS + "/{name}")
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFound(f"no such asset: /docs/{name}")
        return Response(_asset(name), media_type=ASSETS[name][1], headers={"Cache-Control": "public, max-age=86400"})

    return router
