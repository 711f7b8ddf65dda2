"""Any JSON-RPC node: anvil for tests and demos, Besu or GoQuorum in production."""
from __future__ import annotations

from lianzheng.chain_node.base import Chain
from lianzheng.sdk.jsonrpc import HttpRpc


class RpcChain(Chain):
    kind = "rpc"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self._http = HttpRpc(url, timeout=timeout, retries=0)
        super().__init__(self._http)

    def close(self) -> None:
        self._http.close()
