"""``lianzheng serve``: run the notary (embedded chain and SQLite unless told otherwise).

Every option is a field of ``Settings`` with no default of its own here: an option that is
not given leaves the field to its ``LIANZHENG_*`` environment variable, then to the default
in ``notary.settings`` (one place), so the command line never silently overrides the
environment.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
import uvicorn
from pydantic import ValidationError

from lianzheng.notary.settings import Settings
from lianzheng.sdk.cli.support import fail


def _option(field: str, flag: str | None = None) -> Any:
    info = Settings.model_fields[field]
    default = info.get_default(call_default_factory=True)
    shown = f" (default {default})" if default not in (None, []) else ""
    return typer.Option(flag or "--" + field.replace("_", "-"), help=f"{info.description or field}{shown}",
                        show_default=False)


def serve(
    port: Annotated[Optional[int], _option("port")] = None,
    workers: Annotated[Optional[int], _option("workers")] = None,
    host: Annotated[Optional[str], _option("host")] = None,
    data_dir: Annotated[Optional[Path], _option("data_dir")] = None,
    region: Annotated[Optional[str], _option("region")] = None,
    rpc_url: Annotated[Optional[str], _option("rpc_url", "--rpc")] = None,
    registry: Annotated[Optional[str], _option("registry")] = None,
    database_url: Annotated[Optional[str], _option("database_url")] = None,
    hash_name: Annotated[Optional[str], _option("hash")] = None,
    origin: Annotated[Optional[str], _option("origin")] = None,
    anchor_interval: Annotated[Optional[float], _option("anchor_interval")] = None,
    anchor_every: Annotated[Optional[int], _option("anchor_every")] = None,
    rate_limit: Annotated[Optional[float], _option("rate_limit")] = None,
    tender_contract: Annotated[Optional[str], _option("tender_contract")] = None,
    expert_draw_contract: Annotated[Optional[str], _option("expert_draw_contract")] = None,
    public_rpc_url: Annotated[Optional[str], _option("public_rpc_url")] = None,
    public_url: Annotated[Optional[str], _option("public_url")] = None,
    trusted_proxies: Annotated[Optional[str], _option("trusted_proxies")] = None,
    tender_profiles: Annotated[Optional[str], _option("tender_profiles")] = None,
    chain_key_file: Annotated[Optional[Path], _option("chain_key_file")] = None,
    checkpoint_key_file: Annotated[Optional[Path], _option("checkpoint_key_file")] = None,
    log_format: Annotated[Optional[str], _option("log_format")] = None,
) -> None:
    """Serve the notary HTTP API."""
    given = {k: v for k, v in locals().items() if v is not None}
    if "hash_name" in given:
        given["hash"] = given.pop("hash_name")
    for listed in ("trusted_proxies", "tender_profiles"):  # comma-separated on the command line
        if listed in given:
            given[listed] = [p.strip() for p in given[listed].split(",") if p.strip()]
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        option = "-".join(str(p) for p in first["loc"]).replace("_", "-")
        typer.echo(f"error: --{option}: {first['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from exc
    from lianzheng.notary.api.app import SETTINGS_ENV, serving_app, tune_gc
    from lianzheng.notary.api.logs import configure_logging

    configure_logging(settings.log_format)
    if settings.workers > 1 and settings.rpc_url is None:
        typer.echo("error: --workers above 1 needs --rpc: the embedded chain lives inside one process", err=True)
        raise typer.Exit(2)
    typer.echo(f"lianzheng notary: region {settings.region}, data {settings.data_dir}, "
               f"chain {_without_credentials(settings.rpc_url) or 'embedded'}, http://{settings.host}:{settings.port}"
               + (f", {settings.workers} worker processes" if settings.workers > 1 else ""))
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app decides
    # whose header to believe (--trusted-proxies).
    common = {"host": settings.host, "port": settings.port, "log_level": "warning", "access_log": False,
              "proxy_headers": False}
    if settings.log_format == "json":
        common["log_config"] = None  # uvicorn's own lines go to the root logger: JSON too
    _check_port(settings.host, settings.port)
    if settings.workers == 1:
        tune_gc()
        uvicorn.run(serving_app(settings, _open(settings)), **common)
        return
    _open(settings).close()  # first start (keys, contracts, enrolment) once, not in every worker
    # The workers' settings in a 0600 file (they may hold a database password): the environment
    # only names it, and every process of the user could read the environment.
    handed = settings.data_dir / "serve-settings.json"
    handed.unlink(missing_ok=True)  # never an old file's mode, nor a symlink's target
    fd = os.open(handed, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(settings.model_dump_json())
    os.environ[SETTINGS_ENV] = str(handed.resolve())
    _count_across_workers(settings.data_dir)
    try:
        uvicorn.run("lianzheng.notary.api.app:app_from_environment", factory=True, workers=settings.workers,
                    **common)
    finally:
        handed.unlink(missing_ok=True)


def _without_credentials(url: str | None) -> str | None:
    """``url`` as it may be printed: no user or password."""
    from urllib.parse import urlsplit, urlunsplit

    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))) \
        if parts.username or parts.password else url


def _count_across_workers(data_dir: Path) -> None:
    """/metrics of any worker shows every worker's counts: prometheus-client's multiprocess mode,
    each worker (a fresh process: uvicorn spawns them) writing its counts to files in an emptied
    ``<data dir>/metrics`` (an earlier run's counts would be summed in)."""
    import shutil

    where = data_dir / "metrics"
    if where.is_symlink() or (where.exists() and not where.is_dir()):
        fail(f"error: {where} is not a directory of this notary's: remove it", 1)
    shutil.rmtree(where, ignore_errors=True)
    try:
        where.mkdir(parents=True, mode=0o700)
    except OSError as exc:
        fail(f"error: cannot make {where}: {exc.strerror}", 1)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(where.absolute())


def _check_port(host: str, port: int) -> None:
    """Fail in one line when the address is taken, before anything is opened."""
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno is not None and exc.errno < 0:  # a resolver's code: no such address here
            fail(f"error: --host {host} is not an address of this machine", 2)
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        fail(f"error: cannot listen on {host}:{port} ({reason}): another notary there? choose --port", 1)


def _open(settings: Settings):
    """Assemble the notary (keys, store, chain, registry); every failure is one line saying what to do."""
    from sqlalchemy.exc import SQLAlchemyError

    from lianzheng.notary.services.setup import open_notary
    from lianzheng.notary.store import printable_url
    from lianzheng.sdk.errors import LianzhengError

    try:
        return open_notary(settings)
    except LianzhengError as exc:
        fail(f"error: {' '.join(str(exc).split())}", 1)
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        fail(f"error: cannot use the database {printable_url(settings.db_url)}: {reason[:300]} (check --database-url)",
             1)
    except OSError as exc:
        fail(f"error: {exc.filename or settings.data_dir}: {exc.strerror} "
             "(check that this user may read and write it)", 1)
