"""``lianzheng tender ...``: the tender procedure from the command line, over the notary's HTTP API.

A trading system (its writer key, ``--key`` or ``LIANZHENG_KEY``) opens and drives a section it
owns; a bidder seals its file on its own machine (``bid``: the clear file never leaves it) and
keeps what lets it open its own bid and check the sealed box; a key holder (supervisor,
alliance peer) releases its shares after the seal (``release``: its holder file holds a chain
key that signs, and an X25519 key that opens). ``check`` is the bidder's omission check; ``audit``
re-reads a section from the chain alone.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import httpx
import typer

from lianzheng.sdk.cli.support import fail

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Tender procedure: sealed bids, deadline and opening in contract code (投标截止时间判断, "
                       "投标文件一致性判断)")

Url = Annotated[str, typer.Option("--url", envvar="LIANZHENG_URL", help="notary base URL")]
Key = Annotated[str, typer.Option("--key", envvar="LIANZHENG_KEY", help="the trading system's writer API key")]
OperatorKey = Annotated[str, typer.Option("--key", envvar="LIANZHENG_OPERATOR_KEY",
                                          help="the operator's API key (keys add --role operator)")]
SectionOpt = Annotated[str, typer.Option("--section", help="section id (0x…)")]
URL_DEFAULT = "http://127.0.0.1:8000"


def _call(method: str, url: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        r = httpx.request(method, url.rstrip("/") + path, headers=headers, timeout=120, **kwargs)
    except httpx.HTTPError as exc:
        fail(f"error: cannot reach the notary at {url}: {type(exc).__name__}", 2)
    try:
        body = r.json()
    except ValueError:
        fail(f"error: the notary answered HTTP {r.status_code} without JSON", 2)
    if r.status_code >= 400:
        fail(f"refused ({body.get('code')}): {body.get('message')}", 1 if r.status_code in (403, 409, 422) else 2)
    return body


def _print(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=1))


def _write_secret(path: Path, data: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)


def _holder_file(path: Path) -> tuple[Any, Any]:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from eth_account import Account

    try:
        data = json.loads(path.read_text())
        return Account.from_key(data["chain_key"]), X25519PrivateKey.from_private_bytes(bytes.fromhex(data["x25519"]))
    except (OSError, ValueError, KeyError) as exc:
        fail(f"error: {path} is not a holder file ({exc})", 2)


@app.command("holder-key")
def holder_key(out: Annotated[Path, typer.Option("--out", help="the holder file to write (0600)")]) -> None:
    """Make a key holder's keys: a chain account (signs its release) and an X25519 key (opens its shares)."""
    from eth_account import Account

    from lianzheng.rules.tender.crypto import new_holder_key, public_bytes

    if out.exists():
        fail(f"error: {out} exists; a holder key is made once", 2)
    account, x = Account.create(), new_holder_key()
    from cryptography.hazmat.primitives import serialization

    raw = x.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    _write_secret(out, {"chain_key": account.key.hex(), "x25519": raw.hex()})
    typer.echo(f"{account.address}:{public_bytes(x).hex()}")


@app.command("holder")
def holder(holder_file: Annotated[Path, typer.Option("--holder", help="the holder file (from holder-key)")],
           url: Url = URL_DEFAULT, key: OperatorKey = "") -> None:
    """Name a key holder (the operator's act) and register the X25519 key the holder signs for."""
    from lianzheng.rules.tender.client import holder_registration
    from lianzheng.rules.tender.sections import tender_domain

    account, x = _holder_file(holder_file)
    health = _call("GET", url, "/healthz")
    domain = tender_domain(health["chain"]["chain_id"], health["chain"]["tender_rules"])
    _print(_call("POST", url, "/v1/tender/holders", key, json=holder_registration(domain, account, x)))


@app.command("bidder-key")
def bidder_key(out: Annotated[Path, typer.Option("--out", help="the key file to write (0600)")]) -> None:
    """Make a bidder's signing key (in practice bound to its CA certificate); prints its account."""
    from lianzheng.rules.cli_support import new_account_file

    typer.echo(new_account_file(out))


@app.command("open")
def open_section(project: Annotated[str, typer.Option("--project")],
                 section: Annotated[str, typer.Option("--section-code", help="the section's code (标段)")],
                 holder: Annotated[list[str], typer.Option("--holder", help="account of a key holder named by the "
                                                           "operator (ACCOUNT or ACCOUNT:X25519 as holder-key prints "
                                                           "it); the notary is one already")],
                 threshold: Annotated[int, typer.Option("--threshold", help="holders' shares needed to decrypt")] = 2,
                 profile: Annotated[str, typer.Option("--profile", help="trading-type profile")] = "engineering",
                 deadline: Annotated[Optional[int], typer.Option("--deadline", help="Unix seconds")] = None,
                 deadline_in: Annotated[Optional[int], typer.Option("--deadline-in", help="seconds from now")] = None,
                 url: Url = URL_DEFAULT, key: Key = "") -> None:
    """Open a section the calling trading system owns; prints the section's public view."""
    if (deadline is None) == (deadline_in is None):
        fail("error: give exactly one of --deadline or --deadline-in", 2)
    holders = [h.partition(":")[0] for h in holder]
    _print(_call("POST", url, "/v1/tender/sections", key, json={
        "project": project, "section": section, "profile": profile, "threshold": threshold, "holders": holders,
        "deadline": deadline if deadline is not None else int(time.time()) + deadline_in}))


