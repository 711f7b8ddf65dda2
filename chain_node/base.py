"""One interface over every chain we write to: the embedded EVM and any JSON-RPC node.

Everything above this module sees a ``Chain``: a Web3 handle, the chain id, contracts
from our committed artifacts, and transactions signed locally (eth-account, with
coincurve when installed) with nonces handed out under a lock. Only standard JSON-RPC
methods are used, so Besu, GoQuorum and anvil behave the same.
"""
from __future__ import annotations

import ast
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import TransactionNotFound

from chain_node.errors import (
    ChainError,
    ChainUnavailable,
    InvalidTransaction,
    TransactionReverted,
)
from contracts import artifact


@dataclass(frozen=True)
class SignedTx:
    """A transaction signed before it is sent, so its hash can be recorded first."""

    raw: bytes
    hash: str
    nonce: int
    sender: str


@dataclass(frozen=True)
class TxOutcome:
    tx_hash: str
    block_number: int
    block_time: int
    gas_used: int
    status: int


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None


def revert_data(exc: BaseException | None) -> str | None:
    """The revert data (hex) carried by a provider's exception, following wrapped causes."""
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


class Chain:
    """A chain reached through Web3. Subclasses say how (embedded, JSON-RPC)."""

    kind = "rpc"

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self._nonce_lock = threading.Lock()
        self._next_nonce: dict[str, int] = {}
        self._senders: dict[str, threading.RLock] = {}
        self._error_abi = self._collect_errors()
        try:
            self.chain_id = int(w3.eth.chain_id)
        except Exception as exc:  # noqa: BLE001 - the transport's own errors vary
            raise ChainUnavailable(f"cannot reach chain: {exc}") from exc

    # --- contracts ---------------------------------------------------------------

    def contract(self, name: str, address: str):
        art = artifact(name)
        return self.w3.eth.contract(address=to_checksum_address(address), abi=art["abi"])

    def deploy(self, account: LocalAccount, name: str, *args: Any) -> str:
        art = artifact(name)
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        outcome = self.transact(account, factory.constructor(*args))
        receipt = self.w3.eth.get_transaction_receipt(outcome.tx_hash)
        return to_checksum_address(receipt["contractAddress"])

    # --- transactions --------------------------------------------------------------

    def _take_nonce(self, address: str) -> int:
        with self._nonce_lock:
            on_chain = self.w3.eth.get_transaction_count(address, "pending")
            nonce = max(on_chain, self._next_nonce.get(address, 0))
            self._next_nonce[address] = nonce + 1
            return nonce

    def release_nonce(self, address: str) -> None:
        """Forget local nonce state after a transaction was abandoned before sending."""
        with self._nonce_lock:
            self._next_nonce.pop(address, None)

    def sender(self, address: str) -> threading.RLock:
        """The lock to hold from signing to sending for ``address``: nonces then reach the node
        in order (some nodes refuse a gap) and a failed step can hand its nonce back safely."""
        with self._nonce_lock:
            return self._senders.setdefault(address, threading.RLock())

    def sign(self, account: LocalAccount, call, gas: int | None = None, nonce: int | None = None) -> SignedTx:
        """Sign a contract call (or constructor) without sending it."""
        params = {"from": account.address, "chainId": self.chain_id}
        try:
            gas = gas or int(call.estimate_gas(params) * 1.2) + 10_000
        except Exception as exc:  # noqa: BLE001 - providers raise different revert types
            if revert_data(exc) is None and "revert" not in str(exc).lower():
                raise ChainError(f"cannot estimate gas: {exc}") from exc
            raise TransactionReverted(self.decode_error(exc)) from exc
        taken = nonce is None
        nonce = self._take_nonce(account.address) if taken else nonce
        try:
            tx = call.build_transaction({**params, "gas": gas, "nonce": nonce, "gasPrice": self.w3.eth.gas_price})
            signed = account.sign_transaction(tx)
        except Exception as exc:  # noqa: BLE001 - arguments the ABI cannot encode, among others
            if taken:
                self.release_nonce(account.address)
            raise InvalidTransaction(f"cannot build the transaction: {exc}") from exc
        return SignedTx(bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex(), nonce, account.address)

    def send_raw(self, signed: SignedTx) -> str:
        """Broadcast; a node that already knows the transaction is not an error."""
        try:
            self.w3.eth.send_raw_transaction(signed.raw)
        except Exception as exc:  # noqa: BLE001
            text = str(exc).lower()
            if not any(s in text for s in ("already known", "known transaction", "already imported")):
                raise ChainError(f"sending {signed.hash} failed: {exc}") from exc
        return signed.hash

    def outcome(self, tx_hash: str) -> TxOutcome | None:
        """The mined result of a transaction, or None while it is not mined."""
        try:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        except TransactionNotFound:
            return None
        if receipt is None or receipt.get("blockNumber") is None:
            return None
        block = self.w3.eth.get_block(receipt["blockNumber"])
        return TxOutcome(
            tx_hash, int(receipt["blockNumber"]), int(block["timestamp"]), int(receipt["gasUsed"]), int(receipt["status"])
        )

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

    def transact(self, account: LocalAccount, call, gas: int | None = None, timeout: float = 30.0) -> TxOutcome:
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

    def replay_reason(self, account: LocalAccount, call, block_number: int | str = "latest") -> str:
        """Why ``call`` reverted: replayed as a read in the block where it failed (same block time)."""
        try:
            call.call({"from": account.address}, block_identifier=block_number)
        except Exception as exc:  # noqa: BLE001 - providers raise different revert types
            return self.decode_error(exc)
        return "reverted"

    # --- errors --------------------------------------------------------------------

    @staticmethod
    def _collect_errors() -> dict[bytes, tuple[str, list[str]]]:
        from contracts import BUILD_DIR

        selectors: dict[bytes, tuple[str, list[str]]] = {}
        for path in BUILD_DIR.glob("*.json"):
            for item in artifact(path.stem)["abi"]:
                if item.get("type") == "error":
                    types = [i["type"] for i in item["inputs"]]
                    sig = f"{item['name']}({','.join(types)})"
                    selectors[Web3.keccak(text=sig)[:4]] = (item["name"], types)
        return selectors

    def decode_error(self, exc: Exception) -> str:
        """``Name(arg, ...)`` for one of our contracts' custom errors, else the node's text."""
        data = revert_data(exc)
        if data is not None and len(data) >= 10:
            raw = bytes.fromhex(data[2:])
            known = self._error_abi.get(raw[:4])
            if known:
                name, types = known
                values = self.w3.codec.decode(types, raw[4:]) if types else ()
                shown = [v.hex() if isinstance(v, bytes) else str(v) for v in values]
                return f"{name}({', '.join(shown)})"
        return str(exc)

    def transfer(self, sender: LocalAccount, to: str, wei: int) -> TxOutcome:
        """Send ``wei`` to ``to`` (gas money for a new account on a test or dev chain)."""
        with self.sender(sender.address):
            tx = {"to": to_checksum_address(to), "value": wei, "gas": 21000, "gasPrice": self.w3.eth.gas_price,
                  "nonce": self._take_nonce(sender.address), "chainId": self.chain_id}
            signed = sender.sign_transaction(tx)
            try:
                tx_hash = self.send_raw(SignedTx(bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex(),
                                                 tx["nonce"], sender.address))
            except ChainError:
                self.release_nonce(sender.address)
                raise
        return self.wait(tx_hash)

    def public_reads(self, gas_cap: int, workers: int, timeout: float):
        """What answers anyone's JSON-RPC reads of this chain through the notary, or None when
        the chain is a node of its own that serves them (the embedded chain says otherwise)."""
        return None

    def close(self) -> None:
        pass
