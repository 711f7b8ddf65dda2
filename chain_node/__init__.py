"""How we reach a chain: ``open_chain`` gives the embedded EVM or a JSON-RPC node."""
from __future__ import annotations

from pathlib import Path

from lianzheng.chain_node.base import Chain, ChainContract, PreparedCall, SignedTx, TxOutcome
from lianzheng.chain_node.errors import (
    ChainError,
    ChainUnavailable,
    InvalidTransaction,
    TransactionReverted,
)

__all__ = ["Chain", "ChainContract", "ChainError", "PreparedCall", "ChainUnavailable", "InvalidTransaction", "SignedTx",
           "TransactionReverted", "TxOutcome", "open_chain"]


def open_chain(rpc_url: str | None, data_dir: Path) -> Chain:
    """The node at ``rpc_url``, or the embedded chain persisted under ``data_dir``."""
    if rpc_url:
        from lianzheng.chain_node.rpc import RpcChain

        return RpcChain(rpc_url)
    from lianzheng.chain_node.embedded import EmbeddedChain

    return EmbeddedChain(data_dir)
