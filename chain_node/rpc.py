"""Any JSON-RPC node: anvil for tests and demos, Besu or GoQuorum in production."""
from __future__ import annotations

from typing import Any

import requests
from web3 import HTTPProvider, Web3

from chain_node.base import Chain
from chain_node.errors import ChainUnavailable


class _Provider(HTTPProvider):
    """HTTP JSON-RPC whose transport failures are ``ChainUnavailable`` (a 503 for API callers,
    a one-line reason for the CLI), not the HTTP library's own exceptions."""

    def make_request(self, method: str, params: Any):
        try:
            return super().make_request(method, params)
        except requests.RequestException as exc:
            raise ChainUnavailable(f"chain node {self.endpoint_uri} did not answer {method}: "
                                   f"{type(exc).__name__}") from exc


class RpcChain(Chain):
    kind = "rpc"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        super().__init__(Web3(_Provider(url, request_kwargs={"timeout": timeout})))
