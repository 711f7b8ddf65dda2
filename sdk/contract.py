"""Reading a chain and our contracts on it, over JSON-RPC alone (``sdk.jsonrpc``, ``sdk.abi``).

``ChainReader`` answers what a verifier asks a chain besides contract calls (chain id, code,
blocks, receipts, logs); ``Contract`` is one of our contracts at an address: ``read`` a view,
``logs`` of an event (filtered on indexed arguments), the logs a transaction emitted
(``logs_in``), and ``encode`` a call for the writing side (``chain_node``) to sign. This is
the one way the project reads contracts: verifiers, the rules engine and the notary alike.
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from eth_utils import to_checksum_address

from lianzheng.sdk.abi import AbiError, ContractAbi, DecodedLog
from lianzheng.sdk.errors import LianzhengError
from lianzheng.sdk.jsonrpc import JsonRpc, RpcError

# Contracts whose ABI ships with the SDK (what verifiers read); the full package adds the rest.
SDK_ABIS = ("EvidenceRegistry", "AllianceRelay")


class CallReverted(LianzhengError):
    """A view call reverted; ``reason`` is the contract's custom error when it is one of ours."""

    code = "call_reverted"

    def __init__(self, reason: str, data: bytes | None = None) -> None:
        super().__init__(reason, reason=reason)
        self.reason, self.data = reason, data


@cache
def sdk_abi(name: str) -> ContractAbi:
    """The ABI of one of ``SDK_ABIS``, from this package's data."""
    if name not in SDK_ABIS:
        raise AbiError(f"the SDK carries no ABI of {name}")
    return ContractAbi(json.loads((resources.files("lianzheng.sdk") / "abis" / f"{name}.json").read_text()))


def _quantity(value: int | str) -> str:
    return value if isinstance(value, str) else hex(value)


class ChainReader:
    """Reads of one chain: what every verifier needs, nothing that writes."""

    def __init__(self, rpc: JsonRpc) -> None:
        self.rpc = rpc
        self._chain_id: int | None = None

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.rpc.request("eth_chainId", []), 16)
        return self._chain_id

    def block_number(self) -> int:
        return int(self.rpc.request("eth_blockNumber", []), 16)

    def block(self, number: int | str = "latest") -> dict[str, Any]:
        block = self.rpc.request("eth_getBlockByNumber", [_quantity(number), False])
        if block is None:
            raise LianzhengError(f"no block {number}")
        return block

    def block_time(self, number: int | str = "latest") -> int:
        return int(self.block(number)["timestamp"], 16)

    def code_at(self, address: str) -> bytes:
        return bytes.fromhex(self.rpc.request("eth_getCode", [to_checksum_address(address), "latest"])[2:])

    def balance(self, address: str) -> int:
        return int(self.rpc.request("eth_getBalance", [to_checksum_address(address), "latest"]), 16)

    def nonce(self, address: str, block: str = "latest") -> int:
        return int(self.rpc.request("eth_getTransactionCount", [to_checksum_address(address), block]), 16)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """The mined receipt of ``tx_hash`` (JSON-RPC form), or None while it is not mined."""
        try:
            receipt = self.rpc.request("eth_getTransactionReceipt", [tx_hash])
        except RpcError:
            return None  # a malformed or unknown hash: nothing mined under it
        if not receipt or receipt.get("blockNumber") is None:
            return None
        return receipt

    def call(self, to: str, data: bytes, block: int | str = "latest", sender: str | None = None) -> bytes:
        call: dict[str, Any] = {"to": to, "data": "0x" + data.hex()}
        if sender:
            call["from"] = sender
        return bytes.fromhex(self.rpc.request("eth_call", [call, _quantity(block)])[2:])

    def logs(self, address: str, topics: list[Any], from_block: int | str = 0,
             to_block: int | str = "latest") -> list[dict[str, Any]]:
        return self.rpc.request("eth_getLogs", [{"address": [address], "topics": topics,
                                                 "fromBlock": _quantity(from_block), "toBlock": _quantity(to_block)}])


class Contract:
    """One of our contracts at ``address`` on the chain behind ``chain``."""

    def __init__(self, chain: ChainReader, abi: ContractAbi, address: str) -> None:
        self.chain, self.abi = chain, abi
        self.address = to_checksum_address(address)

    def encode(self, fn: str, *args: Any) -> bytes:
        """Calldata of ``fn(*args)`` (for a transaction the writing side signs)."""
        return self.abi.encode_call(fn, args)

    def read(self, fn: str, *args: Any, block: int | str = "latest", sender: str | None = None) -> Any:
        """A view's answer; ``CallReverted`` (with our custom error decoded) when it reverts."""
        try:
            data = self.chain.call(self.address, self.abi.encode_call(fn, args), block, sender)
        except RpcError as exc:
            if exc.reverted:
                raise CallReverted(self.reason(exc.revert_data) if exc.revert_data else exc.message,
                                   exc.revert_data) from exc
            raise
        if not data and self.abi.functions[fn].outputs:
            raise CallReverted(f"{self.address} has no function {fn} (empty answer)")
        return self.abi.decode_output(fn, data)

    def reason(self, revert_data: bytes | None) -> str:
        """``Name(args)`` of a custom error of this contract, else the data in hex."""
        if not revert_data:
            return "reverted"
        return self.abi.decode_error(revert_data) or f"reverted (0x{revert_data.hex()})"

    def logs(self, event: str, from_block: int | str = 0, to_block: int | str = "latest",
             **filters: Any) -> list[DecodedLog]:
        """This contract's ``event`` logs, filtered on indexed arguments by name."""
        topics: list[Any] = [self.abi.topic(event)]
        names = [n for n, _, indexed in self.abi.events[event].params if indexed]
        for name in names:
            topics.append(self.abi.encode_topic(event, name, filters.pop(name)) if name in filters else None)
        if filters:
            raise AbiError(f"{event} has no indexed argument {', '.join(filters)}")
        while topics and topics[-1] is None:
            topics.pop()
        raw = self.chain.logs(self.address, ["0x" + t.hex() if isinstance(t, bytes) else t for t in topics],
                              from_block, to_block)
        return [d for d in (self.abi.decode_log(log) for log in raw) if d is not None and d.name == event]

    def logs_in(self, receipt: dict[str, Any], *events: str) -> list[DecodedLog]:
        """The logs of ``events`` this contract emitted in a transaction (its JSON-RPC receipt)."""
        found = []
        for log in receipt.get("logs", []):
            if to_checksum_address(log["address"]) != self.address:
                continue
            decoded = self.abi.decode_log(log)
            if decoded is not None and (not events or decoded.name in events):
                found.append(decoded)
        return found
