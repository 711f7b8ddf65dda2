"""Solidity ABI of our contracts: encoding calls, decoding answers, logs and custom errors.

A thin layer over ``eth_abi`` (the reference codec), so that reading a contract needs no
web3: what a verifier and the rules engine exchange with a chain is plain JSON-RPC
(``sdk.jsonrpc``). Values come back as web3 gives them: ``bytes`` for bytesN, checksummed
addresses, tuples for structs and for several outputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils import keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple

from lianzheng.sdk.errors import LianzhengError


class AbiError(LianzhengError):
    """Arguments the ABI cannot encode, or an answer it cannot decode."""

    code = "abi_error"


def _types(params: list[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(p) for p in params]


def _checksummed(value: Any, abi_type: str) -> Any:
    """Values as web3 returns them: addresses checksummed, arrays as lists, structs as tuples."""
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.endswith("]"):
        inner = abi_type[: abi_type.rindex("[")]
        return [_checksummed(v, inner) for v in value]
    if abi_type.startswith("(") and abi_type.endswith(")"):
        inner_types = _split_tuple(abi_type[1:-1])
        return tuple(_checksummed(v, t) for v, t in zip(value, inner_types))
    return value


def _split_tuple(body: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(body):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    if body:
        parts.append(body[start:])
    return parts


@dataclass(frozen=True)
class Function:
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    selector: bytes


@dataclass(frozen=True)
class Event:
    name: str
    topic: bytes
    params: tuple[tuple[str, str, bool], ...]  # (name, type, indexed)


@dataclass(frozen=True)
class DecodedLog:
    """One log of one of our contracts, decoded."""

    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int


class ContractAbi:
    """The ABI of one contract: functions by name, events by name and topic, errors by selector."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[str, Function] = {}
        self.events: dict[str, Event] = {}
        self.errors: dict[bytes, tuple[str, list[str]]] = {}
        self.constructor_inputs: tuple[str, ...] = ()
        for item in abi:
            kind = item.get("type")
            if kind == "function":
                inputs = _types(item["inputs"])
                sig = f"{item['name']}({','.join(inputs)})"
                self.functions[item["name"]] = Function(item["name"], tuple(inputs), tuple(_types(item["outputs"])),
                                                        keccak(text=sig)[:4])
            elif kind == "event":
                types = _types(item["inputs"])
                sig = f"{item['name']}({','.join(types)})"
                self.events[item["name"]] = Event(item["name"], keccak(text=sig), tuple(
                    (p["name"], t, bool(p.get("indexed"))) for p, t in zip(item["inputs"], types)))
            elif kind == "error":
                types = _types(item["inputs"])
                self.errors[keccak(text=f"{item['name']}({','.join(types)})")[:4]] = (item["name"], types)
            elif kind == "constructor":
                self.constructor_inputs = tuple(_types(item["inputs"]))
        self._by_topic = {e.topic: e for e in self.events.values()}

    # --- calls ---------------------------------------------------------------------------

    def encode_call(self, name: str, args: tuple[Any, ...]) -> bytes:
        fn = self._function(name)
        return fn.selector + self._encode(fn.inputs, args, name)

    def encode_constructor(self, args: tuple[Any, ...]) -> bytes:
        return self._encode(self.constructor_inputs, args, "constructor")

    def decode_output(self, name: str, data: bytes) -> Any:
        """A function's answer: one value, or a tuple for several outputs."""
        fn = self._function(name)
        try:
            values = decode(list(fn.outputs), data)
        except (DecodingError, OverflowError) as exc:
            raise AbiError(f"the answer to {name} is not what its ABI says: {exc}") from exc
        values = tuple(_checksummed(v, t) for v, t in zip(values, fn.outputs))
        return values[0] if len(values) == 1 else values

    def _function(self, name: str) -> Function:
        if name not in self.functions:
            raise AbiError(f"no function {name} in this contract's ABI")
        return self.functions[name]

    @staticmethod
    def _encode(types: tuple[str, ...], args: tuple[Any, ...], what: str) -> bytes:
        if len(types) != len(args):
            raise AbiError(f"{what} takes {len(types)} arguments, got {len(args)}")
        try:
            return encode(list(types), list(args))
        except (EncodingError, TypeError, ValueError, OverflowError) as exc:
            raise AbiError(f"{what}: arguments cannot be encoded as {', '.join(types)}: {exc}") from exc

    # --- logs ----------------------------------------------------------------------------

    def topic(self, event: str) -> bytes:
        if event not in self.events:
            raise AbiError(f"no event {event} in this contract's ABI")
        return self.events[event].topic

    def encode_topic(self, event: str, arg: str, value: Any) -> str:
        """The topic filtering ``event`` logs on indexed argument ``arg`` = ``value``."""
        for name, typ, indexed in self.events[event].params:
            if name == arg and indexed:
                return "0x" + encode([typ], [value]).hex()
        raise AbiError(f"{event} has no indexed argument {arg}")

    def decode_log(self, log: dict[str, Any]) -> DecodedLog | None:
        """A JSON-RPC log object decoded, or None when it is no event of this ABI."""
        topics = [bytes.fromhex(t[2:]) for t in log.get("topics", [])]
        if not topics or topics[0] not in self._by_topic:
            return None
        event = self._by_topic[topics[0]]
        indexed = [(n, t) for n, t, i in event.params if i]
        plain = [(n, t) for n, t, i in event.params if not i]
        if len(topics) - 1 != len(indexed):
            return None  # same signature, other indexing: not ours
        args: dict[str, Any] = {}
        try:
            for (name, typ), topic in zip(indexed, topics[1:]):
                dynamic = typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("(")
                args[name] = topic if dynamic else _checksummed(decode([typ], topic)[0], typ)
            values = decode([t for _, t in plain], bytes.fromhex(log["data"][2:])) if plain else ()
        except (DecodingError, OverflowError, ValueError):
            return None
        for (name, typ), value in zip(plain, values):
            args[name] = _checksummed(value, typ)
        ordered = {name: args[name] for name, _, _ in event.params}
        return DecodedLog(event.name, ordered, to_checksum_address(log["address"]), int(log["blockNumber"], 16),
                          log["transactionHash"], int(log["logIndex"], 16))

    # --- errors --------------------------------------------------------------------------

    def decode_error(self, data: bytes) -> str | None:
        """``Name(arg, ...)`` for revert data of one of this ABI's custom errors, else None."""
        known = self.errors.get(data[:4])
        if known is None:
            return None
        name, types = known
        try:
            values = decode(types, data[4:]) if types else ()
        except (DecodingError, OverflowError):
            return None
        # As they always read: bytes in hex without 0x, addresses as the codec gives them (lower case).
        shown = [v.hex() if isinstance(v, bytes) else str(v) for v in values]
        return f"{name}({', '.join(shown)})"

