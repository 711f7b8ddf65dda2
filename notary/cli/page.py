"""``lianzheng page export``: the witness page as one self-contained HTML file."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianzheng.notary.services.page import standalone_html
from lianzheng.sdk.cli.support import fail

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The witness verification page")


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="where to write the page")] = Path("verifier.html"),
    registry: Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer reads Optional
        "--registry", help="fix the evidence registry you trust in the file")] = None,
    rpc: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--rpc", help="fix the chain node you trust in the file (http or https)")] = None,
) -> None:
    """Write the verification page as one HTML file (scripts, styles and data inline).

    It works from file:// or any static host against any chain node and notary: a witness need
    not run code served by the notary it checks. With --registry/--rpc the choice is fixed in the
    file (nothing a browser stored, nor any other page, changes it). Prints the file's SHA-256."""
    if registry is not None and not re.fullmatch(r"0x[0-9a-fA-F]{40}", registry):
        fail(f"error: --registry {registry!r} is not a contract address (0x and 40 hex digits)", 2)
    if rpc is not None and not re.fullmatch(r"https?://[^\s\"'<>]+", rpc):
        fail(f"error: --rpc {rpc!r} is not an http(s) URL", 2)
    html = standalone_html(registry, rpc).encode()
    try:
        output.write_bytes(html)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    typer.echo(f"{output}: {len(html)} bytes, sha256 {hashlib.sha256(html).hexdigest()}")
