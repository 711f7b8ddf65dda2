"""The standalone verifier: `lianzheng page export` writes one HTML file that a witness opens from
file:// and points at any notary and chain node — no code served by the notary it checks."""
from __future__ import annotations

import hashlib
import re

import pytest

from tests.helpers import cli
from tests.notary.web.conftest import PROJECT, SECTION

pytestmark = pytest.mark.slow


def test_the_exported_page_verifies_from_file_urls(browser, site, tmp_path):
    out = tmp_path / "verifier.html"
    result = cli("page", "export", "-o", str(out), check=True)
    html = out.read_bytes()
    assert result.stdout.strip() == f"{out}: {len(html)} bytes, sha256 {hashlib.sha256(html).hexdigest()}"
    text = html.decode()
    assert not re.search(r'(src|href)="/', text) and "<script type=\"module\">" in text  # nothing to fetch
    assert "Content-Security-Policy" in text

    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(out.as_uri() + f"?project={PROJECT}&section={SECTION}&notary={site.url}")
    page.wait_for_selector("body[data-ready='1']")
    assert page.is_visible("#notary") and page.input_value("#notary") == site.url
    assert page.locator("#trust [data-kind='no_registry']").count() == 1
    for name, value in (("registry", site.registry), ("rpc", site.rpc)):
        page.fill(f"#{name}", value)
        page.dispatch_event(f"#{name}", "change")
    page.click("#timeline-show")
    page.wait_for_selector("#timeline-check[data-done='true']", timeout=60_000)
    statuses = page.eval_on_selector_all("#timeline .check", "els => els.map(e => e.dataset.status)")
    assert statuses and set(statuses) == {"verified"}
    assert "完整性" in page.inner_text("#timeline-check") and "风险预警：1 项" in page.inner_text("#timeline-warnings")

    page.set_input_files("#file-input", str(site.files["contract"]))
    page.wait_for_selector("#file-result [data-status='verified'], #file-result [data-status='failed']")
    assert page.locator("#file-result [data-status='verified']").count() == 1
    assert not errors
    context.close()


def test_the_inlined_modules_parse_as_one_script(tmp_path):
    """The export drops the modules' imports and exports: their top-level names must stay distinct (a
    second `const` of a name is a SyntaxError that would leave the page dead)."""
    import shutil
    import subprocess

    from lianzheng.notary.services.page import standalone_html

    html = standalone_html("0x" + "11" * 20, "https://node.example/rpc")
    script = re.search(r'<script type="module">\n(.*)</script>', html, re.S).group(1)
    (tmp_path / "inline.mjs").write_text(script)
    node = shutil.which("node")
    assert node, "node is installed by ./scripts/test (npm packages)"
    result = subprocess.run([node, "--check", str(tmp_path / "inline.mjs")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert ('Object.freeze({"registry": "0x1111111111111111111111111111111111111111", '
            '"rpc": "https://node.example/rpc"})') in script
