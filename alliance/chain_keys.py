"""``lianzheng chain new-key`` and ``lianzheng chain fund``: a chain account for a notary or a
relayer, and its gas money on a development chain.

A notary on ``--rpc`` signs with its own account (``serve --chain-key-file``), which pays gas. A
development node (anvil, ``chain up``) sets the balance (``anvil_setBalance``); a production chain
funds accounts in its genesis (``lianzheng chain besu-config --account 0x…``) or runs at a zero gas
price, and answers no such method: ``fund`` then says so and touches nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lianzheng.sdk.cli.support import fail


def new_key(out: Annotated[Path, typer.Option("--out", help="key file to create (hex, mode 0600)")]) -> None:
    """Create a chain account's key file; prints its address."""
    from lianzheng.chain_node.accounts import load_or_create_account

    if out.exists():
        fail(f"error: {out} exists: a key file is never overwritten", 2)
    typer.echo(load_or_create_account(out).address)


def fund(rpc: Annotated[str, typer.Option("--rpc", envvar="LIANZHENG_RPC", help="JSON-RPC URL of a dev node")],
         account: Annotated[str, typer.Option("--account", help="the address to fund")],
         ether: Annotated[float, typer.Option("--ether", help="how much, in ether")] = 100.0) -> None:
    """Give ACCOUNT gas money on a development node (anvil); a production node refuses."""
    from eth_utils import is_address, to_checksum_address

    from lianzheng.chain_node.rpc import RpcChain
    from lianzheng.sdk.errors import LianzhengError
    from lianzheng.sdk.jsonrpc import RpcError

    if not is_address(account):
        fail(f"error: --account {account!r} is not an address", 2)
    if not 0 < ether <= 10_000:
        fail("error: --ether must be above 0 and at most 10000", 2)
    try:
        chain = RpcChain(rpc)
    except (LianzhengError, ValueError) as exc:
        fail(f"error: {exc}", 2)
    address = to_checksum_address(account)
    try:
        before = chain.balance_of(address)
        try:  # only development nodes answer this; a production node's accounts are never touched
            chain.rpc.request("anvil_setBalance", [address, hex(before + int(ether * 10**18))])
        except RpcError:
            fail(f"error: the node at {rpc} is not a development node (no anvil_setBalance): a production "
                 "chain funds accounts in its genesis (lianzheng chain besu-config --account 0x…) or runs at a "
                 "zero gas price", 1)
        balance = chain.balance_of(address)
    except LianzhengError as exc:
        fail(f"error: {exc}", 1)
    finally:
        chain.close()
    typer.echo(f"{address} holds {balance / 10**18:g} ether on chain {chain.chain_id}")
