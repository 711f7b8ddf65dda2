"""A live notary (embedded chain, served by uvicorn in a thread) with a tender section that
raised a collusion flag, archived documents with sealed payloads, and a headless Chromium.

The notary runs in this process so the tests can move the embedded chain's clock past the
bid deadline; the browser reaches it over real HTTP like any witness would.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from eth_account import Account

from lianzheng.chain_node.anvil import free_port
from lianzheng.notary.api.app import create_app
from lianzheng.notary.services.keys import create_key
from lianzheng.notary.services.setup import open_notary
from lianzheng.notary.settings import Settings
from lianzheng.rules.tender.client import bid_submission, holder_registration, holder_release
from lianzheng.rules.tender.crypto import new_holder_key
from lianzheng.rules.tender.sealing import Observed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROJECT, SECTION = "SDGP-2026-0042", "S1"
SECRET = "secret-price-1234567.89"  # in a payload: must never show on a public view
DOC_NAME = "contract-of-bidder-A.pdf"  # a document name: sealed too


@dataclass
class Site:
    url: str
    notary: object
    key: str
    files: dict[str, Path] = field(default_factory=dict)
    receipts: dict[str, dict] = field(default_factory=dict)
    events: dict[str, dict] = field(default_factory=dict)

    @property
    def rpc(self) -> str:
        return self.url + "/chain/rpc"

    @property
    def registry(self) -> str:
        return self.notary.registry.address

    def wait_anchored(self, event_id: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = httpx.get(f"{self.url}/v1/receipts/{event_id}",
                             headers={"Authorization": f"Bearer {self.key}"}).json()
            if body.get("status") == "anchored":
                return body
            time.sleep(0.1)
        raise AssertionError(f"{event_id} not anchored")


def _tender_with_collusion(api: httpx.Client, notary) -> None:
    """Three bids, two with the same clear file: the contract flags the shared signal at opening."""
    supervisor, x25519 = Account.create(), new_holder_key()
    operator = {"Authorization": f"Bearer {create_key(notary.store, 'registry-office', 'operator')}"}
    api.post("/v1/tender/holders", headers=operator,
             json=holder_registration(notary.tender.domain(), supervisor, x25519)).raise_for_status()
    deadline = max(notary.chain.block_time(), int(time.time())) + 300
    view = api.post("/v1/tender/sections", json={
        "project": PROJECT, "section": SECTION, "profile": "demo", "deadline": deadline, "threshold": 2,
        "holders": [supervisor.address]}).json()
    section = view["section_id"]
    files = [b"%PDF-1.4 offer " + b"\x0a" * 32, b"%PDF-1.4 offer " + b"\x0a" * 32, b"%PDF-1.4 " + os.urandom(32)]
    for i in range(3):
        key, bidder_id = Account.create(), os.urandom(32)
        api.post("/v1/tender/bidders", headers=operator, json={"bidder_id": bidder_id.hex(),
                                                               "ca_cert_hash": os.urandom(32).hex(),
                                                               "key": key.address}).raise_for_status()
        _, body = bid_submission(view, files[i], bidder_id, key, Observed(device=f"device-{i}"))
        api.post(f"/v1/tender/sections/{section}/bids", json=body).raise_for_status()
    notary.chain.set_next_block_time(deadline)
    api.post(f"/v1/tender/sections/{section}/seal").raise_for_status()
    handed = api.get(f"/v1/tender/sections/{section}/shares", params={"holder": supervisor.address}).json()
    release = holder_release(bytes.fromhex(section[2:]), handed, supervisor, x25519, view["domain"])
    api.post(f"/v1/tender/sections/{section}/releases", json=release).raise_for_status()
    api.post(f"/v1/tender/sections/{section}/opening").raise_for_status()
    api.post(f"/v1/tender/sections/{section}/close").raise_for_status()


@contextmanager
def _served(data_dir: Path, **settings):
    """A notary on an embedded chain, anchoring every 0.2 s, served over HTTP from a thread."""
    settings.setdefault("tender_profiles", ["engineering", "government_procurement", "demo"])
    notary = open_notary(Settings(data_dir=data_dir, anchor_interval=0.2, **settings))
    notary.start()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(data_dir=data_dir, **settings), notary),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        yield Site(f"http://127.0.0.1:{port}", notary, create_key(notary.store, "trading-system"))
    finally:
        server.should_exit = True
        thread.join(10)
        notary.close()


def _archive(site: Site, event: dict) -> None:
    httpx.post(f"{site.url}/v1/events", json=event,
               headers={"Authorization": f"Bearer {site.key}"}, timeout=60).raise_for_status()
    site.events[event["id"]] = event
    site.receipts[event["id"]] = site.wait_anchored(event["id"])


@pytest.fixture(scope="package")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("witness")
    with _served(root / "data") as site:
        with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {site.key}"}, timeout=60) as api:
            _tender_with_collusion(api, site.notary)
        contract = root / "contract.pdf"
        contract.write_bytes(b"%PDF-1.4 archived contract " + os.urandom(4000))
        changed = root / "contract-changed.pdf"
        changed.write_bytes(contract.read_bytes()[:-1] + bytes([contract.read_bytes()[-1] ^ 1]))
        site.files.update(contract=contract, changed=changed)
        _archive(site, {"id": "archive-1", "type": "archive.filed", "region": "370000", "project": PROJECT,
                        "section": SECTION, "occurred_at": "2026-11-23T10:00:00+08:00", "actor": "archive-system",
                        "public": {"archive": "Shandong archive room 3"}, "payload": {"price": SECRET},
                        "documents": [{"sha256": hashlib.sha256(contract.read_bytes()).hexdigest(),
                                       "name": DOC_NAME}]})
        yield site


@pytest.fixture(scope="package")
def sm3_site(tmp_path_factory):
    """A national-crypto notary (SM3 log) in Inner Mongolia with two archived documents."""
    root = tmp_path_factory.mktemp("witness-sm3")
    with _served(root / "data", hash="sm3", region="150700") as site:
        for i in range(2):
            scan = root / f"scan-{i}.pdf"
            scan.write_bytes(b"%PDF-1.4 scanned bid " + os.urandom(3000))
            site.files[f"scan-{i}"] = scan
            _archive(site, {"id": f"sm3-archive-{i}", "type": "archive.filed", "region": "150700",
                            "project": "NMG-2026-7", "occurred_at": "2026-11-23T10:00:00+08:00",
                            "actor": "archive-system", "public": {"archive": "Hulunbuir archive"},
                            "payload": {"price": SECRET},
                            "documents": [{"sha256": hashlib.sha256(scan.read_bytes()).hexdigest()}]})
        yield site


@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: ./scripts/test installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


def trust(page, site: Site, rpc: str | None = None) -> None:
    """What a witness does first: choose the registry (and node) it trusts; the page remembers them."""
    page.goto(site.url + "/")
    page.wait_for_selector("body[data-ready='1']")
    page.fill("#registry", site.registry)
    page.dispatch_event("#registry", "change")
    page.fill("#rpc", rpc or site.rpc)
    page.dispatch_event("#rpc", "change")


@pytest.fixture
def page(browser, site):
    context = browser.new_context()
    page = context.new_page()
    trust(page, site)
    yield page
    context.close()
