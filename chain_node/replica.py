"""Public JSON-RPC reads of the embedded chain, answered in other processes.

Anyone may read the embedded chain through the notary's ``/chain/rpc`` (verifiers, the
witness page). An ``eth_call`` runs EVM code of the caller's choosing: in the notary's own
process it would hold the chain lock (and the GIL) for as long as its gas lasts — 60M gas of
``JUMPDEST PUSH1 0 JUMP`` held anchoring for 33 s. So public reads never run there:

- each read runs in a *replica* process that opens the chain's SQLite store read-only
  (WAL: it sees every committed block, the notary's writer never waits for it) and keeps
  whatever the EVM writes in memory, dropped after the call;
- ``eth_call`` gas is capped (``gas_cap``, default 10M, never above the block gas limit);
- each call has a time bound: a replica that overruns it is killed and replaced (forked
  from a preloaded server, ~50 ms), and the caller gets a JSON-RPC error;
- callers queue for a fixed number of replicas; past ``max_waiting`` they are told to retry.

The notary's own chain work (anchoring, rule steps) goes through ``EmbeddedChain`` and never
waits behind any of this.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import sqlite3
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from eth.db.backends.base import BaseDB

from lianzheng.chain_node.errors import ReplicaBusy
from lianzheng.chain_node.inprocess import InProcessRpc
from lianzheng.sdk.jsonrpc import RpcError

log = logging.getLogger("lianzheng.chain.replica")

# Methods another process may call: reads only, never a write. No eth_estimateGas: it is
# only useful before a write (which this endpoint refuses) and runs the EVM up to ~25 times.
READ_ONLY_METHODS = frozenset({
    "eth_chainId", "net_version", "web3_clientVersion", "eth_blockNumber", "eth_gasPrice",
    "eth_call", "eth_getBlockByNumber", "eth_getBlockByHash", "eth_getTransactionByHash",
    "eth_getTransactionReceipt", "eth_getCode", "eth_getBalance", "eth_getTransactionCount", "eth_getLogs",
})
DEFAULT_GAS_CAP = 10_000_000
_DELETED = object()


def rpc_error(code: int, message: str, data: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"error": error}


def capped_call(params: list[Any], gas_cap: int) -> list[Any] | dict[str, Any]:
    """``eth_call`` params with the gas bounded by ``gas_cap`` (filled in when absent), or an error."""
    if not params or not isinstance(params[0], dict):
        return rpc_error(-32602, "eth_call takes a call object first")
    call = dict(params[0])
    gas = call.get("gas")
    if gas is None:
        call["gas"] = hex(gas_cap)
    else:
        try:
            value = int(gas, 16) if isinstance(gas, str) else int(gas)
        except (TypeError, ValueError):
            return rpc_error(-32602, "gas must be a hex quantity")
        if value > gas_cap:
            return rpc_error(-32602, f"gas {value} is above this node's cap of {gas_cap} per call")
    return [call, *params[1:]]


class _ReadOnlyKV(BaseDB):
    """The chain's key-value store opened read-only; what the EVM writes stays in memory."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._overlay: dict[bytes, Any] = {}

    def reset(self) -> None:
        self._overlay.clear()

    def __getitem__(self, key: bytes) -> bytes:
        value = self._overlay.get(key)
        if value is _DELETED:
            raise KeyError(key)
        if value is not None:
            return value
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._overlay[key] = value

    def __delitem__(self, key: bytes) -> None:
        self[key]  # KeyError when absent, as a dict would
        self._overlay[key] = _DELETED

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True


class Replica:
    """Answers read-only JSON-RPC from a read-only view of an embedded chain's store."""

    def __init__(self, db_path: Path, gas_cap: int = DEFAULT_GAS_CAP) -> None:
        from eth.db.atomic import AtomicDB
        from eth_tester import EthereumTester, PyEVMBackend

        self.gas_cap = gas_cap
        self._kv = _ReadOnlyKV(db_path)
        backend = PyEVMBackend()  # the chain class and VM schedule of the embedded chain
        self._chain_class = type(backend.chain)
        self._db = AtomicDB(self._kv)
        self._backend = backend
        self._refresh()
        self.rpc = InProcessRpc(EthereumTester(backend))

    def _refresh(self) -> None:
        """Follow the writer: the newest committed head, nothing left of the last call."""
        self._kv.reset()
        self._backend.chain = self._chain_class(self._db)

    def answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        if method not in READ_ONLY_METHODS:
            return rpc_error(-32601, f"method {method} is not served (read-only endpoint)")
        if method == "eth_call":
            capped = capped_call(params, self.gas_cap)
            if isinstance(capped, dict):
                return capped
            params = capped
        try:
            self._refresh()
            return {"result": self.rpc.request(method, params)}
        except RpcError as exc:  # the caller's bad request, or a revert with its data
            return rpc_error(exc.rpc_code if exc.rpc_code == 3 else -32602, exc.message, exc.data)


