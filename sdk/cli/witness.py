"""``lianzheng certificate`` and ``lianzheng archive check``: witness and archive-user commands.

Exit codes as ``lianzheng verify``: 0 verified, 1 failed or not found, 2 bad input or the
notary could not be asked.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import httpx
import typer

from lianzheng.sdk.certificate import evidence_digest, extract_evidence
from lianzheng.sdk.cli.support import fail
from lianzheng.sdk.client import NotaryClient, NotaryClientError
from lianzheng.sdk.documents import file_sha256
from lianzheng.sdk.errors import VerificationError
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.times import utc_iso
from lianzheng.sdk.verifier import Verifier

archive_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Archive users: check archived documents")

Url = Annotated[str, typer.Option("--url", help="the notary's base URL", envvar="LIANZHENG_URL")]


def certificate(
    section: Annotated[str, typer.Option("--section", help="the section (标段) to certify")],
    url: Url,
    project: Annotated[Optional[str], typer.Option("--project", help="needed when several projects have it")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="where to write the PDF")] = None,
) -> None:
    """Fetch the electronic witness certificate (电子见证证书, PDF) of a section."""
    try:
        with NotaryClient(url, retries=2) as client:
            pdf = client.certificate(section, project)
    except NotaryClientError as exc:
        fail(f"error: {exc.message} ({exc.code})", 1 if exc.status in (404, 409) else 2)
    except httpx.HTTPError as exc:
        fail(f"error: cannot reach the notary at {url}: {exc}", 2)
    target = output or Path(f"certificate-{re.sub(r'[^A-Za-z0-9._-]', '_', section)}.pdf")
    try:
        target.write_bytes(pdf)
    except OSError as exc:
        fail(f"error: cannot write {target}: {exc.strerror}", 2)
    try:
        digest = evidence_digest(extract_evidence(pdf))
    except VerificationError as exc:
        fail(f"error: the notary's answer is not a witness certificate: {exc}")
    typer.echo(f"{target}: evidence sha256 {digest}")


@archive_app.command("check")
def archive_check(
    file: Annotated[Path, typer.Argument(help="the document from the archive")],
    url: Url,
    rpc: Annotated[Optional[str], typer.Option("--rpc", help="a chain node you trust (default: the one the "
                                                             "notary advertises)")] = None,
    registry: Annotated[Optional[str], typer.Option("--registry", help="pin the registry address you trust")] = None,
) -> None:
    """Tell when and where FILE was notarized, and whether it is unchanged (verified on chain)."""
    try:
        sha = file_sha256(file)
    except OSError as exc:
        fail(f"error: cannot read {file}: {exc.strerror}", 2)
    try:
        with NotaryClient(url, retries=2) as client:
            found = client.documents(sha)
            if not found:
                fail(f"not found: no notarized event references {file.name} (sha256 {sha}); "
                         "a changed file has a different hash")
            receipts = [client.receipt(e["event_id"]) for e in found]
            if rpc is None:
                rpc = client.config()["rpc_url"]
                typer.echo(f"note: reading the chain through {rpc}, as the notary advertises; "
                           "pass --rpc to use a node you trust", err=True)
    except NotaryClientError as exc:
        fail(f"error: the notary refused: {exc.message} ({exc.code})", 2)
    except httpx.HTTPError as exc:
        fail(f"error: cannot reach the notary at {url}: {exc}", 2)
    failed = verified = 0
    readers: dict[str, RegistryReader] = {}
    for receipt in receipts:
        event = receipt.event
        where = (f"region {event['region']}, project {event['project']}"
                 + (f", section {event['section']}" if event.get("section") else ""))
        if receipt.anchor is None:
            typer.echo(f"pending: {event['type']} {receipt.event_id} at {event['occurred_at']} ({where}): "
                       "not anchored yet, check again shortly")
            continue
        address = registry or receipt.anchor.registry
        try:
            reader = readers.setdefault(address, RegistryReader(rpc, address))
            result = Verifier(reader).verify(receipt, document_sha256=sha)
        except VerificationError as exc:
            failed += 1
            typer.echo(f"FAILED ({exc.code}): {receipt.event_id}: {exc}")
            continue
        verified += 1
        shown = event.get("public") or {}
        extra = "".join(f", {k} {v}" for k, v in shown.items() if isinstance(v, (str, int)))
        typer.echo(f"{'archived' if event['type'].startswith('archive.') else 'notarized'}: {event['occurred_at']} "
                   f"as {event['type']} {receipt.event_id} ({where}{extra}); anchored in block "
                   f"{result.block_number} at {utc_iso(result.block_time)} on chain {result.chain_id}: "
                   f"file unchanged (sha256 {sha})")
    if failed or not verified:
        raise typer.Exit(1)
