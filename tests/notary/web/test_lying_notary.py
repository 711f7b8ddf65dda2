"""A notary that lies to the witness page (Playwright rewrites its answers, or it logs what an honest
notary refuses): each lie must end in FAILED with its reason, never in "verified"."""
from __future__ import annotations

import base64
import hashlib
import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lianzheng.sdk import event_types as et
from lianzheng.sdk.canonical import canonical_json
from lianzheng.sdk.checkpoint import Checkpoint, sign_checkpoint
from lianzheng.sdk.event import GENESIS, public_form
from lianzheng.sdk.merkle import SHA256
from lianzheng.sdk.registry import RegistryReader
from tests.notary.web.conftest import PROJECT, SECTION, trust

pytestmark = pytest.mark.slow


@pytest.fixture
def witness(browser, site):
    """A witness's browser that chose the registry and node it trusts."""
    context = browser.new_context()
    page = context.new_page()
    trust(page, site)
    yield page
    context.close()


def _timeline(page, site, lie=None):
    if lie is not None:
        def rewrite(route):
            body = route.fetch().json()
            lie(body)
            route.fulfill(json=body)
        page.route("**/v1/timeline?*", rewrite)
    page.goto(f"{site.url}/?project={PROJECT}&section={SECTION}")
    page.wait_for_selector("#timeline-check[data-done='true']", timeout=60_000)
    rows = page.eval_on_selector_all("#timeline li", "els => els.map(e => [e.dataset.type, "
                                     "(e.querySelector('.check') || {dataset: {}}).dataset.status, e.innerText])")
    return rows, page.inner_text("#timeline-check"), page.inner_text("#timeline-warnings")


def _paste(page, receipt: dict) -> tuple[str, str]:
    page.fill("#receipt-text", json.dumps(receipt))
    page.click("#receipt-verify")
    page.wait_for_selector("#receipt-result [data-status]")
    result = page.locator("#receipt-result [data-status]").last
    return result.get_attribute("data-status"), result.inner_text()


def _made_up_receipt(site) -> dict:
    """A receipt of an event that was never logged: a one-leaf tree signed by a key of the forger's."""
    event = {"id": "made-up", "type": "archive.filed", "region": "370000", "project": PROJECT, "section": SECTION,
             "occurred_at": "2026-11-23T10:00:00+08:00", "actor": "archive-system", "prev": GENESIS, "salt": "00" * 32}
    digest = SHA256.digest(canonical_json(public_form(event, SHA256)))
    origin = site.notary.log.origin
    note = sign_checkpoint(Checkpoint(origin, 1, SHA256.hash_leaf(digest)), Ed25519PrivateKey.generate())
    return {"format": "lianzheng-receipt/1", "status": "anchored", "event_id": "made-up", "event": event,
            "event_digest": digest.hex(), "log": {"origin": origin, "region": "370000", "hash": "sha256"}, "index": 0,
            "proof": f"c2sp.org/tlog-proof@v1\nindex 0\n\n{note}",
            "anchor": {"chain_id": site.notary.chain.chain_id, "registry": site.registry, "tx_hash": "0x" + "ab" * 32,
                       "block_number": 3, "block_time": int(time.time()), "tree_size": 1}}