@app.command("bidder")
def bidder(credit_code: Annotated[str, typer.Option("--credit-code", help="统一社会信用代码 (18 chars)")],
           ca_cert: Annotated[Path, typer.Option("--ca-cert", help="the bidder's CA certificate file")],
           bidder_key: Annotated[Path, typer.Option("--bidder-key", help="the bidder's hex private key file")],
           url: Url = URL_DEFAULT, key: OperatorKey = "") -> None:
    """Register a bidder of the notary's region, bound to the hash of its CA certificate."""
    import hashlib

    from lianzheng.rules.cli_support import account
    from lianzheng.rules.tender.sealing import bidder_id_of

    try:
        bid_id = bidder_id_of(credit_code)
        cert = ca_cert.read_bytes()
    except (ValueError, OSError) as exc:
        fail(f"error: {exc}", 2)
    _print(_call("POST", url, "/v1/tender/bidders", key, json={
        "bidder_id": bid_id.hex(), "ca_cert_hash": hashlib.sha256(cert).hexdigest(),
        "key": account(bidder_key).address}))


@app.command("bid")
def bid(file: Annotated[Path, typer.Argument(help="the clear bid file: it never leaves this machine")],
        section: SectionOpt,
        credit_code: Annotated[str, typer.Option("--credit-code", help="the bidder's 统一社会信用代码")],
        bidder_key: Annotated[Path, typer.Option("--bidder-key", help="the bidder's hex private key file")],
        device: Annotated[str, typer.Option("--device", help="device id the platform sees")] = "",
        lock: Annotated[str, typer.Option("--lock", help="CA lock serial the platform sees")] = "",
        sm4: Annotated[bool, typer.Option("--sm4", help="national-crypto mode: SM4-GCM (default: the notary's cipher)")]
        = False,
        out: Annotated[Optional[Path], typer.Option("--out", help="what the bidder keeps (default FILE.sealed.json)")]
        = None,
        url: Url = URL_DEFAULT) -> None:
    """Seal FILE for SECTION (encrypted here, key split among the holders), submit it, keep the receipt."""
    from lianzheng.rules.cli_support import account
    from lianzheng.rules.tender.client import bid_submission
    from lianzheng.rules.tender.sealing import Observed, bidder_id_of

    try:
        clear, bid_id = file.read_bytes(), bidder_id_of(credit_code)
    except (ValueError, OSError) as exc:
        fail(f"error: {exc}", 2)
    view = _call("GET", url, f"/v1/tender/sections/{section}")
    sealed, body = bid_submission(view, clear, bid_id, account(bidder_key), Observed(device, lock),
                                  "sm4-gcm" if sm4 else None)
    answer = _call("POST", url, f"/v1/tender/sections/{section}/bids", json=body)  # the bidder's own signature
    kept = out or file.with_name(file.name + ".sealed.json")
    _write_secret(kept, {"receipt": answer["receipt"], "entry": answer["entry"],
                         "file_key": sealed.file_key.hex(), "cipher": sealed.cipher, **sealed.opening(),
                         "signature": sealed.signature.hex()})
    typer.echo(f"sealed in the box (pseudonym {answer['entry']['pseudonym'][:16]}…);"
               f" receipt and keys kept in {kept}")


@app.command("seal")
def seal(section: SectionOpt, url: Url = URL_DEFAULT, key: Key = "") -> None:
    """Seal the box at the deadline (fewer than three bids: the section fails, nothing opens)."""
    _print(_call("POST", url, f"/v1/tender/sections/{section}/seal", key))


@app.command("release")
def release(section: SectionOpt, holder: Annotated[Path, typer.Option("--holder", help="the holder file")],
            url: Url = URL_DEFAULT) -> None:
    """A key holder opens its shares of the sealed bids and releases them (recorded on chain)."""
    from lianzheng.rules.tender.client import holder_release

    account, x = _holder_file(holder)
    view = _call("GET", url, f"/v1/tender/sections/{section}")
    handed = _call("GET", url, f"/v1/tender/sections/{section}/shares", params={"holder": account.address})
    body = holder_release(bytes.fromhex(section.removeprefix("0x")), handed, account, x, view["domain"])
    _print(_call("POST", url, f"/v1/tender/sections/{section}/releases", json=body))


