"""`/docs` works with no internet and under its Content-Security-Policy: Swagger UI's files come
from the notary, and its one inline script is allowed by hash only on that page. The page is
sandboxed (an opaque origin): it cannot read the witness page's trust anchors in localStorage."""
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
    assert "sandbox allow-scripts" in policy and "allow-same-origin" not in policy
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
        page.goto(site.url + "/")  # the witness page's origin, with something in its storage
        page.evaluate("localStorage.setItem('lianzheng-docs-test', 'anchor')")
        page.goto(site.url + "/docs")
        page.locator(".opblock-post .opblock-summary-path[data-path='/v1/events']").wait_for(timeout=20000)
        storage = page.evaluate("(() => { try { return localStorage.length } catch (e) { return 'blocked' } })()")
        cookies = page.evaluate("(() => { try { return document.cookie } catch (e) { return 'blocked' } })()")
    finally:
        context.close()
    assert outside == []
    assert storage == "blocked" and cookies == "blocked"  # an opaque origin: not the witness page's
    assert not [e for e in errors if "Content Security Policy" in e or "Content-Security-Policy" in e], errors
    assert errors == []


def test_docs_and_its_assets_count_as_keyless_reads(tmp_path):
    from fastapi.testclient import TestClient

    from lianzheng.notary.api.app import create_app
    from lianzheng.notary.settings import Settings

    client = TestClient(create_app(Settings(data_dir=tmp_path / "data", read_rate=1)))  # bursts 2
    for path in ("/docs", "/docs/swagger-ui-bundle.js"):
        answers = [client.get(path).status_code for _ in range(3)]
        assert answers[-1] == 429, (path, answers)
        client = TestClient(create_app(Settings(data_dir=tmp_path / "data", read_rate=1)))