def test_the_chain_is_the_witnesses_not_the_notarys(browser, site):
    """The notary names no registry and its own made-up node: the page checks nothing against them."""
    context = browser.new_context()
    page = context.new_page()
    fake_rpc = site.url + "/fake-node"
    config = httpx.get(f"{site.url}/v1/config").json()
    page.route("**/v1/config", lambda route: route.fulfill(json={**config, "registry": "", "rpc_url": fake_rpc}))
    page.route("**/fake-node",
               lambda route: route.fulfill(json={"jsonrpc": "2.0", "id": 1, "result": "0x" + "00" * 96}))
    page.goto(site.url + "/")
    page.wait_for_selector("body[data-ready='1']")
    kinds = page.eval_on_selector_all("#trust [data-kind]", "els => els.map(e => e.dataset.kind)")
    assert kinds == ["no_registry", "no_rpc"]  # asked for both; neither filled in from the notary
    assert page.input_value("#registry") == "" and page.input_value("#rpc") == ""
    status, text = _paste(page, _made_up_receipt(site))
    assert status == "failed" and "未选择存证合约" in text  # an empty registry is an error, not a skipped check

    page.fill("#registry", site.registry)  # the witness's registry; then the node the notary suggests
    page.dispatch_event("#registry", "change")
    page.click("#use-rpc-suggestion")
    kinds = page.eval_on_selector_all("#trust [data-kind]", "els => els.map(e => e.dataset.kind)")
    assert kinds == ["own_rpc"] and page.input_value("#rpc") == fake_rpc  # said plainly: the notary's node
    status, text = _paste(page, _made_up_receipt(site))
    assert status == "failed" and "FAILED" in text

    page.fill("#rpc", site.rpc)  # a node that answers from the chain
    page.dispatch_event("#rpc", "change")
    status, text = _paste(page, _made_up_receipt(site))
    assert status == "failed" and "检查点签名与链上登记的" in text
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#registry") == site.registry  # remembered by the browser, not asked of the notary
    context.close()


def test_relabelled_outcomes_do_not_hide_a_collusion_flag(witness, site):
    def lie(body):
        flag = next(e for e in body["events"] if e["type"] == et.FLAG_SHARED_SIGNAL)
        flag["label"] = {"zh": "无围标串标", "en": "no collusion"}
        flag["outcome"] = {"level": "ok", "code": "all_clear", "text": {"zh": "一切正常", "en": "all clear"}}
        body["warnings"] = 0
    rows, summary, banner = _timeline(witness, site, lie)
    flag = next(r for r in rows if r[0] == et.FLAG_SHARED_SIGNAL)
    assert flag[1] == "failed" and "时间线显示的内容与公证的事件不符（label）" in flag[2]
    assert "围标串标预警" in flag[2] and "一切正常" not in flag[2]  # the outcome shown is the event's own
    assert "风险预警：1 项" in banner and "核验失败" in summary


def test_leaving_the_collusion_flag_out_is_found_on_chain(witness, site):
    def lie(body):
        body["events"] = [e for e in body["events"] if e["type"] != et.FLAG_SHARED_SIGNAL]
        body["warnings"] = 0
    rows, summary, banner = _timeline(witness, site, lie)
    hidden = [r for r in rows if r[0] == et.FLAG_SHARED_SIGNAL]
    assert len(hidden) == 1 and hidden[0][1] == "failed" and "时间线却未显示" in hidden[0][2]
    assert "围标串标预警" in hidden[0][2]
    after = [r for r in rows if "此前的事件缺失" in r[2]]
    assert len(after) == 1  # the event that followed the flag links to it: the chain breaks there
    assert "风险预警：1 项" in banner and "不完整 INCOMPLETE" in summary


def test_a_timeline_that_leaves_out_or_splices_in_events_fails(witness, site, browser):
    def drop(body):
        body["events"] = [e for e in body["events"] if e["type"] != et.BOX_SEALED]
    rows, summary, _ = _timeline(witness, site, drop)
    assert "不完整 INCOMPLETE" in summary and "完整性：" not in summary
    failed = [r for r in rows if r[1] == "failed"]
    assert len(failed) == 2 and any("此前的事件缺失" in r[2] for r in failed)  # the chain breaks where it was
    assert any(r[0] == et.BOX_SEALED and "时间线却未显示" in r[2] for r in failed)  # and the chain still holds it

    other = {"id": "other-project-1", "type": "archive.filed", "region": "370000", "project": "OTHER-2026-1",
             "section": "S9", "occurred_at": "2026-11-23T10:00:00+08:00", "actor": "archive-system"}
    httpx.post(f"{site.url}/v1/events", json=other, headers={"Authorization": f"Bearer {site.key}"}).raise_for_status()
    site.wait_anchored("other-project-1")
    spliced = httpx.get(f"{site.url}/v1/timeline", params={"project": "OTHER-2026-1"}).json()["events"][0]

    def splice(body):
        body["events"].insert(3, spliced)
    context = browser.new_context()
    page = context.new_page()
    trust(page, site)
    rows, summary, _ = _timeline(page, site, splice)
    context.close()
    bad = [r for r in rows if r[1] == "failed"]
    assert len(bad) == 1 and "这是项目 OTHER-2026-1 标段 S9 的事件，不属于本时间线" in bad[0][2]
    assert "不完整 INCOMPLETE" in summary

    witness.unroute("**/v1/timeline?*")
    rows, summary, _ = _timeline(witness, site)  # the honest answer
    assert {r[1] for r in rows} == {"verified"} and "完整性：每个标段的事件从第一条起逐条相链" in summary


