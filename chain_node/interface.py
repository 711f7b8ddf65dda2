"""What the rest of the project may ask of a chain: the narrow interface, as Protocols.

Nothing above ``chain_node`` sees a transport's objects (web3, eth-tester): it holds a
``ChainNode`` and ``ContractHandle``s, gets typed answers (``TxOutcome``, ``DecodedLog``,
plain Python values) and errors of the ``ChainError`` family (``CallReverted`` for a view that
reverts). ``chain_node.base.Chain`` implements it over any JSON-RPC transport; the embedded
EVM and anvil also offer ``DevChain`` (gas money and clock control for tests and demos).
A new backend is one file (its transport or ``Chain`` subclass) plus ``tests/chain_node``
passing against it.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from eth_account.signers.local import LocalAccount

from lianzheng.chain_node.base import PreparedCall, SignedTx, TxOutcome
from lianzheng.sdk.abi import DecodedLog
from lianzheng.sdk.jsonrpc import JsonRpc


@runtime_checkable
class ContractHandle(Protocol):
    """One of our contracts at ``address``."""

    address: str

    def read(self, fn: str, *args: Any, block: int | str = "latest", sender: str | None = None) -> Any:
        """A view's answer (values as plain Python: bytes, ints, checksummed addresses, lists, tuples)."""

    def tx(self, fn: str, *args: Any) -> PreparedCall:
        """The transaction calling ``fn(*args)``; ``InvalidTransaction`` when the arguments do not fit."""

    def logs(self, event: str, from_block: int | str = 0, to_block: int | str = "latest",
             **filters: Any) -> list[DecodedLog]:
        """The contract's ``event`` logs, filtered on indexed arguments by name."""

    def logs_in(self, receipt: dict[str, Any], *events: str) -> list[DecodedLog]:
        """The logs of ``events`` this contract emitted in a mined transaction (``TxOutcome.receipt``)."""


@runtime_checkable
class ChainNode(Protocol):
    """A chain we read and write. Transactions are signed here; nonces of one sender are handed
    out in order under ``sender(address)``; ``transact`` returns only once mined and raises
    ``TransactionReverted`` (the contract's custom error, the tx hash when mined) on a revert."""

    kind: str
    chain_id: int
    rpc: JsonRpc

    def contract(self, name: str, address: str) -> ContractHandle: ...

    def deploy(self, account: LocalAccount, name: str, *args: Any) -> str: ...

    def sign(self, account: LocalAccount, call: PreparedCall, gas: int | None = None,
             nonce: int | None = None) -> SignedTx: ...

    def send_raw(self, signed: SignedTx) -> str: ...

    def outcome(self, tx_hash: str) -> TxOutcome | None: ...

    def wait(self, tx_hash: str, timeout: float = 30.0) -> TxOutcome: ...

    def transact(self, account: LocalAccount, call: PreparedCall, gas: int | None = None,
                 timeout: float = 30.0) -> TxOutcome: ...

    def replay_reason(self, account: LocalAccount, call: PreparedCall, block: int | str = "latest") -> str: ...

    def transfer(self, sender: LocalAccount, to: str, wei: int) -> TxOutcome: ...

    def sender(self, address: str) -> AbstractContextManager: ...

    def release_nonce(self, address: str) -> None: ...

    def code_at(self, address: str) -> bytes: ...

    def balance_of(self, address: str) -> int: ...

    def nonce_of(self, address: str) -> int: ...

    def block_time(self, block: int | str = "latest") -> int: ...

    def ensure_gas_money(self, address: str, gas: int = 1_000_000) -> None: ...

    def public_reads(self, gas_cap: int, workers: int, timeout: float) -> Any: ...

    def close(self) -> None: ...


@runtime_checkable
class DevChain(ChainNode, Protocol):
    """A development chain (embedded EVM, anvil): funded accounts and a clock tests can move."""

    dev: LocalAccount

    def fund(self, address: str, wei: int = 10**21) -> None: ...

    def set_next_block_time(self, timestamp: int) -> None: ...
