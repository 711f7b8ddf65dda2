"""``lianzheng verify``: check a receipt against a chain; exit 0 verified, 1 failed, 2 bad input."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianzheng.sdk.cli.support import fail
from lianzheng.sdk.documents import file_sha256
from lianzheng.sdk.errors import PendingError, VerificationError
from lianzheng.sdk.receipt import parse_receipt
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verifier


def verify(
    rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of the chain (embedded: <notary>/chain/rpc)")],
    receipt: Annotated[Optional[Path], typer.Option("--receipt", help="receipt JSON written by `lianzheng notarize`")]
    = None,
    certificate: Annotated[Optional[Path], typer.Option(
        "--certificate", help="a witness certificate PDF (its signed evidence is embedded)")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="the document the event references")] = None,
    event: Annotated[Optional[Path], typer.Option("--event", help="the event JSON you hold")] = None,
    registry: Annotated[Optional[str], typer.Option("--registry", help="pin the registry address you trust")] = None,
    via_alliance: Annotated[Optional[str], typer.Option(
        "--via-alliance", metavar="RELAY",
        help="verify a receipt of another province through this AllianceRelay on --rpc")] = None,
) -> None:
    """Verify evidence against the chain alone, without trusting the notary server."""
    if (receipt is None) == (certificate is None):
        fail("error: give exactly one of --receipt or --certificate", 2)
    if certificate is not None:
        if file or event or via_alliance:
            fail("error: --certificate takes only --rpc and --registry", 2)
        _verify_certificate(certificate, rpc, registry)
        return
    if (file is None) == (event is None):
        fail("error: give exactly one of --file or --event", 2)
    try:
        parsed = parse_receipt(receipt.read_bytes())
        held_event = json.loads(event.read_text()) if event else None
        if event and not isinstance(held_event, dict):
            fail(f"error: {event} does not hold a JSON object", 2)
        document = file_sha256(file) if file else None
    except OSError as exc:
        fail(f"error: cannot read {exc.filename}: {exc.strerror}", 2)
    except (VerificationError, ValueError) as exc:
        fail(f"error: {exc}", 2)
    try:
        if parsed.anchor is None:
            raise PendingError("receipt is pending: fetch the anchored receipt from the notary and verify again")
        if via_alliance:
            from lianzheng.sdk.alliance import AllianceReader, verify_via_alliance

            if registry and registry.lower() != parsed.anchor.registry.lower():
                raise VerificationError(f"receipt names registry {parsed.anchor.registry}, you pinned {registry}")
            result = verify_via_alliance(AllianceReader(rpc, via_alliance), parsed, held_event, document)
        else:
            reader = RegistryReader(rpc, registry or parsed.anchor.registry)
            result = Verifier(reader).verify(parsed, event=held_event, document_sha256=document)
    except VerificationError as exc:
        fail(f"FAILED ({exc.code}): {exc}")
    typer.echo(result.summary())


def _verify_certificate(path: Path, rpc: str, registry: str | None) -> None:
    from lianzheng.sdk.certificate import extract_evidence, verify_certificate

    try:
        evidence = extract_evidence(path.read_bytes())
    except OSError as exc:
        fail(f"error: cannot read {path}: {exc.strerror}", 2)
    except VerificationError as exc:
        fail(f"FAILED ({exc.code}): {exc}")
    try:
        named = str(evidence.get("chain", {}).get("registry", ""))
        if registry and registry.lower() != named.lower():
            raise VerificationError(f"certificate names registry {named}, you pinned {registry}")
        check = verify_certificate(evidence, RegistryReader(rpc, registry or named))
    except VerificationError as exc:
        fail(f"FAILED ({exc.code}): {exc}")
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        fail(f"FAILED (malformed): certificate evidence is malformed: {exc}")
    typer.echo(check.summary())
    for warning in check.warnings:
        typer.echo(f"warning: {warning}")
