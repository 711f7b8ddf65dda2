"""``lianzheng chain up|down|show`` (a local alliance) and ``lianzheng relay`` (a member's relayer)."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

chain_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="A local Yellow River alliance: one anvil chain per province, notaries, relays")

Dir = Annotated[Path, typer.Option("--dir", help="where the alliance keeps its chains, notaries and keys")]


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@chain_app.command("up")
def up(provinces: Annotated[str, typer.Option("--provinces", help="e.g. shandong,gansu,neimenggu")],
       cities: Annotated[int, typer.Option("--cities", help="city notaries per province (0..4)")] = 1,
       threshold: Annotated[int, typer.Option("--threshold", help="attestations needed (default: majority)")] = 0,
       directory: Dir = Path("alliance-local")) -> None:
    """Start one anvil per province, a notary per province and city, and an AllianceRelay per chain."""
    from alliance.local import AllianceError
    from alliance.local import up as start
    from chain_node import ChainError

    try:
        deployment = start(directory, [p.strip() for p in provinces.split(",") if p.strip()], cities,
                           threshold or None)
    except (AllianceError, ChainError) as exc:
        _fail(f"error: {exc}", 2)
    for name, entry in deployment["provinces"].items():
        typer.echo(f"{name}: chain {entry['chain_id']} at {entry['rpc']}, relay {entry['relay']}")
        for n in entry["notaries"]:
            typer.echo(f"  notary {n['region']} at {n['url']} (registry {n['registry']})")
    typer.echo(f"threshold {deployment['threshold']}; deployment in {directory / 'deployment.json'}")


@chain_app.command("down")
def down(directory: Dir = Path("alliance-local")) -> None:
    """Stop every chain and notary of the local alliance."""
    from alliance.local import AllianceError
    from alliance.local import down as stop

    try:
        count = stop(directory)
    except AllianceError as exc:
        _fail(f"error: {exc}", 2)
    typer.echo(f"stopped {count} processes")


def relay(deployment: Annotated[Path, typer.Option("--deployment", help="deployment.json or its directory")],
          member: Annotated[str, typer.Option("--member", help="the province this relayer speaks for")],
          once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
          interval: Annotated[float, typer.Option("--interval", help="seconds between passes")] = 2.0) -> None:
    """Follow the other provinces' notaries, check each checkpoint, attest it on every other chain.
    Exit 1 if a pass refused a checkpoint (with --once)."""
    from alliance.local import AllianceError, load
    from alliance.relay import AllianceRelay
    from alliance.relayer import Relayer, Source
    from chain_node.accounts import load_or_create_account
    from chain_node.rpc import RpcChain

    try:
        d = load(deployment)
    except AllianceError as exc:
        _fail(f"error: {exc}", 2)
    if member not in d["provinces"]:
        _fail(f"error: {member} is not in the deployment ({', '.join(d['provinces'])})", 2)
    me = d["provinces"][member]
    sources = [Source(f"{name}/{n['region']}", entry["rpc"], n["registry"], n["region"], n["url"])
               for name, entry in d["provinces"].items() if name != member for n in entry["notaries"]]
    relays = [AllianceRelay(RpcChain(entry["rpc"]), entry["relay"]) for entry in d["provinces"].values()]
    state = Path(me["relayer_key"]).parent.parent / "relay-state.json"
    relayer = Relayer(load_or_create_account(Path(me["relayer_key"])), sources, relays, state)
    while True:
        reports = relayer.poll()
        for report in reports:
            typer.echo(report.line())
        if once:
            if any(r.status in ("refused", "error") for r in reports):
                raise typer.Exit(1)
            return
        time.sleep(interval)

