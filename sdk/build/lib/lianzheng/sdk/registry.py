"""Read-only view of an EvidenceRegistry over JSON-RPC: what a verifier asks the chain.

This is the verifier's only I/O. It needs a node URL (the embedded notary's
``/chain/rpc``, anvil, Besu ...) and the registry address; it never needs a key. Plain
JSON-RPC and the ABI (``sdk.contract``): no web3.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from lianzheng.sdk.abi import AbiError
from lianzheng.sdk.contract import CallReverted, ChainReader, Contract, sdk_abi
from lianzheng.sdk.errors import AnchorError, VerificationError
from lianzheng.sdk.jsonrpc import HttpRpc, JsonRpc, RpcError, RpcUnreachable
from lianzheng.sdk.merkle import hash_name


@dataclass(frozen=True)
class LogRecord:
    notary: str
    checkpoint_key: bytes
    hash: str
    origin: str
    latest_size: int


@dataclass(frozen=True)
class AnchorRecord:
    root: bytes
    anchored_at: int
    block_number: int


@dataclass(frozen=True)
class AnchorTx:
    region: int
    tree_size: int
    root: bytes
    block_number: int
    block_time: int
    to: str


class RegistryView(Protocol):
    """What the verifier reads from a chain. Implementations MUST NOT trust the notary server."""

    chain_id: int
    address: str

    def log_of(self, region: int) -> LogRecord: ...

    def checkpoint_key_at(self, region: int, tree_size: int) -> bytes:
        """The Ed25519 key that signs the region's checkpoint of ``tree_size`` (keys rotate
        from a size on); 32 zero bytes when the region has no key. Verifiers MUST choose a
        checkpoint's key by its size, never the newest key."""
        ...

    def checkpoint_at(self, region: int, tree_size: int) -> AnchorRecord | None: ...

    def anchor_tx(self, tx_hash: str) -> AnchorTx | None: ...


def _rpc(rpc: str | JsonRpc | ChainReader) -> ChainReader:
    if isinstance(rpc, ChainReader):
        return rpc
    return ChainReader(HttpRpc(rpc) if isinstance(rpc, str) else rpc)


class ContractReader:
    """A read-only contract of ours at ``address`` on the chain behind ``rpc`` (a URL, a
    ``JsonRpc`` transport or a ``ChainReader``)."""

    CONTRACT = ""
    WHAT = ""

    def __init__(self, rpc: str | JsonRpc | ChainReader, address: str) -> None:
        self.chain = _rpc(rpc)
        try:
            self.contract = Contract(self.chain, sdk_abi(self.CONTRACT), address)
            self.chain_id = self.chain.chain_id
            code = self.chain.code_at(self.contract.address)
        except (RpcUnreachable, RpcError, ValueError) as exc:
            raise VerificationError(f"cannot reach the chain: {exc}") from exc
        self.address = self.contract.address
        if not code:
            raise AnchorError(f"no contract at {self.WHAT} address {self.address} on chain {self.chain_id}")

    def read(self, fn: str, *args: object) -> object:
        """A view's answer; a contract that is not ours (it reverts, or answers nonsense) is an
        ``AnchorError`` saying so; a chain that does not answer, a ``VerificationError``."""
        try:
            return self.contract.read(fn, *args)
        except RpcUnreachable as exc:
            raise VerificationError(f"cannot read the chain: {exc}") from exc
        except (CallReverted, AbiError, RpcError) as exc:
            raise AnchorError(f"the contract at {self.address} on chain {self.chain_id} does not answer {fn}: "
                              f"it is not a {self.WHAT} ({exc})", address=self.address) from exc

    def read_or_none(self, fn: str, *args: object) -> object | None:
        """A view's answer, or None when the contract reverts (e.g. nothing at that size)."""
        try:
            return self.contract.read(fn, *args)
        except CallReverted:
            return None
        except RpcUnreachable as exc:
            raise VerificationError(f"cannot read the chain: {exc}") from exc
        except (AbiError, RpcError) as exc:
            raise AnchorError(f"the contract at {self.address} does not answer {fn}: {exc}") from exc


class RegistryReader(ContractReader):
    CONTRACT, WHAT = "EvidenceRegistry", "registry"

    def log_of(self, region: int) -> LogRecord:
        notary, key, alg, origin, latest = self.read("logOf", region)
        return LogRecord(notary, bytes(key), hash_name(alg), origin, latest)

    def checkpoint_key_at(self, region: int, tree_size: int) -> bytes:
        key = self.read_or_none("checkpointKeyAt", region, tree_size)
        return bytes(32) if key is None else bytes(key)

    def checkpoint_at(self, region: int, tree_size: int) -> AnchorRecord | None:
        found = self.read_or_none("checkpointAt", region, tree_size)
        if found is None:
            return None
        root, at, block = found
        return AnchorRecord(bytes(root), at, block)

    def anchor_tx(self, tx_hash: str) -> AnchorTx | None:
        try:
            receipt = self.chain.receipt(tx_hash)
            if receipt is None or int(receipt.get("status", "0x0"), 16) != 1:
                return None
            events = self.contract.logs_in(receipt, "CheckpointAnchored")
            if not events:
                return None
            block_number = int(receipt["blockNumber"], 16)
            block_time = self.chain.block_time(block_number)
        except RpcUnreachable as exc:
            raise VerificationError(f"cannot read the chain: {exc}") from exc
        args = events[0].args
        return AnchorTx(args["region"], args["treeSize"], bytes(args["root"]), block_number, block_time,
                        events[0].address)
