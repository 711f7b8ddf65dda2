"""``lianzheng chain new-key`` and ``lianzheng chain fund``: a chain account for a notary or a
relayer, and its gas money on a development chain.

A notary on ``--rpc`` signs with its own account (``serve --chain-key-file``), which pays gas. On a
development node (anvil, ``chain up``) the node's own unlocked account funds it; a production
chain funds accounts in its genesis (``lianzheng chain besu-config --account 0x…``) or runs at a
zero gas price, and its nodes unlock no account: ``fund`` then says so.
"""
from __future__ import annotations

import time
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
    """Give ACCOUNT gas money from the node's first unlocked account (development chains only)."""
    from eth_utils import is_address, to_checksum_address

    from lianzheng.chain_node.rpc import RpcChain
    from lianzheng.sdk.errors import LianzhengError

    if not is_address(account):
        fail(f"error: --account {account!r} is not an address", 2)
    if not 0 < ether <= 10_000:
        fail("error: --ether must be above 0 and at most 10000", 2)
    try:
        chain = RpcChain(rpc)
    except (LianzhengError, ValueError) as exc:
        fail(f"error: {exc}", 2)
    try:
        unlocked = chain.rpc.request("eth_accounts", [])
        if not unlocked:
            fail(f"error: the node at {rpc} unlocks no account to fund from: a production chain funds accounts "
                 "in its genesis (lianzheng chain besu-config --account 0x…) or runs at a zero gas price", 1)
        sent = chain.rpc.request("eth_sendTransaction", [{"from": unlocked[0], "to": to_checksum_address(account),
                                                          "value": hex(int(ether * 10**18))}])
        deadline = time.monotonic() + 30
        while chain.outcome(sent) is None:
            if time.monotonic() > deadline:
                fail(f"error: the funding transaction {sent} was not mined within 30 s", 1)
            time.sleep(0.2)
        balance = chain.balance_of(to_checksum_address(account))
    except LianzhengError as exc:
        fail(f"error: {exc}", 1)
    finally:
        chain.close()
    typer.echo(f"{to_checksum_address(account)} holds {balance / 10**18:g} ether on chain {chain.chain_id}")
