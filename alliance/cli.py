"""``lianzheng chain up|down`` (a local alliance), ``lianzheng relay`` (a member's relayer),
``lianzheng mirror`` (an alliance node's verified copy of another notary's log) and
``lianzheng alliance members`` (the members' file that offline verification trusts)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianzheng.alliance import chain_keys
from lianzheng.alliance.besu_cli import besu_config
from lianzheng.sdk.cli.support import fail, progress

chain_app = typer.Typer(add_completion=False, no_args_is_help=True,
                        help="A local Yellow River alliance: one anvil chain per province, notaries, relays")

Dir = Annotated[Path, typer.Option("--dir", help="where the alliance keeps its chains, notaries and keys")]


@chain_app.command("up")
def up(provinces: Annotated[str, typer.Option("--provinces", help="e.g. shandong,gansu,neimenggu")],
       cities: Annotated[int, typer.Option("--cities", help="city notaries per province (0..4)")] = 1,
       threshold: Annotated[int, typer.Option("--threshold", help="attestations needed (default: a majority, at most "
                                                                  "one less than the provinces)")] = 0,
       directory: Dir = Path("alliance-local")) -> None:
    """Start one anvil per province (running `npm ci` first if anvil is missing), a notary per
    province and city, an AllianceRelay per chain and each province's relayer."""
    from lianzheng.alliance.errors import AllianceError
    from lianzheng.alliance.local import steps
    from lianzheng.alliance.local import up as start
    from lianzheng.chain_node import ChainError

    names = [p.strip() for p in provinces.split(",") if p.strip()]
    done = 0

    try:
        with progress("chain up", steps(names, cities)) as update:
            def step(description: str) -> None:
                nonlocal done
                if description.startswith("npm ci"):  # said even off a terminal: it changes node_modules
                    typer.echo(f"chain up: anvil is missing, running {description} (once)", err=True)
                update(description=description, completed=done)
                done += 1

            deployment = start(directory, names, cities, threshold or None, step)
    except (AllianceError, ChainError) as exc:
        fail(f"error: {exc}", 2)
    for name, entry in deployment["provinces"].items():
        typer.echo(f"{name}: chain {entry['chain_id']} at {entry['rpc']}, relay {entry['relay']}, "
                   f"relayer pid {entry['relayer_pid']}")
        for n in entry["notaries"]:
            typer.echo(f"  notary {n['region']} at {n['url']} (registry {n['registry']})")
    typer.echo(f"threshold {deployment['threshold']}; deployment in {directory / 'deployment.json'}")


@chain_app.command("down")
def down(directory: Dir = Path("alliance-local")) -> None:
    """Stop every chain, notary and relayer of the local alliance."""
    from lianzheng.alliance.errors import AllianceError
    from lianzheng.alliance.local import down as stop

    try:
        count = stop(directory)
    except AllianceError as exc:
        fail(f"error: {exc}", 2)
    typer.echo(f"stopped {count} processes")


chain_app.command("besu-config")(besu_config)  # the production chain's files (docker-compose.yml)
chain_app.command("new-key")(chain_keys.new_key)
chain_app.command("fund")(chain_keys.fund)


def relay(deployment: Annotated[Path, typer.Option("--deployment", help="deployment.json or its directory")],
          member: Annotated[str, typer.Option("--member", help="the province this relayer speaks for")],
          once: Annotated[bool, typer.Option("--once", help="one pass, then exit")] = False,
          interval: Annotated[float, typer.Option("--interval", help="seconds between passes")] = 2.0) -> None:
    """Follow the other provinces' notaries, check each checkpoint, attest it on every other chain.
    Exit 1 if a pass refused a checkpoint (with --once)."""
    from lianzheng.alliance.errors import AllianceError
    from lianzheng.alliance.local import load
    from lianzheng.alliance.relay_contract import AllianceRelay
    from lianzheng.alliance.relayer import Relayer, Source
    from lianzheng.chain_node.accounts import load_or_create_account
    from lianzheng.chain_node.rpc import RpcChain

    try:
        d = load(deployment)
    except AllianceError as exc:
        fail(f"error: {exc}", 2)
    if member not in d["provinces"]:
        fail(f"error: {member} is not in the deployment ({', '.join(d['provinces'])})", 2)
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



