"""Read-only view of an EvidenceRegistry over JSON-RPC: what a verifier asks the chain.

This is the verifier's only I/O. It needs a node URL (the embedded notary's
``/chain/rpc``, anvil, Besu ...) and the registry address; it never needs a key.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from eth_utils import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound
from web3.logs import DISCARD

from contracts import artifact
from sdk.errors import AnchorError, VerificationError
from sdk.merkle import hash_name


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


class ContractReader:
    """A read-only contract of ours at ``address`` on the chain behind ``rpc`` (URL or Web3)."""

    CONTRACT = ""
    WHAT = ""

    def __init__(self, rpc: str | Web3, address: str, timeout: float = 10.0) -> None:
        self.w3 = rpc if isinstance(rpc, Web3) else Web3(HTTPProvider(rpc, request_kwargs={"timeout": timeout}))
        self.address = to_checksum_address(address)
        self.contract = self.w3.eth.contract(address=self.address, abi=artifact(self.CONTRACT)["abi"])
        try:
            self.chain_id = int(self.w3.eth.chain_id)
            code = self.w3.eth.get_code(self.address)
        except Exception as exc:  # noqa: BLE001 - transport errors vary by provider
            raise VerificationError(f"cannot reach the chain: {exc}") from exc
        if not code:
            raise AnchorError(f"no contract at {self.WHAT} address {self.address} on chain {self.chain_id}")

    def read(self, call, name: str):
        """A view call; a contract that is not ours (it reverts, or answers nonsense) is an
        ``AnchorError`` saying so, not the provider's exception."""
        try:
            return call.call()
        except Exception as exc:  # noqa: BLE001 - providers raise their own types for reverts and bad output
            raise AnchorError(f"the contract at {self.address} on chain {self.chain_id} does not answer {name}: "
                              f"it is not a {self.WHAT} ({type(exc).__name__})", address=self.address) from exc


class RegistryReader(ContractReader):
    CONTRACT, WHAT = "EvidenceRegistry", "registry"

    def log_of(self, region: int) -> LogRecord:
        notary, key, alg, origin, latest = self.read(self.contract.functions.logOf(region), "logOf")
        return LogRecord(notary, bytes(key), hash_name(alg), origin, latest)

    def checkpoint_key_at(self, region: int, tree_size: int) -> bytes:
        try:
            return bytes(self.contract.functions.checkpointKeyAt(region, tree_size).call())
        except (ContractCustomError, ContractLogicError):
            return bytes(32)
        except Exception as exc:  # noqa: BLE001 - in-process providers raise their own revert type
            if "revert" in str(exc).lower():
                return bytes(32)
            raise VerificationError(f"cannot read the registry: {exc}") from exc

    def checkpoint_at(self, region: int, tree_size: int) -> AnchorRecord | None:
        try:
            root, at, block = self.contract.functions.checkpointAt(region, tree_size).call()
        except (ContractCustomError, ContractLogicError):
            return None
        except Exception as exc:  # noqa: BLE001 - in-process providers raise their own revert type
            if "revert" in str(exc).lower():
                return None
            raise VerificationError(f"cannot read the registry: {exc}") from exc
        return AnchorRecord(bytes(root), at, block)

    def anchor_tx(self, tx_hash: str) -> AnchorTx | None:
        try:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        except (TransactionNotFound, ValueError):
            return None
        if receipt is None or receipt.get("status") != 1:
            return None
        events = [
            e for e in self.contract.events.CheckpointAnchored().process_receipt(receipt, errors=DISCARD)
            if to_checksum_address(e["address"]) == self.address
        ]
        if not events:
            return None
        args = events[0]["args"]
        block = self.w3.eth.get_block(receipt["blockNumber"])
        return AnchorTx(args["region"], args["treeSize"], bytes(args["root"]), receipt["blockNumber"],
                        block["timestamp"], events[0]["address"])
