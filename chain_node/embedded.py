"""The embedded default chain: py-evm in-process, its state kept in a file.

Zero set-up for ``./scripts/run`` and fast tests, and unlike a plain eth-tester chain it
survives a restart: blocks and state live in ``chain.db`` (SQLite), committed after
every mined block. Each transaction is mined at once in its own block, stamped with
the wall-clock time when it arrives (rules such as bid deadlines read block time).
Other processes read it through the notary's read-only ``/chain/rpc`` endpoint, answered by
replica processes over the same file (``chain_node.replica``).
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.db.chain import ChainDB
from eth.exceptions import CanonicalHeadNotFound, TransactionNotFound
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import get_default_genesis_params
from eth_tester.backends.pyevm.serializers import serialize_transaction, serialize_transaction_receipt
from eth_tester.exceptions import TransactionNotFound as TesterTransactionNotFound

from lianzheng.chain_node.base import Chain
from lianzheng.chain_node.inprocess import InProcessRpc
from lianzheng.chain_node.kvstore import SqliteKV


class PersistentPyEVMBackend(PyEVMBackend):
    """eth-tester's py-evm backend over a durable key-value store."""

    def __init__(self, path: Path) -> None:
        self._kv = SqliteKV(path)
        super().__init__()  # builds throw-away in-memory chain and the dev account keys
        chain_class: type[MiningChain] = type(self.chain)
        base_db = AtomicDB(self._kv)
        try:
            ChainDB(base_db).get_canonical_head()
            self.chain = chain_class(base_db)
        except CanonicalHeadNotFound:
            genesis_state = dict(self.generate_genesis_state(num_accounts=len(self.account_keys)))
            self.chain = chain_class.from_genesis(base_db, get_default_genesis_params(), genesis_state)
            self._kv.commit()

    def _refresh_pending_time(self) -> None:
        # The pending header was made when the previous block was mined; a transaction
        # arriving later must carry the time it arrives, not that stale time.
        header = self.chain.header
        now = int(time.time())
        if now > header.timestamp and not self.chain.get_block().transactions:
            self.chain.header = header.copy(timestamp=now)

    def send_raw_transaction(self, raw_transaction):
        self._refresh_pending_time()
        return super().send_raw_transaction(raw_transaction)

    def mine_blocks(self, num_blocks: int = 1, coinbase=None):
        kwargs = {} if coinbase is None else {"coinbase": coinbase}
        hashes = super().mine_blocks(num_blocks, **kwargs)
        self._kv.commit()
        return hashes

    def time_travel(self, to_timestamp: int) -> int:
        result = super().time_travel(to_timestamp)
        self._kv.commit()
        return result

    def _locate(self, transaction_hash):
        # eth-tester scans every block from the head down for a transaction (its own TODO says
        # so): O(blocks) per receipt, 40% of a long test's time. py-evm indexes mined
        # transactions by hash; only a pending one is looked for in the head block.
        try:
            number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except TransactionNotFound:
            head = self.chain.get_block()
            for index, transaction in enumerate(head.transactions):
                if transaction.hash == transaction_hash:
                    return head, transaction, index
            raise TesterTransactionNotFound(f"no transaction {transaction_hash.hex()}") from None
        block = self.chain.get_canonical_block_by_number(number)
        return block, block.transactions[index], index

    def get_transaction_by_hash(self, transaction_hash):
        block, transaction, index = self._locate(transaction_hash)
        return serialize_transaction(block, transaction, index, block.number == self.chain.get_block().number)

    def get_transaction_receipt(self, transaction_hash):
        block, transaction, index = self._locate(transaction_hash)
        return serialize_transaction_receipt(block, block.get_receipts(self.chain.chaindb), transaction, index,
                                             block.number == self.chain.get_block().number, self.chain.get_vm())

    def close(self) -> None:
        self._kv.close()


class EmbeddedChain(Chain):
    kind = "embedded"

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.db_path = data_dir / "chain.db"
        self.backend = PersistentPyEVMBackend(self.db_path)
        self.tester = EthereumTester(self.backend)
        super().__init__(InProcessRpc(self.tester, self._lock))

    @property
    def dev_keys(self) -> list[bytes]:
        """Private keys of the funded development accounts of the embedded genesis."""
        return [k.to_bytes() for k in self.backend.account_keys]

    @property
    def dev(self) -> LocalAccount:
        """The first funded development account (``DevChain``)."""
        return Account.from_key(self.dev_keys[0])

    def fund(self, address: str, wei: int = 10**21) -> None:
        """Give ``address`` gas money from a development account."""
        self.transfer(self.dev, address, wei)

    def ensure_gas_money(self, address: str, gas: int = 1_000_000) -> None:
        """A development chain: an account short of gas money is topped up from a dev account."""
        if self.balance_of(address) < 10**18:
            self.fund(address)

    def set_next_block_time(self, timestamp: int) -> None:
        """Move chain time: the next block carries ``timestamp`` (eth-tester mines an empty block
        one second before it)."""
        with self._lock:
            self.tester.time_travel(timestamp)


    def public_reads(self, gas_cap: int, workers: int, timeout: float):
        """Answers to anyone's JSON-RPC reads, from replica processes (``chain_node.replica``)."""
        from lianzheng.chain_node.replica import ReplicaPool

        return ReplicaPool(self.db_path, gas_cap=gas_cap, workers=workers, timeout=timeout)

    def close(self) -> None:
        with self._lock:
            self.backend.close()