def mirror(source: Annotated[str, typer.Option("--source", help="the source notary's URL")],
           rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of the source's chain")],
           data_dir: Annotated[Path, typer.Option("--data-dir", help="where the mirror keeps what it verified")]
           = Path("mirror"),
           registry: Annotated[Optional[str], typer.Option("--registry", help="pin the source's registry")] = None,
           limit: Annotated[Optional[int], typer.Option("--limit", help="copy at most this many entries now")] = None,
           proof: Annotated[Optional[str], typer.Option("--proof", metavar="EVENT_ID",
                                                        help="print the inclusion proof of a mirrored event")] = None,
           serve: Annotated[bool, typer.Option("--serve", help="after syncing, serve entries and proofs")] = False,
           port: Annotated[int, typer.Option("--port", help="port for --serve")] = 8100,
           via: Annotated[Optional[str], typer.Option(
               "--via", metavar="tiles|json",
               help="copy from the source's tlog-tiles or its JSON API (with event ids); "
                    "default: tiles when it serves them")] = None,
           ) -> None:
    """Copy another notary's log, verify every entry against its anchored roots (resumable).
    Exit 1 with the entry's index when the source served a tampered entry or a forked log."""
    import httpx

    from lianzheng.alliance.errors import MirrorError, NoTiles
    from lianzheng.alliance.mirror import SOURCES, Mirror
    from lianzheng.sdk.client import NotaryClientError
    from lianzheng.sdk.errors import VerificationError

    if via is not None and via not in SOURCES:
        fail(f"error: --via must be one of {', '.join(SOURCES)}, not {via!r}", 2)
    try:
        m = Mirror(data_dir, source, rpc, registry)
    except (MirrorError, VerificationError, NotaryClientError, httpx.HTTPError) as exc:
        fail(f"error: cannot mirror {source}: {exc}", 2)
    try:
        if proof:
            typer.echo(json.dumps(m.proof(proof), indent=1))
            return
        target = max((s for s, _ in m.anchored()), default=0)
        todo = max(0, target - m.verified_size) if limit is None else min(limit, max(0, target - m.verified_size))
        with progress("verifying entries", todo) as update:
            result = m.sync(limit=limit, progress=lambda n: update(advance=n), source=via)
        rate = result.copied / result.seconds if result.seconds else 0
        how = {"tiles": " from tiles", "json": " over the JSON API"}.get(result.source, "")
        typer.echo(f"verified {result.verified_size} entries (root {result.root.hex()}); copied {result.copied}"
                   f"{how} in {result.seconds:.1f} s ({rate:,.0f}/s)")
        if serve:
            import uvicorn

            from lianzheng.alliance.mirror_api import create_mirror_app

            typer.echo(f"serving the verified mirror on http://127.0.0.1:{port}")
            uvicorn.run(create_mirror_app(m), host="127.0.0.1", port=port, log_level="warning")
    except NoTiles:
        fail(f"error: {source} serves no tlog-tiles: mirror it with --via json", 2)
    except MirrorError as exc:
        fail(f"REJECTED: {exc}")
    except (VerificationError, NotaryClientError, httpx.HTTPError) as exc:
        fail(f"error: {exc}", 2)
    finally:
        m.close()


alliance_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="The Yellow River alliance's members, for verifying receipts with no chain")


@alliance_app.command("members")
def members(rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of the relay's chain")],
            relay_address: Annotated[str, typer.Option("--relay", help="the AllianceRelay address")],
            output: Annotated[Path, typer.Option("-o", "--output", help="where to write members.json")]
            = Path("members.json")) -> None:
    """Write members.json (lianzheng-alliance-members/1) from a live AllianceRelay: its EIP-712
    domain, members at their current epochs, threshold. `lianzheng verify --offline --alliance`
    trusts it instead of a chain."""
    from lianzheng.sdk.alliance import AllianceReader
    from lianzheng.sdk.errors import VerificationError
    from lianzheng.sdk.jsonrpc import RpcError, RpcUnreachable

    try:
        found = AllianceReader(rpc, relay_address).members_file()
    except (VerificationError, RpcError, RpcUnreachable) as exc:
        fail(f"error: cannot read the relay {relay_address} at {rpc}: {exc}", 2)
    try:
        output.write_text(found.to_json())
    except OSError as exc:
        fail(f"error: cannot write {output}: {exc.strerror}", 2)
    typer.echo(f"wrote {output}: {len(found.members)} members, threshold {found.threshold}, relay "
               f"{found.relay.address} on chain {found.relay.chain_id}")