@app.command("opening")
def opening(section: SectionOpt, url: Url = URL_DEFAULT, key: Key = "") -> None:
    """Open (开标) every bid the released shares decrypt."""
    _print(_call("POST", url, f"/v1/tender/sections/{section}/opening", key))


@app.command("settle")
def settle(section: SectionOpt, url: Url = URL_DEFAULT, key: Key = "") -> None:
    """Settle the bids still unopened (second half of the window): the contract names the cause."""
    _print(_call("POST", url, f"/v1/tender/sections/{section}/settlement", key))


@app.command("close")
def close(section: SectionOpt, url: Url = URL_DEFAULT, key: Key = "") -> None:
    """Close the opening: records the number of valid bids, names holders that withheld."""
    _print(_call("POST", url, f"/v1/tender/sections/{section}/close", key))


@app.command("status")
def status(section: SectionOpt, url: Url = URL_DEFAULT) -> None:
    """A section's public view (before the seal: nothing about its bids)."""
    _print(_call("GET", url, f"/v1/tender/sections/{section}"))


@app.command("check")
def check(sealed: Annotated[Path, typer.Argument(help="the bidder's FILE.sealed.json")], url: Url = URL_DEFAULT,
          rpc: Annotated[str | None, typer.Option("--rpc", help="read the sealed root from this chain node "
                                                  "(default: as the notary reports it)")] = None) -> None:
    """The bidder's omission check: its signed receipt against the box sealed on chain."""
    from lianzheng.rules.tender.audit import sealed_box
    from lianzheng.rules.tender.box import BoxReceipt, check_receipt
    from lianzheng.rules.tender.sealing import BoxEntry
    from lianzheng.sdk.errors import VerificationError

    try:
        receipt = BoxReceipt.from_json(json.loads(sealed.read_text())["receipt"])
    except (OSError, ValueError, KeyError) as exc:
        fail(f"error: {sealed} holds no box receipt ({exc})", 2)
    section = "0x" + receipt.section_id.hex()
    view = _call("GET", url, f"/v1/tender/sections/{section}")
    if "box_size" not in view:
        fail(f"not yet: section {section} is {view['state']}; the box is sealed at the deadline")
    size, root = view["box_size"], bytes.fromhex(view["box_root"])
    if rpc:
        size, root = sealed_box(rpc, view["domain"]["verifyingContract"], receipt.section_id)
    published = _call("GET", url, f"/v1/tender/sections/{section}/box")
    try:
        index = check_receipt(receipt, view["owner"], view["domain"], size, root,
                              [BoxEntry.from_json(e) for e in published["entries"]])
    except (VerificationError, KeyError, ValueError) as exc:
        fail(f"FAILED ({getattr(exc, 'code', 'malformed')}): {exc}")
    typer.echo(f"in the sealed box: entry {index} of {size} (sealed root {root.hex()[:16]}…"
               f"{', read from the chain' if rpc else ''})")


@app.command("open-own")
def open_own(sealed: Annotated[Path, typer.Argument(help="the bidder's FILE.sealed.json")],
             url: Url = URL_DEFAULT) -> None:
    """A bidder opens its own bid with its file key, after the seal (no key holder needed)."""
    try:
        kept = json.loads(sealed.read_text())
        section, pseudonym, file_key = ("0x" + kept["receipt"]["section_id"], kept["entry"]["pseudonym"],
                                        kept["file_key"])
    except (OSError, ValueError, KeyError) as exc:
        fail(f"error: {sealed} is not a sealed bid file ({exc})", 2)
    entries = _call("GET", url, f"/v1/tender/sections/{section}/box")["entries"]
    index = next((i for i, e in enumerate(entries) if e["pseudonym"] == pseudonym), None)
    if index is None:
        fail(f"FAILED: the sealed box of {section} holds no entry of this bid (lianzheng tender check {sealed})")
    _print(_call("POST", url, f"/v1/tender/sections/{section}/bids/{index}/opening", json={"file_key": file_key}))


@app.command("audit")
def audit(section: SectionOpt, rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of the chain")],
          contract: Annotated[str, typer.Option("--contract", help="TenderRules address")]) -> None:
    """A witness's view of a section from the chain alone: every decision, in order, and the outcome."""
    from lianzheng.rules.tender.audit import audit as read
    from lianzheng.sdk.errors import LianzhengError

    try:
        timeline, summary = read(rpc, contract, bytes.fromhex(section.removeprefix("0x")))
    except (LianzhengError, ValueError) as exc:
        fail(f"error: {exc}", 2)
    for entry in timeline:
        typer.echo(entry.line())
    for line in summary:
        typer.echo(line)
