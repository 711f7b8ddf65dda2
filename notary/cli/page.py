"""``lianzheng page export``: the witness page as one self-contained HTML file."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from lianzheng.notary.services.page import standalone_html
from lianzheng.sdk.cli.support import fail

app = typer.Typer(add_completion=False, no_args_is_help=True, help="The witness verification page")


@app.command("export")
def export(output: Annotated[Path, typer.Option("-o", "--output", help="where to write the page")] = Path("verifier.html"),
           ) -> None:
    """Write the verification page as one HTML file (scripts, styles and data inline).

    It works from file:// or any static host against any chain node and notary: a witness need
    not run code served by the notary it checks. Prints the file's SHA-256, to compare with the
    one the alliance publishes."""
    html = standalone_html().encode()
    try:
        output.write_bytes(html)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    typer.echo(f"{output}: {len(html)} bytes, sha256 {hashlib.sha256(html).hexdigest()}")
