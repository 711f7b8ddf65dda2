"""``lianzheng keys add|list|revoke``: API keys (printed once, stored hashed)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lianzheng.notary.errors import NotaryError
from lianzheng.notary.services.keys import create_key, list_keys, revoke_key
from lianzheng.notary.settings import Settings
from lianzheng.notary.store import SqlStore, printable_url
from lianzheng.sdk.cli.support import fail

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="API keys: writers log events, readers see payloads, rules keys write rule outcomes")

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", envvar="LIANZHENG_DATA_DIR",
                                                  help="the server's data dir (default ./data)")]
DatabaseUrl = Annotated[Optional[str], typer.Option("--database-url", envvar="LIANZHENG_DATABASE_URL")]


def _store(data_dir: Path | None, database_url: str | None) -> SqlStore:
    """The store of the notary whose keys these are. With no --data-dir, LIANZHENG_DATA_DIR or
    --database-url given, the default ./data must hold a notary (exit 2 naming the directory
    otherwise: a key made there would never be recognised by a server started elsewhere); a place
    named on purpose may be provisioned before its notary first starts."""
    from pydantic import ValidationError

    named = data_dir is not None or database_url is not None
    data_dir = data_dir if data_dir is not None else Path("data")
    try:
        settings = Settings(data_dir=data_dir, database_url=database_url)
    except ValidationError as exc:
        fail(f"error: --database-url: {exc.errors()[0]['msg'].removeprefix('Value error, ')}", 2)
    where = f"database {printable_url(database_url)}" if database_url else f"data dir {data_dir.resolve()}"
    if not named and not (data_dir / "notary.db").is_file():
        fail(f"error: no notary has started in the {where}: give the server's --data-dir (or --database-url), "
             "or set LIANZHENG_DATA_DIR for both the server and this command", 2)
    if database_url is None:
        try:
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # as serve makes it: keys live here
        except OSError as exc:  # a file there too: FileExistsError
            fail(f"error: cannot use {data_dir} as a data dir: {exc.strerror}", 2)
    store = SqlStore(settings.db_url)
    if store.meta("region") is None:
        typer.echo(f"note: no notary has started in the {where} yet; its keys work once one does", err=True)
    return store


@app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="who this key is for (a trading system, a supervisor ...)")],
    role: Annotated[str, typer.Option("--role", help="writer: logs events; reader: reads payloads, writes nothing; "
                                                     "rules: a rules engine (may write rule outcomes); "
                                                     "operator: keeps the bidder registry and names key holders")]
    = "writer",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a key for NAME with ROLE and print it once."""
    store = _store(data_dir, database_url)
    try:
        secret = create_key(store, name, role)
    except NotaryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        store.close()
    typer.echo(secret)


@app.command("list")
def list_(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Every key: name, role, creation time, and whether it is revoked (secrets are never shown)."""
    from lianzheng.sdk.times import utc_iso

    store = _store(data_dir, database_url)
    try:
        for key in list_keys(store):
            state = "revoked" if key.revoked else "active"
            typer.echo(f"{key.name}\t{key.role}\t{utc_iso(int(key.created_at))}\t{state}")
    finally:
        store.close()


@app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="the key's name")], data_dir: DataDir = None,
           database_url: DatabaseUrl = None) -> None:
    """Revoke NAME's key: it stops working within 2 seconds; its events stay in the log."""
    store = _store(data_dir, database_url)
    try:
        revoke_key(store, name)
    except NotaryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        store.close()
    typer.echo(f"revoked {name}")
