"""One narrow interface over every chain we write to: the embedded EVM and any JSON-RPC node.

A ``Chain`` speaks standard JSON-RPC through a ``JsonRpc`` transport (``sdk.jsonrpc``): HTTP
for a node (anvil, Besu, GoQuorum), in-process for the embedded EVM. Above this module
nothing sees a web3 object: contracts are ``ChainContract`` handles (read a view, read logs,
prepare a transaction), transactions are signed locally (eth-account) with nonces handed out
under a lock, and what comes back is typed: ``TxOutcome``, and errors of the ``ChainError``
family. A new backend (Besu with its own quirks, FISCO) is one transport plus the behaviour
suite in ``tests/chain_node`` passing.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from lianzheng.chain_node.errors import ChainError, ChainUnavailable, InvalidTransaction, TransactionReverted
from lianzheng.contracts import BUILD_DIR, artifact
from lianzheng.sdk.abi import AbiError, ContractAbi, DecodedLog
from lianzheng.sdk.contract import CallReverted, ChainReader, Contract
from lianzheng.sdk.jsonrpc import JsonRpc, RpcError, RpcUnreachable

__all__ = ["Chain", "ChainContract", "PreparedCall", "SignedTx", "TxOutcome"]


@dataclass(frozen=True)
class PreparedCall:
    """A transaction to sign: its destination (None for a deployment) and calldata, and the
    contract it calls (to name a revert by its custom error)."""

    to: str | None
    data: bytes
    label: str
    contract: Contract | None = None


@dataclass(frozen=True)
class SignedTx:
    """A transaction signed before it is sent, so its hash can be recorded first."""

    raw: bytes
    hash: str
    nonce: int
    sender: str


@dataclass(frozen=True)
class TxOutcome:
    """A mined transaction: where, what it cost, whether it succeeded, what it logged."""

    tx_hash: str
    block_number: int
    block_time: int
    gas_used: int
    status: int
    receipt: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def contract_address(self) -> str | None:
        address = self.receipt.get("contractAddress")
        return to_checksum_address(address) if address else None


class ChainContract(Contract):
    """One of our contracts on a chain we may write to. Its reads fail as the chain layer does:
    ``ChainUnavailable`` without an answer, ``ChainError`` for an error answer, and
    ``CallReverted`` (with the custom error) when a view reverts."""

    def read(self, fn: str, *args: Any, block: int | str = "latest", sender: str | None = None) -> Any:
        return _chain_errors(lambda: super(ChainContract, self).read(fn, *args, block=block, sender=sender))

    def logs(self, event: str, from_block: int | str = 0, to_block: int | str = "latest",
             **filters: Any) -> list[DecodedLog]:
        return _chain_errors(lambda: super(ChainContract, self).logs(event, from_block, to_block, **filters))

    def tx(self, fn: str, *args: Any) -> PreparedCall:
        """The transaction calling ``fn(*args)``, for ``Chain.transact`` or ``Chain.sign``."""
        try:
            return PreparedCall(self.address, self.encode(fn, *args), fn, self)
        except AbiError as exc:
            raise InvalidTransaction(f"cannot build the transaction {fn}: {exc}") from exc


def _chain_errors(read):
    try:
        return read()
    except RpcUnreachable as exc:
        raise ChainUnavailable(str(exc)) from exc
    except RpcError as exc:
        raise ChainError(f"the chain refused {exc.method}: {exc.message}") from exc


@cache
def _all_errors() -> ContractAbi:
    """Custom errors of every contract we build: a revert deep in a library is named too."""
    items = []
    for path in sorted(BUILD_DIR.glob("*.json")):
        items += [i for i in artifact(path.stem)["abi"] if i.get("type") == "error"]
    return ContractAbi(items)


def decode_revert(data: bytes | None, contract: Contract | None = None) -> str:
    """``Name(args)`` for revert data of one of our contracts' custom errors, else what it was."""
    if not data:
        return "reverted"
    named = (contract.abi.decode_error(data) if contract else None) or _all_errors().decode_error(data)
    return named or f"reverted (0x{data.hex()})"


class _SenderLock:
    """Reentrant in its thread; the outermost holder also takes the chain's lock between processes
    (``Chain.share_senders``), if it has one."""

    def __init__(self, chain: "Chain") -> None:
        self._chain = chain
        self._lock = threading.RLock()
        self._depth = 0
        self._held: AbstractContextManager[None] | None = None

    def __enter__(self) -> "_SenderLock":
        self._lock.acquire()
        if self._depth == 0 and self._chain._shared_sender is not None:
            held = self._chain._shared_sender()
            try:
                held.__enter__()
            except BaseException:
                self._lock.release()
                raise
            self._held = held
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._held is not None:
                held, self._held = self._held, None
                held.__exit__(None, None, None)
        finally:
            self._lock.release()


