"""JSON-RPC answered by eth-tester in this process: the embedded chain's transport.

eth-tester speaks web3's Python shapes and raises exceptions for reverts; this turns both
into standard JSON-RPC (hex quantities, ``RpcError`` with the revert data), so the
embedded chain behaves to ``chain_node.base.Chain`` exactly like a node over HTTP. web3
objects live here and in ``chain_node.embedded``/``replica`` only.
"""
from __future__ import annotations

import ast
import re
import threading
from collections.abc import Mapping
from typing import Any

from eth_tester import EthereumTester
from web3 import EthereumTesterProvider, Web3

from lianzheng.sdk.jsonrpc import RpcError


def to_rpc_json(value: Any) -> Any:
    """Web3's Python values back to JSON-RPC wire form (hex quantities and data)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {k: to_rpc_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_rpc_json(v) for v in value]
    raise TypeError(f"cannot encode {type(value).__name__} as JSON-RPC")


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def revert_data(exc: BaseException | None) -> str | None:
    """The revert data (hex) carried by an eth-tester/web3 exception, following wrapped causes."""
    for _ in range(5):
        if exc is None:
            return None
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return data
        for arg in exc.args:
            inner = arg.args[0] if isinstance(arg, Exception) and arg.args else arg
            if isinstance(inner, str):  # eth-tester passes the bytes on as their repr
                match = re.search(r"(b'.*'|b\".*\")\s*$", inner, re.S)
                inner = _literal(match.group(1)) if match else None
            if isinstance(inner, (bytes, bytearray)):
                return "0x" + bytes(inner).hex()
        exc = exc.__cause__ or exc.__context__
    return None


class InProcessRpc:
    """A ``JsonRpc`` transport over an ``EthereumTester``; one call at a time (it is not
    thread-safe: API threads and the anchor worker take turns on ``lock``)."""

    def __init__(self, tester: EthereumTester, lock: threading.RLock | None = None) -> None:
        self._w3 = Web3(EthereumTesterProvider(tester))
        self.lock = lock or threading.RLock()

    def request(self, method: str, params: list[Any]) -> Any:
        if (method == "eth_getLogs" and params and isinstance(params[0], dict)
                and isinstance(params[0].get("address"), str)):
            # JSON-RPC allows one address or a list; eth-tester's adapter only takes the list
            params = [{**params[0], "address": [params[0]["address"]]}, *params[1:]]
        with self.lock:
            try:
                # Through web3's request manager so eth-tester's shapes become standard RPC ones.
                result = self._w3.manager.request_blocking(method, params)
            except Exception as exc:  # noqa: BLE001 - eth-tester and web3 raise many types
                data = revert_data(exc)
                if data is not None:
                    raise RpcError(method, 3, "execution reverted", data) from exc
                raise RpcError(method, -32000, str(exc)[:500]) from exc
        return to_rpc_json(result)
