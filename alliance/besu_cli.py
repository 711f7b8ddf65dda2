"""``lianzheng chain besu-config``: the files of a Besu QBFT chain for the production stack
(``docker-compose.yml``). Keys are written 0600 and never printed: only addresses and enodes.

With no ``--validator``, this machine makes every validator's key: a single-host trial. In
production each organisation runs ``--validator-key-only`` on its own host and publishes the
address and enode it prints; the genesis is then built from those (``--validator``, repeatable)
and nobody holds another organisation's key."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from lianzheng.sdk.cli.support import fail


def besu_config(
        directory: Annotated[Path, typer.Option("--dir", help="where to write keys, genesis and permissions")]
        = Path("deploy/besu"),
        validators: Annotated[Optional[int], typer.Option("--validators", help="QBFT validators this machine "
                                                           "makes the keys of (validator1..N; default 4)")] = None,
        chain_id: Annotated[int, typer.Option("--chain-id", help="the chain's id (3700: Shandong, as in "
                                                                "`chain up`)")] = 3700,
        block_period: Annotated[int, typer.Option("--block-period", help="seconds per block")] = 1,
        notaries: Annotated[list[str], typer.Option("--notary", metavar="REGION",
                                                    help="make a notary chain key for this region (repeatable)")]
        = [],  # noqa: B006 - typer's way to spell an empty repeatable option
        accounts: Annotated[list[str], typer.Option("--account", metavar="0x…",
                                                    help="another account that sends transactions, e.g. a "
                                                         "relayer (repeatable)")] = [],  # noqa: B006
        published: Annotated[list[str], typer.Option("--validator", metavar="ADDRESS@ENODE",
                                                     help="a validator by what its organisation published "
                                                          "(repeatable); no validator key is made")] = [],  # noqa: B006
        peers: Annotated[list[str], typer.Option("--peer", metavar="ENODE",
                                                 help="another allowed node that is no validator, e.g. an "
                                                      "organisation's read node (repeatable)")] = [],  # noqa: B006
        key_only: Annotated[bool, typer.Option("--validator-key-only",
                                               help="only make this organisation's node key in --dir and print "
                                                    "its address and enode, to publish")] = False,
        host: Annotated[Optional[str], typer.Option("--host", help="with --validator-key-only: the host other "
                                                    "nodes reach this one at (default: the --dir's name)")] = None,
) -> None:
    """Generate a Hyperledger Besu QBFT network: node keys, genesis.json (QBFT extraData, zero base
    fee, the accounts funded), permissions_config.toml (nodes and accounts allowlists) and
    static-nodes.json. Refuses a directory that already holds one."""
    from lianzheng.chain_node.besu import BesuConfigError, PublishedNode, QbftParams, write_network, write_node_key

    try:
        if key_only:
            if published or peers or notaries or accounts or validators is not None:
                raise BesuConfigError("--validator-key-only makes one key: no other option but --dir and --host")
            node = write_node_key(directory, host)
            typer.echo(f"node key in {directory / 'key'} (keep it there); publish:")
            typer.echo(f"  {node.address}@{node.enode}")
            return
        if host is not None:
            raise BesuConfigError("--host goes with --validator-key-only")
        if published and validators is not None:
            raise BesuConfigError("--validators makes keys here; --validator names published ones: not both")
        params = QbftParams(chain_id=chain_id, block_period=block_period,
                            request_timeout=max(QbftParams.request_timeout, 2 * block_period))
        network = write_network(directory, 4 if validators is None else validators, accounts, notaries, params,
                                published=[PublishedNode.parse(v) for v in published],
                                peers=[PublishedNode.parse(p, validator=False) for p in peers])
    except BesuConfigError as exc:
        fail(f"error: {exc}", 2)
    except OSError as exc:
        fail(f"error: cannot write {exc.filename or directory}: {exc.strerror}", 2)
    typer.echo(f"QBFT chain {chain_id}, {len(network.validators)} validators, block every {block_period} s; "
               f"files in {directory}")
    for v in network.validators:
        typer.echo(f"  validator  {v.address}  {v.enode}")
    for p in network.peers:
        typer.echo(f"  node  {p.enode}")
    for region, address in network.notaries.items():
        typer.echo(f"  notary {region}  {address}  ({directory / f'notary-{region}' / 'chain.key'})")
    others = [a for a in network.accounts if a not in {v.address for v in network.validators}
              and a not in network.notaries.values()]
    for address in others:
        typer.echo(f"  account  {address}")