def _serve(conn: Connection, db_path: str, gas_cap: int) -> None:
    """A replica process: answer (method, params) pairs until the pipe closes."""
    replica = Replica(Path(db_path), gas_cap)
    try:
        conn.send("ready")
    except OSError:  # the notary stopped while this replica started: nothing to answer
        return
    while True:
        try:
            method, params = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(replica.answer(method, params))
        except Exception as exc:  # noqa: BLE001 - e.g. an answer that does not pickle
            conn.send(rpc_error(-32603, f"internal error: {type(exc).__name__}"))


class _Worker:
    def __init__(self, ctx, db_path: Path, gas_cap: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, str(db_path), gas_cap), daemon=True,
                                   name="lianzheng-chain-replica")
        self.process.start()
        child.close()
        self.ready = False

    def ask(self, method: str, params: list[Any], timeout: float, start_timeout: float) -> dict[str, Any] | None:
        """The answer, or None when the replica did not answer within ``timeout`` (or died)."""
        try:
            if not self.ready:
                if not self.conn.poll(start_timeout) or self.conn.recv() != "ready":
                    return None
                self.ready = True
            self.conn.send((method, params))
            if not self.conn.poll(timeout):
                return None
            return self.conn.recv()
        except (EOFError, OSError):
            return None

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class ReplicaPool:
    """``workers`` replica processes behind an async queue (see the module docstring)."""

    def __init__(self, db_path: Path, gas_cap: int = DEFAULT_GAS_CAP, workers: int = 1, timeout: float = 2.0,
                 max_waiting: int = 64) -> None:
        self.db_path, self.gas_cap, self.timeout = db_path, gas_cap, timeout
        self.workers, self.max_waiting = workers, max_waiting
        self._ctx = multiprocessing.get_context("forkserver")
        # Replicas fork from a server that imported the EVM once: a replacement starts in ms.
        self._ctx.set_forkserver_preload(["lianzheng.chain_node.replica", "eth.db.atomic", "eth_tester"])
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._waiting = 0
        self._closed = False
        self.killed = 0  # replicas killed for overrunning their time (a figure for tests and metrics)

    def start(self) -> None:
        """Start the replicas in the background (the first call waits for them if need be)."""
        def spawn() -> None:
            workers = [_Worker(self._ctx, self.db_path, self.gas_cap) for _ in range(self.workers)]
            with self._lock:
                if self._closed:
                    for w in workers:
                        w.kill()
                    return
                self._idle.extend(workers)

        threading.Thread(target=spawn, name="replica-start", daemon=True).start()

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker(self._ctx, self.db_path, self.gas_cap)

    def _put(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed or len(self._idle) >= self.workers:
                worker.kill()
            else:
                self._idle.append(worker)

    def call(self, method: str, params: list[Any], timeout: float | None = None) -> dict[str, Any]:
        """One read on a replica (blocking; the async ``ask`` bounds how many run at once).
        ``timeout`` (at most the pool's) is what is left of the caller's time."""
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        if limit <= 0:
            return self._overran()
        worker = self._take()
        answer = worker.ask(method, params, limit, start_timeout=30.0)
        if answer is None:
            worker.kill()
            self.killed += 1
            self._put(_Worker(self._ctx, self.db_path, self.gas_cap))
            return self._overran()
        self._put(worker)
        return answer

    def _overran(self) -> dict[str, Any]:
        return rpc_error(-32000, f"execution exceeded this node's time limit of {self.timeout:g} s per call")

    async def ask(self, method: str, params: list[Any], timeout: float | None = None) -> dict[str, Any]:
        """Queue for a replica; ``ReplicaBusy`` when ``max_waiting`` callers wait already.

        Callers wait on the event loop, not in worker threads: a queue of slow reads must not
        take the threads that every other route (``/healthz`` among them) runs on.
        """
        from starlette.concurrency import run_in_threadpool

        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            slots = self._slots[loop] = asyncio.Semaphore(self.workers)
        if self._waiting >= self.max_waiting:
            raise ReplicaBusy(f"{self._waiting} reads wait for the chain replicas already")
        self._waiting += 1
        waiting = True
        try:
            async with slots:
                self._waiting -= 1
                waiting = False
                return await run_in_threadpool(self.call, method, params, timeout)
        finally:
            if waiting:
                self._waiting -= 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()
