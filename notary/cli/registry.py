"""``lianzheng registry bind|show``: the province–city chain (省市数据链) on one EvidenceRegistry.

The province centre deploys the registry (its notary does on first start) and, as registrar,
binds each city notary's chain account to the city's region; each notary then registers its
own checkpoint key and anchors only its own log.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Regions and notaries of an EvidenceRegistry")

Rpc = Annotated[str, typer.Option("--rpc", envvar="LIANZHENG_RPC", help="JSON-RPC URL of the chain")]
Registry = Annotated[str, typer.Option("--registry", help="EvidenceRegistry address")]


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _open(rpc: str, registry: str):
    from chain_node import ChainUnavailable
    from chain_node.rpc import RpcChain

    try:
        chain = RpcChain(rpc)
        return chain, chain.contract("EvidenceRegistry", registry)
    except (ChainUnavailable, ValueError) as exc:
        _fail(f"error: {exc}", 2)


@app.command("bind")
def bind(rpc: Rpc, registry: Registry,
         key_file: Annotated[Path, typer.Option("--key-file", help="the registrar's hex private key file")],
         account: Annotated[str, typer.Option("--account", help="the city notary's chain account")],
         region: Annotated[int, typer.Option("--region", help="GB/T 2260 code, e.g. 370100")]) -> None:
    """Bind a notary's chain account to its region (registrar only, once per region and account)."""
    from eth_utils import to_checksum_address

    from chain_node import TransactionReverted
    from chain_node.accounts import KeyFileError, load_or_create_account

    if not key_file.is_file():
        _fail(f"error: no key file at {key_file}", 2)
    try:
        registrar = load_or_create_account(key_file)
        notary = to_checksum_address(account)
    except (KeyFileError, ValueError) as exc:
        _fail(f"error: {exc}", 2)
    chain, contract = _open(rpc, registry)
    try:
        outcome = chain.transact(registrar, contract.functions.bindNotary(notary, region))
    except TransactionReverted as exc:
        _fail(f"refused: {exc.reason}")
    typer.echo(f"{notary} is the notary of {region} (block {outcome.block_number})")


@app.command("show")
def show(rpc: Rpc, registry: Registry) -> None:
    """Every bound region: its notary, checkpoint key, hash, origin and latest anchored size."""
    _, contract = _open(rpc, registry)
    try:
        bound = contract.events.NotaryBound().get_logs(from_block=0)
    except Exception as exc:  # noqa: BLE001 - a wrong address or a node without logs: one line, no traceback
        _fail(f"error: cannot read {registry} on {rpc}: {exc}", 2)
    for log in bound:
        region = log["args"]["region"]
        notary, key, alg, origin, size = contract.functions.logOf(region).call()
        key_text = f"key {bytes(key).hex()[:16]}…, {('sha256', 'sm3')[alg]}, {origin}" if any(key) else "no key yet"
        typer.echo(f"{region}  {notary}  {key_text}  anchored {size}")
