"""``lianzheng verify``: check a receipt against a chain; exit 0 verified, 1 failed, 2 bad input.

``--offline --alliance members.json`` reads no chain at all: a receipt (or every receipt of a
certificate) verifies by k-of-n alliance members' cosignatures (``sdk.cosign``). With no event
or file given offline, the receipt's own (public) event is what is verified.
"""
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
    receipt_arg: Annotated[Optional[Path], typer.Argument(metavar="[RECEIPT]", show_default=False,
                                                          help="receipt JSON (the same as --receipt)")] = None,
    rpc: Annotated[Optional[str], typer.Option(
        "--rpc", help="JSON-RPC URL of the chain (embedded: <notary>/chain/rpc); not with --offline")] = None,
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
    offline: Annotated[bool, typer.Option(
        "--offline", help="read no chain: trust k-of-n alliance cosignatures (needs --alliance)")] = False,
    alliance: Annotated[Optional[Path], typer.Option(
        "--alliance", metavar="MEMBERS_JSON", help="members.json (`lianzheng alliance members`) for --offline")]
    = None,
) -> None:
    """Verify evidence against the chain alone, without trusting the notary server."""
    if receipt_arg is not None:
        if receipt is not None:
            fail("error: give the receipt once (as an argument or with --receipt)", 2)
        receipt = receipt_arg
    if (receipt is None) == (certificate is None):
        fail("error: give exactly one of --receipt or --certificate", 2)
    members = _offline_members(offline, alliance, rpc, via_alliance)
    if rpc is None and members is None:
        fail("error: give --rpc, or --offline --alliance members.json", 2)
    if certificate is not None:
        if file or event or via_alliance:
            fail("error: --certificate takes only --rpc and --registry (or --offline --alliance)", 2)
        _verify_certificate(certificate, rpc, registry, members)
        return
    if members is None and (file is None) == (event is None):
        fail("error: give exactly one of --file or --event", 2)
    if file is not None and event is not None:
        fail("error: give at most one of --file or --event", 2)
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
        if registry and registry.lower() != parsed.anchor.registry.lower():
            raise VerificationError(f"receipt names registry {parsed.anchor.registry}, you pinned {registry}")
        if members is not None:
            from lianzheng.sdk.cosign import verify_offline

            result = verify_offline(parsed, members, held_event, document)
        elif via_alliance:
            from lianzheng.sdk.alliance import AllianceReader, verify_via_alliance

            result = verify_via_alliance(AllianceReader(rpc, via_alliance), parsed, held_event, document)
        else:
            reader = RegistryReader(rpc, registry or parsed.anchor.registry)
            result = Verifier(reader).verify(parsed, event=held_event, document_sha256=document)
    except VerificationError as exc:
        fail(f"FAILED ({exc.code}): {exc}")
    typer.echo(result.summary())


def _offline_members(offline: bool, path: Path | None, rpc: str | None, via_alliance: str | None):
    """The members --offline trusts (None when online); exits 2 on a bad combination or file."""
    if not offline:
        if path is not None:
            fail("error: --alliance is for --offline", 2)
        return None
    if path is None:
        fail("error: --offline needs --alliance members.json (`lianzheng alliance members` writes it)", 2)
    if rpc or via_alliance:
        fail("error: --offline reads no chain: drop --rpc and --via-alliance", 2)
    from lianzheng.sdk.cosign import parse_members

    try:
        return parse_members(path.read_bytes())
    except OSError as exc:
        fail(f"error: cannot read {path}: {exc.strerror}", 2)
    except VerificationError as exc:
        fail(f"error: {path}: {exc}", 2)


def _verify_certificate(path: Path, rpc: str | None, registry: str | None, members=None) -> None:
    from lianzheng.sdk.certificate import extract_evidence, verify_certificate, verify_certificate_offline

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
        if members is not None:
            check = verify_certificate_offline(evidence, members)
            for raw in evidence["receipts"]:
                anchored_at = str(raw.get("anchor", {}).get("registry", "")) if isinstance(raw, dict) else ""
                if registry and anchored_at.lower() != registry.lower():
                    raise VerificationError(f"a receipt names registry {anchored_at}, you pinned {registry}")
        else:
            check = verify_certificate(evidence, RegistryReader(rpc, registry or named))
    except VerificationError as exc:
        fail(f"FAILED ({exc.code}): {exc}")
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        fail(f"FAILED (malformed): certificate evidence is malformed: {exc}")
    typer.echo(check.summary())
    for warning in check.warnings:
        typer.echo(f"warning: {warning}")