def test_an_event_of_another_region_fails_in_this_log(witness, site):
    """A notary that logs a Beijing (110000) event in Shandong's (370000) log: the page refuses it."""
    log = site.notary.log
    log.region = "110000"  # the lie: this notary's code would refuse it otherwise
    try:
        httpx.post(f"{site.url}/v1/events", headers={"Authorization": f"Bearer {site.key}"},
                   json={"id": "beijing-1", "type": "archive.filed", "region": "110000", "project": "BJ-2026-1",
                         "occurred_at": "2026-11-23T10:00:00+08:00", "actor": "archive-system"}).raise_for_status()
    finally:
        log.region = "370000"
    receipt = site.wait_anchored("beijing-1")
    assert receipt["log"]["region"] == "370000" and receipt["event"]["region"] == "110000"
    status, text = _paste(witness, receipt)
    assert status == "failed" and "事件区域 110000 不是该日志的区域 370000" in text

    renamed = json.loads(json.dumps(site.receipts["archive-1"]))
    renamed["log"]["origin"] = "beijing.example/log"
    status, text = _paste(witness, renamed)
    assert status == "failed" and "FAILED" in text


def test_a_rule_event_the_contract_never_emitted_is_not_counted(witness, site):
    """The notary logs (as its rules engine) an 'opening closed' step of another project naming a real
    section's opening transaction: the section id the page derives for it is not that transaction's."""
    opened = next(e for e in httpx.get(f"{site.url}/v1/timeline", params={"project": PROJECT, "section": SECTION})
                  .json()["events"] if e["type"] == et.SECTION_OPENED)
    forged = {"id": "forged-close", "type": et.OPENING_CLOSED, "region": "370000", "project": "FORGED-1",
              "section": "F1", "occurred_at": opened["occurred_at"], "actor": opened["actor"],
              "public": {**opened["public"], "valid_bids": 5, "bids": 5}}
    site.notary.log.submit([forged], "rules-engine", rules=True)
    site.wait_anchored("forged-close")
    witness.goto(f"{site.url}/?project=FORGED-1&section=F1")
    witness.wait_for_selector("#timeline-check[data-done='true']", timeout=60_000)
    row = witness.locator("#timeline li").first
    assert row.locator(".check").get_attribute("data-status") == "failed"
    assert "与事件所述的标段无关" in row.inner_text() and "有效投标 5 个" not in row.inner_text()


def test_the_event_id_shown_is_the_verified_one(witness, site):
    sha = site.receipts["archive-1"]["event"]["documents"][0]["sha256"]
    listed = httpx.get(f"{site.url}/v1/documents/{sha}").json()
    public = httpx.get(f"{site.url}/v1/receipts/archive-1").json()
    witness.route(f"**/v1/documents/{sha}", lambda route: route.fulfill(
        json={**listed, "events": [{**listed["events"][0], "event_id": "contract-of-someone-else"}]}))
    witness.route("**/v1/receipts/contract-of-someone-else", lambda route: route.fulfill(json=public))
    witness.set_input_files("#file-input", str(site.files["contract"]))
    witness.wait_for_selector("#file-result [data-status='verified'], #file-result [data-status='failed']")
    shown = witness.locator("#file-result [data-status='verified']").inner_text()
    assert "archive-1" in shown and "contract-of-someone-else" not in shown

    relabelled = {**public, "event_id": "contract-of-someone-else"}
    status, text = _paste(witness, relabelled)
    assert status == "failed" and "回执名为事件 contract-of-someone-else，其中公证的事件却是 archive-1" in text


