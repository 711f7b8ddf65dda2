"""`/docs` works with no internet and under its Content-Security-Policy: Swagger UI's files come
from the notary, and its one inline script is allowed by hash only on that page."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import httpx


def test_every_asset_docs_references_is_served_by_the_notary(site):
    page = httpx.get(site.url + "/docs")
    assert page.status_code == 200
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
    assert len(refs) == 4  # stylesheet, icon, bundle, the schema
    for ref in refs:
        url = urljoin(site.url + "/docs", ref)
        assert urlparse(url).netloc == urlparse(site.url).netloc, ref
        assert httpx.get(url).status_code == 200, ref
    policy = page.headers["content-security-policy"]
    assert "'sha256-" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "'sha256-" not in httpx.get(site.url + "/").headers["content-security-policy"]
    assert httpx.get(site.url + "/docs/index.html").status_code == 404
    assert httpx.get(site.url + "/redoc").status_code == 404


def test_swagger_ui_renders_offline(browser, site):
    context = browser.new_context()
    outside = []

    def block_outside(route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", block_outside)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(site.url + "/docs")
        page.locator(".opblock-post .opblock-summary-path[data-path='/v1/events']").wait_for(timeout=20000)
    finally:
        context.close()
    assert outside == []
    assert not [e for e in errors if "Content Security Policy" in e or "Content-Security-Policy" in e], errors
    assert errors == []
