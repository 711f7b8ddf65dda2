"""The witness page in a real headless Chromium: files, receipts, the timeline, the languages."""
from __future__ import annotations

import hashlib
import json
import os
import re
from importlib import resources

import httpx
import pytest
from eth_utils import keccak

from lianzheng.sdk.certificate import extract_evidence
from tests.notary.web.conftest import DOC_NAME, PROJECT, SECRET, SECTION, trust

pytestmark = pytest.mark.slow


def _results(page, selector: str, timeout: float = 60_000):
    page.wait_for_selector(f"{selector} [data-status='verified'], {selector} [data-status='failed'], "
                           f"{selector} [data-status='not_found']", timeout=timeout)
    return page.locator(f"{selector} [data-status]")


def test_a_notarized_file_dropped_on_the_page_verifies_with_its_block(page, site):
    page.set_input_files("#file-input", str(site.files["contract"]))
    results = _results(page, "#file-result")
    shown = results.first
    assert shown.get_attribute("data-sha256") == hashlib.sha256(site.files["contract"].read_bytes()).hexdigest()
    verified = page.locator("#file-result [data-status='verified']")
    assert verified.count() == 1
    block = site.receipts["archive-1"]["anchor"]["block_number"]
    assert verified.get_attribute("data-block") == str(block)
    assert f"区块 {block}" in verified.inner_text() and "archive-1" in verified.inner_text()


def test_a_changed_file_is_not_found(page, site):
    page.set_input_files("#file-input", str(site.files["changed"]))
    results = _results(page, "#file-result")
    assert page.locator("#file-result [data-status='not_found']").count() == 1
    assert page.locator("#file-result [data-status='verified']").count() == 0
    assert "未找到" in results.last.inner_text()


def _verify_receipt(page, receipt: dict) -> tuple[str, str]:
    page.fill("#receipt-text", json.dumps(receipt))
    page.click("#receipt-verify")
    result = _results(page, "#receipt-result").last
    return result.get_attribute("data-status"), result.inner_text()


def test_a_pasted_receipt_verifies_and_a_tampered_one_fails_with_its_reason(page, site, tmp_path):
    receipt = site.receipts["archive-1"]  # the writer's full receipt, payload included
    status, text = _verify_receipt(page, receipt)
    assert status == "verified" and str(receipt["anchor"]["block_number"]) in text
    assert "archive Shandong archive room 3" in text  # where it was archived, as the writer published it

    held, other = tmp_path / "event.json", tmp_path / "other.json"
    held.write_text(json.dumps({**site.events["archive-1"], "actor": receipt["event"]["actor"]}))
    other.write_text(json.dumps({**site.events["archive-1"], "actor": receipt["event"]["actor"],
                                 "payload": {"price": "1.00"}}))
    page.set_input_files("#receipt-event", str(held))
    assert _verify_receipt(page, receipt)[0] == "verified"
    page.set_input_files("#receipt-event", str(other))
    status, text = _verify_receipt(page, receipt)
    assert status == "failed" and "您持有的事件与公证的事件不同" in text
    page.set_input_files("#receipt-event", [])

    changed = json.loads(json.dumps(receipt))
    changed["event"]["payload"]["price"] = "1.00"
    status, text = _verify_receipt(page, changed)
    assert status == "failed" and "核验失败 FAILED" in text and "事件已被改动" in text

    forged = json.loads(json.dumps(receipt))
    head, _, note = forged["proof"].partition("\n\n")
    lines = head.split("\n")
    first = next(i for i, line in enumerate(lines) if i > 1 and not line.startswith(("index", "extra")))
    lines[first] = "A" * 43 + "="
    forged["proof"] = "\n".join(lines) + "\n\n" + note
    page.click("#lang")  # English
    status, text = _verify_receipt(page, forged)
    assert status == "failed" and "FAILED" in text and "does not lead to the signed root" in text

    public = httpx.get(f"{site.url}/v1/receipts/archive-1").json()
    assert _verify_receipt(page, public)[0] == "verified"
    public["event"]["public"]["archive"] = "elsewhere"
    status, text = _verify_receipt(page, public)
    assert status == "failed" and "was changed" in text