def test_hash_of_a_forged_checkpoint_key_is_not_the_registered_one(site):
    """The made-up receipt above really is signed by another key than the one on chain (a sanity
    check of the forgery, so the page's refusal is for the right reason)."""
    receipt = _made_up_receipt(site)
    on_chain = RegistryReader(site.rpc, site.registry).log_of(370000).checkpoint_key
    signature = base64.b64decode(receipt["proof"].rsplit(" ", 1)[1])
    assert signature[:4] != hashlib.sha256(receipt["log"]["origin"].encode() + b"\n\x01" + on_chain).digest()[:4]


def test_a_timeline_with_every_rule_event_left_out_still_shows_the_chains(witness, site):
    """The page asks the region's bound rule contracts about the section itself (its id derived from
    region, project and section), whatever rows the notary shows."""
    def only_trading_systems(body):
        body["events"] = [e for e in body["events"] if not et.is_rule_type(e["type"])]
        body["warnings"] = 0
    rows, summary, banner = _timeline(witness, site, only_trading_systems)
    hidden = {r[0] for r in rows if r[1] == "failed" and "时间线却未显示" in r[2]}
    assert {et.FLAG_SHARED_SIGNAL, et.SECTION_OPENED, et.BOX_SEALED, et.OPENING_CLOSED} <= hidden
    assert "风险预警：1 项" in banner and "不完整 INCOMPLETE" in summary


def _forge(site, event_id: str, kind: str, public: dict, section: str) -> None:
    """The notary logs, as its rules engine, an event its rules never made (a lying notary can)."""
    site.notary.log.submit([{"id": event_id, "type": kind, "region": "370000", "project": "FORGED-2",
                             "section": section, "occurred_at": "2026-11-23T10:00:00+08:00", "actor": "0x" + "12" * 20,
                             "public": public}], "rules-engine", rules=True)
    site.wait_anchored(event_id)


def _first_row(page, site, section: str) -> tuple[str, str]:
    page.goto(f"{site.url}/?project=FORGED-2&section={section}")
    page.wait_for_selector("#timeline-check[data-done='true']", timeout=60_000)
    row = page.locator("#timeline li").first
    return row.locator(".check").get_attribute("data-status"), row.inner_text()


def test_rule_events_of_an_unbound_copy_or_without_a_transaction_count_for_nothing(witness, site):
    notary = site.notary
    copy = notary.chain.deploy(notary.account, "TenderRules", notary.account.address)  # same audited code
    flag = next(e for e in httpx.get(f"{site.url}/v1/timeline", params={"project": PROJECT, "section": SECTION})
                .json()["events"] if e["type"] == et.FLAG_SHARED_SIGNAL)
    _forge(site, "forged-copy", et.OPENING_CLOSED, {**flag["public"], "contract": copy, "valid_bids": 3}, "F3")
    status, text = _first_row(witness, site, "F3")
    assert status == "failed" and "不是存证合约为区域 370000 登记的规则合约" in text

    bare = {k: v for k, v in flag["public"].items() if k not in ("tx_hash", "block_number")}
    _forge(site, "forged-bare", et.FLAG_SHARED_SIGNAL, bare, "F4")
    status, text = _first_row(witness, site, "F4")
    assert status == "failed" and "规则事件未指明交易" in text


def test_a_witnesses_exported_page_keeps_its_chain(browser, site, tmp_path):
    """`page export --registry --rpc` fixes the witness's chain in the file: what a browser stored (or
    another file:// page wrote into it) changes nothing."""
    from tests.helpers import cli

    out = tmp_path / "mine.html"
    cli("page", "export", "-o", str(out), "--registry", site.registry, "--rpc", site.rpc, check=True)
    context = browser.new_context()
    page = context.new_page()
    page.goto(out.as_uri())
    page.evaluate("localStorage.setItem('lianzheng.rpc', 'http://evil.example/rpc');"
                  "localStorage.setItem('lianzheng.registry', '0x' + '22'.repeat(20))")
    page.goto(out.as_uri() + f"?notary={site.url}")
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#registry") == site.registry and page.input_value("#rpc") == site.rpc
    assert page.get_attribute("#registry", "readonly") is not None
    bad = cli("page", "export", "-o", str(tmp_path / "x.html"), "--rpc", "javascript:alert(1)")
    assert bad.returncode == 2 and "is not an http(s) URL" in bad.stderr
    context.close()
