"""Standard Ethereum JSON-RPC, the only way the verifying side talks to a chain.

``JsonRpc`` is what a transport must do: one method call, its JSON result back, or
``RpcError`` (the node answered with an error: a revert carries its data) or
``RpcUnreachable`` (no answer). ``HttpRpc`` speaks to any node over HTTP (anvil, Besu, a
notary's ``/chain/rpc``), honouring ``429 Retry-After``; ``chain_node`` adds an in-process
transport for the embedded chain. Only standard methods are used, so every node behaves alike.
"""
from __future__ import annotations

import itertools
import time
from typing import Any, Protocol

import httpx

from lianzheng.sdk.errors import LianzhengError


class RpcError(LianzhengError):
    """The node answered a call with a JSON-RPC error; ``data`` holds revert data when it reverted."""

    code = "rpc_error"

    def __init__(self, method: str, rpc_code: int, message: str, data: str | None = None) -> None:
        super().__init__(f"{method}: {message} ({rpc_code})", method=method, rpc_code=rpc_code, data=data)
        self.method, self.rpc_code, self.message, self.data = method, rpc_code, message, data

    @property
    def revert_data(self) -> bytes | None:
        """The revert data of a call that reverted (custom error), or None."""
        if isinstance(self.data, str) and self.data.startswith("0x"):
            try:
                return bytes.fromhex(self.data[2:])
            except ValueError:
                return None
        return None

    @property
    def reverted(self) -> bool:
        return self.revert_data is not None or "revert" in self.message.lower()


class RpcUnreachable(LianzhengError):
    """The node did not answer (connection refused, timeout, not JSON-RPC)."""

    code = "chain_unreachable"


class JsonRpc(Protocol):
    """A JSON-RPC endpoint. Implementations MUST raise ``RpcError`` for an error answer and
    ``RpcUnreachable`` when there is no answer, never a transport's own exception."""

    def request(self, method: str, params: list[Any]) -> Any: ...


class HttpRpc:
    """JSON-RPC over HTTP(S), one persistent connection pool."""

    def __init__(self, url: str, timeout: float = 10.0, retries: int = 5) -> None:
        self.url, self.retries = url, retries
        self._http = httpx.Client(timeout=timeout)
        self._ids = itertools.count(1)

    def request(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        for attempt in range(self.retries + 1):
            try:
                response = self._http.post(self.url, json=body)
            except httpx.HTTPError as exc:
                raise RpcUnreachable(f"chain node {self.url} did not answer {method}: {type(exc).__name__}",
                                     url=self.url) from exc
            if response.status_code in (429, 503) and attempt < self.retries:
                wait = response.headers.get("retry-after", "1")
                time.sleep(min(float(wait) if wait.isdigit() else 1.0, 10.0))
                continue
            break
        try:
            answer = response.json()
        except ValueError as exc:
            raise RpcUnreachable(f"{self.url} answered {method} with HTTP {response.status_code}, not JSON-RPC",
                                 url=self.url) from exc
        if not isinstance(answer, dict):
            raise RpcUnreachable(f"{self.url} answered {method} with something that is not JSON-RPC", url=self.url)
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            data = error.get("data")
            if isinstance(data, dict):  # some nodes nest it: {"data": {"data": "0x..."}}
                data = data.get("data")
            raise RpcError(method, int(error.get("code", -32603)), str(error.get("message", "error")),
                           data if isinstance(data, str) else None)
        if response.status_code >= 400:
            raise RpcUnreachable(f"{self.url} answered {method} with HTTP {response.status_code}", url=self.url)
        return answer.get("result")

    def close(self) -> None:
        self._http.close()
