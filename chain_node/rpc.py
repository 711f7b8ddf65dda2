"""Any JSON-RPC node: anvil for tests and demos, Besu or GoQuorum in production."""
from __future__ import annotations

from web3 import HTTPProvider, Web3

from chain_node.base import Chain


class RpcChain(Chain):
    kind = "rpc"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        super().__init__(Web3(HTTPProvider(url, request_kwargs={"timeout": timeout})))
