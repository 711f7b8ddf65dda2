"""``lianzheng verify``: check a receipt against a chain; exit 0 verified, 1 failed, 2 bad input."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from sdk.errors import PendingError, VerificationError
from sdk.receipt import parse_receipt
from sdk.registry import RegistryReader
from sdk.verifier import Verifier, file_sha256


def _fail(code: int, message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def verify(
    receipt: Annotated[Path, typer.Option("--receipt", help="receipt JSON written by `lianzheng notarize`")],
    rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of the chain (embedded: <notary>/chain/rpc)")],
    file: Annotated[Optional[Path], typer.Option("--file", help="the document the event references")] = None,
    event: Annotated[Optional[Path], typer.Option("--event", help="the event JSON you hold")] = None,
    registry: Annotated[Optional[str], typer.Option("--registry", help="pin the registry address you trust")] = None,
    via_alliance: Annotated[Optional[str], typer.Option(
        "--via-alliance", metavar="RELAY",
        help="verify a receipt of another province through this AllianceRelay on --rpc")] = None,
) -> None:
    """Verify evidence against the chain alone, without trusting the notary server."""
    if (file is None) == (event is None):
        _fail(2, "error: give exactly one of --file or --event")
    try:
        parsed = parse_receipt(receipt.read_bytes())
        held_event = json.loads(event.read_text()) if event else None
        if event and not isinstance(held_event, dict):
            _fail(2, f"error: {event} does not hold a JSON object")
        document = file_sha256(file) if file else None
    except OSError as exc:
        _fail(2, f"error: cannot read {exc.filename}: {exc.strerror}")
    except (VerificationError, ValueError) as exc:
        _fail(2, f"error: {exc}")
    try:
        if parsed.anchor is None:
            raise PendingError("receipt is pending: fetch the anchored receipt from the notary and verify again")
        if via_alliance:
            from sdk.alliance import AllianceReader, verify_via_alliance

            if registry and registry.lower() != parsed.anchor.registry.lower():
                raise VerificationError(f"receipt names registry {parsed.anchor.registry}, you pinned {registry}")
            result = verify_via_alliance(AllianceReader(rpc, via_alliance), parsed, held_event, document)
        else:
            reader = RegistryReader(rpc, registry or parsed.anchor.registry)
            result = Verifier(reader).verify(parsed, event=held_event, document_sha256=document)
    except VerificationError as exc:
        _fail(1, f"FAILED ({exc.code}): {exc}")
    typer.echo(result.summary())
