"""``lianzheng keys add``: create a writer API key (printed once, stored hashed)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from notary.errors import NotaryError
from notary.services.keys import create_key
from notary.settings import Settings
from notary.store import SqlStore

app = typer.Typer(add_completion=False, no_args_is_help=True, help="API keys: writers log events, readers see payloads")


@app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="who this key is for (a trading system, a supervisor ...)")],
    role: Annotated[str, typer.Option("--role", help="writer: logs events; reader: reads payloads, writes nothing")]
    = "writer",
    data_dir: Annotated[Path, typer.Option("--data-dir", envvar="LIANZHENG_DATA_DIR")] = Path("data"),
    database_url: Annotated[Optional[str], typer.Option("--database-url", envvar="LIANZHENG_DATABASE_URL")] = None,
) -> None:
    """Create a key for NAME with ROLE and print it once."""
    store = SqlStore(Settings(data_dir=data_dir, database_url=database_url).db_url)
    try:
        secret = create_key(store, name, role)
    except NotaryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        store.close()
    typer.echo(secret)
