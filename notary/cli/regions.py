"""``lianzheng registry bind|rebind|accept|bind-rules|show``: the province–city chain (省市数据链) on
one EvidenceRegistry.

The province centre deploys the registry (its notary does on first start) and, as registrar,
binds each city notary's chain account to the city's region; each notary then registers its
own checkpoint key and anchors only its own log. A region moves to a new notary account in two
steps: the registrar proposes it (``rebind``), the new account takes it (``accept``); the old
account then loses the region and its NOTARY_ROLE, and the region's log goes on unchanged.
The registrar also names each region's rule contracts (``bind-rules``): a witness counts a rule
outcome only from the logs of the contracts bound to the event's region.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lianzheng.sdk.cli.support import fail

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Regions and notaries of an EvidenceRegistry")

Rpc = Annotated[str, typer.Option("--rpc", envvar="LIANZHENG_RPC", help="JSON-RPC URL of the chain")]
Registry = Annotated[str, typer.Option("--registry", help="EvidenceRegistry address")]


def _open(rpc: str, registry: str):
    from lianzheng.chain_node import ChainUnavailable
    from lianzheng.chain_node.rpc import RpcChain

    try:
        chain = RpcChain(rpc)
        return chain, chain.contract("EvidenceRegistry", registry)
    except (ChainUnavailable, ValueError) as exc:
        fail(f"error: {exc}", 2)


RegistrarKey = Annotated[Path, typer.Option("--key-file", help="the registrar's hex private key file")]
Region = Annotated[int, typer.Option("--region", help="GB/T 2260 code, e.g. 370100")]


def _signer(key_file: Path, account: str | None = None):
    """The account in ``key_file`` and, when given, ``account`` checksummed; exit 2 when unusable."""
    from eth_utils import to_checksum_address

    from lianzheng.chain_node.accounts import KeyFileError, load_or_create_account

    if not key_file.is_file():
        fail(f"error: no key file at {key_file}", 2)
    try:
        return load_or_create_account(key_file), to_checksum_address(account) if account else None
    except (KeyFileError, ValueError) as exc:
        fail(f"error: {exc}", 2)


def _send(rpc: str, registry: str, signer, call):
    """Send ``contract.tx(*call)`` from ``signer``; exit 1 with the contract's reason when refused."""
    from lianzheng.chain_node import TransactionReverted

    chain, contract = _open(rpc, registry)
    try:
        return chain.transact(signer, contract.tx(*call))
    except TransactionReverted as exc:
        fail(f"refused: {exc.reason}")


@app.command("bind")
def bind(rpc: Rpc, registry: Registry, key_file: RegistrarKey,
         account: Annotated[str, typer.Option("--account", help="the city notary's chain account")],
         region: Region) -> None:
    """Bind a notary's chain account to its region (registrar only, once per region and account)."""
    registrar, notary = _signer(key_file, account)
    outcome = _send(rpc, registry, registrar, ("bindNotary", notary, region))
    typer.echo(f"{notary} is the notary of {region} (block {outcome.block_number})")


@app.command("rebind")
def rebind(rpc: Rpc, registry: Registry, key_file: RegistrarKey,
           account: Annotated[str, typer.Option("--account", help="the region's new notary account")],
           region: Region) -> None:
    """Propose a new notary account for a bound region (registrar only); it takes over with `accept`."""
    registrar, notary = _signer(key_file, account)
    outcome = _send(rpc, registry, registrar, ("proposeRebind", region, notary))
    typer.echo(f"{notary} is proposed as the notary of {region} (block {outcome.block_number}); "
               f"it takes over with `lianzheng registry accept`")


@app.command("accept")
def accept(rpc: Rpc, registry: Registry,
           key_file: Annotated[Path, typer.Option("--key-file", help="the proposed account's hex private key file")],
           region: Region) -> None:
    """Take over a region the registrar proposed this account for; the previous account loses it."""
    notary, _ = _signer(key_file)
    outcome = _send(rpc, registry, notary, ("acceptRebind", region))
    typer.echo(f"{notary.address} is the notary of {region} (block {outcome.block_number})")


@app.command("bind-rules")
def bind_rules(rpc: Rpc, registry: Registry, key_file: RegistrarKey, region: Region,
               tender: Annotated[str, typer.Option("--tender", help="the region notary's TenderRules address")],
               draw: Annotated[str, typer.Option("--draw", help="the region notary's ExpertDraw address")]) -> None:
    """Name the rule contracts of a region (registrar only): witnesses count rule outcomes from no other."""
    from eth_utils import to_checksum_address

    registrar, _ = _signer(key_file)
    try:
        tender, draw = to_checksum_address(tender), to_checksum_address(draw)
    except ValueError as exc:
        fail(f"error: {exc}", 2)
    outcome = _send(rpc, registry, registrar, ("bindRules", region, tender, draw))
    typer.echo(f"rule contracts of {region}: tender {tender}, draw {draw} (block {outcome.block_number})")


@app.command("show")
def show(rpc: Rpc, registry: Registry) -> None:
    """Every bound region: its notary, checkpoint key, hash, origin and latest anchored size."""
    from lianzheng.sdk.errors import LianzhengError
    from lianzheng.sdk.merkle import hash_name

    _, contract = _open(rpc, registry)
    try:
        regions = sorted({log.args["region"] for log in contract.logs("NotaryBound")})
        logs = [(region, contract.read("logOf", region)) for region in regions]
    except LianzhengError as exc:  # a wrong address, a contract that is not a registry: one line
        fail(f"error: cannot read {registry} on {rpc}: {exc}", 2)
    for region, (notary, key, alg, origin, size) in logs:
        key_text = f"key {bytes(key).hex()[:16]}…, {hash_name(alg)}, {origin}" if any(key) else "no key yet"
        typer.echo(f"{region}  {notary}  {key_text}  anchored {size}")
