"""``lianzheng chain besu-config``: the files of a Besu QBFT chain for the production stack
(``docker-compose.yml``). Keys are written 0600 and never printed: only addresses and enodes."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lianzheng.sdk.cli.support import fail


def besu_config(
        directory: Annotated[Path, typer.Option("--dir", help="where to write keys, genesis and permissions")]
        = Path("deploy/besu"),
        validators: Annotated[int, typer.Option("--validators", help="QBFT validators (validator1..N)")] = 4,
        chain_id: Annotated[int, typer.Option("--chain-id", help="the chain's id (3700: Shandong, as in "
                                                                "`chain up`)")] = 3700,
        block_period: Annotated[int, typer.Option("--block-period", help="seconds per block")] = 1,
        notaries: Annotated[list[str], typer.Option("--notary", metavar="REGION",
                                                    help="make a notary chain key for this region (repeatable)")]
        = [],  # noqa: B006 - typer's way to spell an empty repeatable option
        accounts: Annotated[list[str], typer.Option("--account", metavar="0x…",
                                                    help="another account that sends transactions, e.g. a "
                                                         "relayer (repeatable)")] = [],  # noqa: B006
) -> None:
    """Generate a Hyperledger Besu QBFT network: validator node keys, genesis.json (QBFT extraData,
    zero base fee, the accounts funded), permissions_config.toml (nodes and accounts allowlists)
    and static-nodes.json. Refuses a directory that already holds one."""
    from lianzheng.chain_node.besu import BesuConfigError, QbftParams, write_network

    try:
        params = QbftParams(chain_id=chain_id, block_period=block_period,
                            request_timeout=max(QbftParams.request_timeout, 2 * block_period))
        network = write_network(directory, validators, accounts, notaries, params)
    except BesuConfigError as exc:
        fail(f"error: {exc}", 2)
    except OSError as exc:
        fail(f"error: cannot write {exc.filename or directory}: {exc.strerror}", 2)
    typer.echo(f"QBFT chain {chain_id}, {len(network.validators)} validators, block every {block_period} s; "
               f"files in {directory}")
    for v in network.validators:
        typer.echo(f"  {v.name}  {v.address}  {v.enode}")
    for region, address in network.notaries.items():
        typer.echo(f"  notary {region}  {address}  ({directory / f'notary-{region}' / 'chain.key'})")
    others = [a for a in network.accounts if a not in {v.address for v in network.validators}
              and a not in network.notaries.values()]
    for address in others:
        typer.echo(f"  account  {address}")
