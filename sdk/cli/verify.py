"""``lianzheng verify``: check a receipt against a chain; exit 0 verified, 1 failed, 2 bad input.

``--offline --alliance members.json`` reads no chain at all: a receipt (or every receipt of a
certificate) verifies by k-of-n alliance members' cosignatures (``sdk.cosign``). With no event
or file given offline, the receipt's own (public) event is what is verified.

``--receipts DIR_OR_FILE`` (repeatable; a directory means its ``*.json``) verifies many receipts
with ``Verifier.verify_many``, reading the chain once per checkpoint: one line per receipt on
stdout, ``<file>: verified: ...`` or ``<file>: FAILED (<code>): <reason>``; exit 1 if any failed.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianzheng.sdk.cli.support import fail
from lianzheng.sdk.documents import file_sha256
from lianzheng.sdk.errors import PendingError, VerificationError
from lianzheng.sdk.receipt import Receipt, parse_receipt
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verified, Verifier


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
    receipts: Annotated[Optional[list[Path]], typer.Option(
        "--receipts", metavar="DIR_OR_FILE",
        help="verify many receipts (files, or directories of *.json; repeat the option) against --rpc, "
             "the chain read once per checkpoint: one line each, exit 1 if any failed")] = None,
) -> None:
    """Verify evidence against the chain alone, without trusting the notary server."""
    if receipts is not None:
        others = (receipt_arg, receipt, certificate, file, event, via_alliance, alliance)
        if any(o is not None for o in others) or offline:
            fail("error: --receipts takes only --rpc and --registry", 2)
        if rpc is None:
            fail("error: --receipts needs --rpc", 2)
        _verify_many(receipts, rpc, registry)
        return
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


def _receipt_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.glob("*.json") if p.is_file())
            if not found:
                fail(f"error: no receipts (*.json) in {path}", 2)
            files += found
        elif path.is_file():
            files.append(path)
        else:
            fail(f"error: cannot read {path}: no such file or directory", 2)
    return files


def _verify_many(paths: list[Path], rpc: str, registry: str | None) -> None:
    """Each receipt as ``verify --receipt`` would judge it, the receipts naming one registry (or all,
    with --registry) verified together; one line per receipt, exit 1 if any failed."""
    files = _receipt_files(paths)
    results: dict[int, Verified | VerificationError] = {}
    by_registry: dict[str, tuple[str, list[tuple[int, Receipt]]]] = {}
    for i, path in enumerate(files):
        try:
            parsed = parse_receipt(path.read_bytes())
            if parsed.anchor is None:
                raise PendingError("receipt is pending: fetch the anchored receipt from the notary and verify again")
            if registry and registry.lower() != parsed.anchor.registry.lower():
                raise VerificationError(f"receipt names registry {parsed.anchor.registry}, you pinned {registry}")
        except OSError as exc:
            fail(f"error: cannot read {path}: {exc.strerror}", 2)
        except VerificationError as exc:
            results[i] = exc
            continue
        address = registry or parsed.anchor.registry
        by_registry.setdefault(address.lower(), (address, []))[1].append((i, parsed))
    for address, members in by_registry.values():
        try:
            answers = Verifier(RegistryReader(rpc, address)).verify_many([r for _, r in members])
        except VerificationError as exc:  # the chain or the registry cannot be read at all
            answers = [exc] * len(members)
        results.update((i, answer) for (i, _), answer in zip(members, answers))
    failed = 0
    for i, path in enumerate(files):
        result = results[i]
        if isinstance(result, Verified):
            typer.echo(f"{path}: {result.summary()}")
        else:
            failed += 1
            reason = " ".join(str(result).split("\n"))
            typer.echo(f"{path}: FAILED ({result.code}): {reason}")
    if failed:
        raise typer.Exit(1)
