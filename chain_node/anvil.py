"""Start and stop a local anvil node from the npm package ``@foundry-rs/anvil``.

Used by integration tests, benchmarks and the alliance launcher. The binary comes from
node_modules (``npm ci``), never downloaded at run time.
"""
from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from eth_account import Account

from lianzheng.chain_node.accounts import write_account_key
from lianzheng.chain_node.errors import ChainUnavailable
from lianzheng.chain_node.rpc import RpcChain

PROJECT = Path(__file__).resolve().parent.parent
# anvil's well-known first development key (public knowledge: test chains only).
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def installed_anvil() -> Path:
    """Where ``npm ci`` puts anvil for this machine (the optional package of its platform)."""
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    return PROJECT / "node_modules" / "@foundry-rs" / f"anvil-{platform.system().lower()}-{arch}" / "bin" / "anvil"


def anvil_binary() -> Path:
    candidate = installed_anvil()
    if candidate.is_file():
        return candidate
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise ChainUnavailable(f"anvil not found at {candidate}: run `npm ci` in {PROJECT}")


def ensure_anvil(installing: Callable[[str], None] = lambda _: None) -> Path:
    """anvil, after installing the repository's locked node packages (``npm ci``) when node_modules
    lacks it; ``installing`` hears about that step first (it takes a minute)."""
    try:
        return anvil_binary()
    except ChainUnavailable:
        if not (PROJECT / "package-lock.json").is_file():
            raise
    npm = shutil.which("npm")
    if npm is None:
        raise ChainUnavailable("anvil is not installed and npm is missing: install npm (apt-get install npm) "
                               "or put anvil on PATH") from None
    installing(f"npm ci in {PROJECT}")
    try:  # npm's own output stays out of ours: callers' stdout is machine-readable
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], check=False, cwd=PROJECT, capture_output=True,
                              text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise ChainUnavailable(f"npm ci in {PROJECT} took more than 15 minutes") from None
    if done.returncode != 0:
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise ChainUnavailable(f"npm ci in {PROJECT} failed: {said[-1] if said else f'exit {done.returncode}'}")
    return anvil_binary()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AnvilNode:
    """A running anvil on 127.0.0.1; ``stop()`` ends it (also as a context manager)."""

    def __init__(self, port: int | None = None, chain_id: int = 31337, block_time: float | None = None,
                 log: Path | None = None) -> None:
        """With ``log`` the node runs in its own session, writing to ``log``: it outlives this
        process (``lianzheng chain up``) and is stopped by pid."""
        self.port = port or free_port()
        self.chain_id = chain_id
        self.url = f"http://127.0.0.1:{self.port}"
        args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(self.port), "--chain-id", str(chain_id),
                "--silent"]
        if block_time:
            args += ["--block-time", str(block_time)]
        self.log = log
        err = open(log, "ab") if log else subprocess.PIPE
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, start_new_session=bool(log),
                                        env={**os.environ, "NO_COLOR": "1"})
        if log:
            err.close()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                said = self.log.read_text(errors="replace") if self.log else self.process.stderr.read().decode()
                raise ChainUnavailable(f"anvil exited: {said[-500:]}")
            try:
                r = httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                               timeout=1.0)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise ChainUnavailable(f"anvil did not answer on {self.url} within {timeout}s")

    def rpc(self, method: str, params: list) -> object:
        """A raw call, for anvil-only test helpers (evm_increaseTime, evm_mine)."""
        r = httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=10)
        body = r.json()
        if "error" in body:
            raise ChainUnavailable(f"{method}: {body['error']}")
        return body["result"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def chain(self) -> "AnvilChain":
        """A ``DevChain`` on this node."""
        return AnvilChain(self)

    def __enter__(self) -> "AnvilNode":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class AnvilChain(RpcChain):
    """A chain on a local anvil: a ``DevChain`` (funded dev account, clock control through
    anvil's own ``evm_setNextBlockTimestamp``: a test helper, never used against real nodes)."""

    def __init__(self, node: AnvilNode) -> None:
        super().__init__(node.url)
        self.node = node
        self.dev = Account.from_key(ANVIL_DEV_KEY)

    def fund(self, address: str, wei: int = 10**21) -> None:
        self.transfer(self.dev, address, wei)

    def set_next_block_time(self, timestamp: int) -> None:
        self.node.rpc("evm_setNextBlockTimestamp", [timestamp])


def funded_key_file(anvil_url: str, path: Path, wei: int = 10**20) -> Path:
    """A fresh account with gas money on the anvil node at ``anvil_url``, its key in a 0600 file."""
    account = Account.create()
    chain = RpcChain(anvil_url)
    try:
        chain.transfer(Account.from_key(ANVIL_DEV_KEY), account.address, wei)
    finally:
        chain.close()
    return write_account_key(path, account)