class Chain:
    """A chain reached through a ``JsonRpc`` transport. Subclasses say how."""

    kind = "rpc"

    def __init__(self, rpc: JsonRpc) -> None:
        self.rpc = rpc
        self.reader = ChainReader(rpc)
        self._nonce_lock = threading.Lock()
        self._next_nonce: dict[str, int] = {}
        self._senders: dict[str, _SenderLock] = {}
        self._shared_sender: Callable[[], AbstractContextManager[None]] | None = None
        self.chain_id = self._ask(lambda: self.reader.chain_id)

    @staticmethod
    def _ask(read):
        """Run a read; a transport failure is ``ChainUnavailable``, an error answer ``ChainError``."""
        return _chain_errors(read)

    # --- contracts and reads -----------------------------------------------------------

    def contract(self, name: str, address: str) -> ChainContract:
        return ChainContract(self.reader, ContractAbi(artifact(name)["abi"]), address)

    def code_at(self, address: str) -> bytes:
        return self._ask(lambda: self.reader.code_at(address))

    def balance_of(self, address: str) -> int:
        return self._ask(lambda: self.reader.balance(address))

    def nonce_of(self, address: str) -> int:
        """Transactions ``address`` has had mined."""
        return self._ask(lambda: self.reader.nonce(address))

    def block_time(self, block: int | str = "latest") -> int:
        return self._ask(lambda: self.reader.block_time(block))

    def deploy(self, account: LocalAccount, name: str, *args: Any) -> str:
        art = artifact(name)
        abi = ContractAbi(art["abi"])
        try:
            data = bytes.fromhex(art["bytecode"][2:]) + abi.encode_constructor(args)
        except AbiError as exc:
            raise InvalidTransaction(f"cannot deploy {name}: {exc}") from exc
        outcome = self.transact(account, PreparedCall(None, data, f"deploy {name}"))
        if outcome.contract_address is None:
            raise ChainError(f"deploying {name} made no contract (tx {outcome.tx_hash})")
        return outcome.contract_address

    # --- transactions ------------------------------------------------------------------

    def _take_nonce(self, address: str) -> int:
        with self._nonce_lock:
            on_chain = self._ask(lambda: self.reader.nonce(address, "pending"))
            nonce = max(on_chain, self._next_nonce.get(address, 0))
            self._next_nonce[address] = nonce + 1
            return nonce

    def release_nonce(self, address: str) -> None:
        """Forget local nonce state after a transaction was abandoned before sending."""
        with self._nonce_lock:
            self._next_nonce.pop(address, None)

    def sender(self, address: str) -> "_SenderLock":
        """The lock to hold from signing to sending for ``address``: nonces then reach the node
        in order (some nodes refuse a gap) and a failed step can hand its nonce back safely.
        With ``share_senders`` it is also held against the other processes sending for the account."""
        with self._nonce_lock:
            lock = self._senders.get(address)
            if lock is None:
                lock = self._senders[address] = _SenderLock(self)
            return lock

    def share_senders(self, lock: Callable[[], AbstractContextManager[None]]) -> None:
        """Processes sharing an account take turns from signing to sending: ``lock()`` is a lock
        between processes (the notary's store gives one), held inside the in-process one."""
        self._shared_sender = lock

    def _fields(self, account: LocalAccount, call: PreparedCall) -> dict[str, Any]:
        fields: dict[str, Any] = {"from": account.address, "data": "0x" + call.data.hex()}
        if call.to is not None:
            fields["to"] = call.to
        return fields

    def estimate_gas(self, account: LocalAccount, call: PreparedCall) -> int:
        try:
            return int(self.rpc.request("eth_estimateGas", [self._fields(account, call)]), 16)
        except RpcUnreachable as exc:
            raise ChainUnavailable(str(exc)) from exc
        except RpcError as exc:
            if exc.reverted:
                raise TransactionReverted(decode_revert(exc.revert_data, call.contract)) from exc
            raise ChainError(f"cannot estimate gas of {call.label}: {exc.message}") from exc

    def sign(self, account: LocalAccount, call: PreparedCall, gas: int | None = None,
             nonce: int | None = None) -> SignedTx:
        """Sign ``call`` without sending it (its hash can be recorded first)."""
        gas = gas or int(self.estimate_gas(account, call) * 1.2) + 10_000
        taken = nonce is None
        nonce = self._take_nonce(account.address) if taken else nonce
        try:
            tx = {"chainId": self.chain_id, "nonce": nonce, "gas": gas, "value": 0, "data": call.data,
                  "gasPrice": self._ask(lambda: int(self.rpc.request("eth_gasPrice", []), 16))}
            if call.to is not None:
                tx["to"] = call.to
            signed = account.sign_transaction(tx)
        except (TypeError, ValueError) as exc:
            if taken:
                self.release_nonce(account.address)
            raise InvalidTransaction(f"cannot sign {call.label}: {exc}") from exc
        except ChainError:
            if taken:
                self.release_nonce(account.address)
            raise
        return SignedTx(bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex(), nonce, account.address)

    def send_raw(self, signed: SignedTx) -> str:
        """Broadcast; a node that already knows the transaction is not an error."""
        try:
            self.rpc.request("eth_sendRawTransaction", ["0x" + signed.raw.hex()])
        except RpcUnreachable as exc:
            raise ChainUnavailable(f"sending {signed.hash} failed: {exc}") from exc
        except RpcError as exc:
            text = exc.message.lower()
            if not any(s in text for s in ("already known", "known transaction", "already imported")):
                raise ChainError(f"sending {signed.hash} failed: {exc.message}") from exc
        return signed.hash

    def outcome(self, tx_hash: str) -> TxOutcome | None:
        """The mined result of a transaction, or None while it is not mined."""
        receipt = self._ask(lambda: self.reader.receipt(tx_hash))
        if receipt is None:
            return None
        number = int(receipt["blockNumber"], 16)
        return TxOutcome(tx_hash, number, self.block_time(number), int(receipt["gasUsed"], 16),
                         int(receipt["status"], 16), receipt)

    def wait(self, tx_hash: str, timeout: float = 30.0) -> TxOutcome:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            result = self.outcome(tx_hash)
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise ChainError(f"transaction {tx_hash} not mined after {timeout}s")
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def transact(self, account: LocalAccount, call: PreparedCall, gas: int | None = None,
                 timeout: float = 30.0) -> TxOutcome:
        """Sign, send and wait; a revert raises ``TransactionReverted`` with the decoded error."""
        with self.sender(account.address):
            signed = self.sign(account, call, gas)
            try:
                self.send_raw(signed)
            except ChainError:
                self.release_nonce(account.address)
                raise
        result = self.wait(signed.hash, timeout)
        if result.status != 1:
            raise TransactionReverted(self.replay_reason(account, call, result.block_number), signed.hash)
        return result

    def replay_reason(self, account: LocalAccount, call: PreparedCall, block: int | str = "latest") -> str:
        """Why ``call`` reverted: replayed as a read in the block where it failed (same block time)."""
        try:
            self.reader.call(call.to, call.data, block, sender=account.address) if call.to else None
        except RpcError as exc:
            return decode_revert(exc.revert_data, call.contract) if exc.reverted else exc.message
        except (RpcUnreachable, CallReverted) as exc:
            return str(exc)
        return "reverted"

    def transfer(self, sender: LocalAccount, to: str, wei: int) -> TxOutcome:
        """Send ``wei`` to ``to`` (gas money for a new account on a test or dev chain)."""
        with self.sender(sender.address):
            tx = {"to": to_checksum_address(to), "value": wei, "gas": 21000, "chainId": self.chain_id,
                  "gasPrice": self._ask(lambda: int(self.rpc.request("eth_gasPrice", []), 16)),
                  "nonce": self._take_nonce(sender.address)}
            signed = sender.sign_transaction(tx)
            try:
                tx_hash = self.send_raw(SignedTx(bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex(),
                                                 tx["nonce"], sender.address))
            except ChainError:
                self.release_nonce(sender.address)
                raise
        return self.wait(tx_hash)

    def ensure_gas_money(self, address: str, gas: int = 1_000_000) -> None:
        """Make sure ``address`` can pay for ``gas`` at today's price (a permissioned chain with a
        zero gas price needs nothing): a node's operator funds accounts, so here it is only
        checked and ``ChainError`` says what to do; the embedded chain tops it up itself."""
        price = self._ask(lambda: int(self.rpc.request("eth_gasPrice", []), 16))
        balance = self.balance_of(address)
        if balance < price * gas:
            raise ChainError(f"account {address} holds {balance} wei on chain {self.chain_id}, less than the "
                             f"{price * gas} wei that {gas} gas costs: fund it from an account of the chain's operator "
                             f"(a dev chain: lianzheng chain fund --rpc URL --account {address})")

    def public_reads(self, gas_cap: int, workers: int, timeout: float):
        """What answers anyone's JSON-RPC reads of this chain through the notary, or None when
        the chain is a node of its own that serves them (the embedded chain says otherwise)."""
        return None

    def close(self) -> None:
        pass