def test_the_timeline_shows_rule_outcomes_and_highlights_the_collusion_flag(page, site):
    page.goto(f"{site.url}/?project={PROJECT}&section={SECTION}")
    page.wait_for_selector("#timeline-check[data-done='true']", timeout=60_000)  # rows show what was verified
    warning = page.locator("#timeline li.warning")
    assert warning.count() == 1 and "围标串标预警" in warning.inner_text()
    assert "风险预警" in page.inner_text("#timeline-warnings")
    types = page.eval_on_selector_all("#timeline li", "els => els.map(e => e.dataset.type)")
    assert types[0] == "tender.section_opened" and "bid.sealed" in types and "tender.opening_closed" in types
    assert types.index("tender.flag.shared_signal") > types.index("tender.box_sealed")
    assert "区块" in page.inner_text("#timeline")  # every rule event shows its anchor
    # ... and the page itself checks each one against the root on chain, not trusting the notary's list
    page.wait_for_selector("#timeline-check[data-done='true']", timeout=60_000)
    checks = page.eval_on_selector_all("#timeline .check", "els => els.map(e => e.dataset.status)")
    assert len(checks) == len(types) and set(checks) == {"verified"}
    assert f"{len(types)} / {len(types)}" in page.inner_text("#timeline-check")
    page.click("#lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "collusion warning" in page.locator("#timeline li.warning").inner_text()
    assert page.locator("#certificate").get_attribute("href").startswith("/v1/certificates/S1?project=")


def test_timeline_events_fail_against_a_registry_other_than_the_receipts(page, site):
    page.goto(f"{site.url}/?project={PROJECT}&section={SECTION}")
    page.wait_for_selector("#timeline-check[data-done='true']", timeout=60_000)
    page.fill("#registry", "0x" + "11" * 20)
    page.click("#timeline-show")
    page.wait_for_selector("#timeline-check.failed[data-done='true']", timeout=60_000)
    checks = page.locator("#timeline .check")
    assert set(page.eval_on_selector_all("#timeline .check", "els => els.map(e => e.dataset.status)")) == {"failed"}
    assert "本页信任的是 0x1111" in checks.first.inner_text()
    assert "核验失败" in page.inner_text("#timeline-check")


def test_a_timeline_that_misstates_an_event_fails_that_event(page, site):
    """An operator who changes what the timeline says (here: hides the collusion flag's bidders) is caught."""
    def lie(route):
        body = route.fetch().json()
        flag = next(e for e in body["events"] if e["type"] == "tender.flag.shared_signal")
        flag["public"] = {**(flag["public"] or {}), "bidders": []}
        route.fulfill(json=body)

    page.route("**/v1/timeline?*", lie)
    page.goto(f"{site.url}/?project={PROJECT}&section={SECTION}")
    page.wait_for_selector("#timeline-check.failed[data-done='true']", timeout=60_000)
    statuses = page.eval_on_selector_all("#timeline li", "els => els.map(e => [e.dataset.type, "
                                         "e.querySelector('.check').dataset.status])")
    assert [t for t, status in statuses if status == "failed"] == ["tender.flag.shared_signal"]
    assert "时间线显示的内容与公证的事件不符" in page.inner_text("#timeline li.warning")


def test_browser_hashes_equal_the_servers_for_a_200_mb_file(page, site, tmp_path):
    big = tmp_path / "scan-archive.bin"
    with open(big, "wb") as f:
        block = os.urandom(1 << 20)
        for i in range(200):
            f.write(block[:-8] + i.to_bytes(8, "big"))
    expected = hashlib.sha256(big.read_bytes()).hexdigest()
    event = {"id": "archive-big", "type": "archive.filed", "region": "370000", "project": PROJECT,
             "occurred_at": "2026-11-23T11:00:00+08:00", "actor": "archive-system", "documents": [{"sha256": expected}]}
    httpx.post(f"{site.url}/v1/events", json=event, headers={"Authorization": f"Bearer {site.key}"}).raise_for_status()
    site.wait_anchored("archive-big")
    page.set_input_files("#file-input", str(big))
    _results(page, "#file-result", timeout=240_000)
    assert page.locator("#file-result [data-sha256]").get_attribute("data-sha256") == expected
    assert page.locator("#file-result [data-status='verified']").count() == 1


def test_sha256_and_sm3_in_the_browser_match_hashlib_at_block_edges(page):
    lengths = [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003]
    got = page.evaluate("""async (lengths) => {
        const { sha256, toHex, Sha256 } = await import('/web/sha256.js');
        const { sm3 } = await import('/web/sm3.js');
        const data = (n) => Uint8Array.from({length: n}, (_, i) => (i * 31 + 7) & 255);
        const whole = lengths.map((n) => toHex(sha256(data(n))));
        const h = new Sha256(); const d = data(100003);
        for (let o = 0; o < d.length; o += 777) h.update(d.subarray(o, o + 777));
        const text = (s) => new TextEncoder().encode(s);
        return [whole, toHex(h.digest()), lengths.map((n) => toHex(sm3(data(n)))),
                [toHex(sm3(text("abc"))), toHex(sm3(text("abcd".repeat(16))))]];
    }""", lengths)
    data = lambda n: bytes((i * 31 + 7) & 255 for i in range(n))  # noqa: E731
    assert got[0] == [hashlib.sha256(data(n)).hexdigest() for n in lengths]
    assert got[1] == hashlib.sha256(data(100_003)).hexdigest()
    assert got[2] == [hashlib.new("sm3", data(n)).hexdigest() for n in lengths]  # OpenSSL's SM3
    assert got[3] == [  # the two examples of GB/T 32905-2016, Appendix A
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"]


def test_an_sm3_log_verifies_in_the_browser(page, sm3_site):
    trust(page, sm3_site)  # another notary (origin): the witness chooses its chain there too
    page.set_input_files("#file-input", str(sm3_site.files["scan-1"]))
    _results(page, "#file-result")
    verified = page.locator("#file-result [data-status='verified']")
    assert verified.count() == 1
    assert verified.get_attribute("data-block") == str(sm3_site.receipts["sm3-archive-1"]["anchor"]["block_number"])
    assert "Hulunbuir archive" in verified.inner_text()

    public = httpx.get(f"{sm3_site.url}/v1/receipts/sm3-archive-0").json()
    assert public["log"]["hash"] == "sm3"
    assert _verify_receipt(page, public)[0] == "verified"
    as_sha = json.loads(json.dumps(public))
    as_sha["log"]["hash"] = "sha256"  # the same receipt read as SHA-256 does not hash to its digest
    status, text = _verify_receipt(page, as_sha)
    assert status == "failed" and "事件已被改动" in text

    page.fill("#project", "NMG-2026-7")
    page.click("#timeline-show")
    page.wait_for_selector("#timeline-check[data-done='true']", timeout=60_000)
    assert page.eval_on_selector_all("#timeline .check", "els => els.map(e => e.dataset.status)") == ["verified"] * 2


def test_the_page_reads_the_registry_through_the_right_selectors():
    js = (resources.files("lianzheng.notary") / "web" / "verify.js").read_text()
    for name, signature in (("CHECKPOINT_AT", "checkpointAt(uint32,uint64)"), ("LOG_OF", "logOf(uint32)"),
                            ("CHECKPOINT_KEY_AT", "checkpointKeyAt(uint32,uint64)")):
        selector = re.search(name + r' = "(0x[0-9a-f]{8})"', js).group(1)
        assert selector == "0x" + keccak(text=signature)[:4].hex(), name
    topic = re.search(r'CHECKPOINT_ANCHORED = "(0x[0-9a-f]{64})"', js).group(1)
    assert topic == "0x" + keccak(text="CheckpointAnchored(uint32,uint64,bytes32,uint64)").hex()


def test_public_views_never_show_payloads_or_document_names(site, page):
    views = [
        httpx.get(f"{site.url}/v1/receipts/archive-1").text,
        httpx.get(f"{site.url}/v1/timeline", params={"project": PROJECT}).text,
        httpx.get(f"{site.url}/v1/documents/{site.receipts['archive-1']['event']['documents'][0]['sha256']}").text,
        json.dumps(extract_evidence(httpx.get(f"{site.url}/v1/certificates/{SECTION}").content), ensure_ascii=False),
    ]
    page.goto(f"{site.url}/?project={PROJECT}&section={SECTION}")
    page.wait_for_selector("#timeline li")
    views.append(page.content())
    salt = site.receipts["archive-1"]["event"]["salt"]
    for view in views:
        assert SECRET not in view and DOC_NAME not in view and salt not in view
    assert "Shandong archive room 3" in views[1]  # what the writer made public is shown
