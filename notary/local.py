"""A notary on this machine, in a child process, and a throw-away PostgreSQL cluster.

For demos, benchmarks and tests: ``NotaryServer`` runs ``lianzheng serve`` on a free port
and stops it; ``PostgresCluster`` starts a cluster from the Debian binaries and removes it;
``run_cli`` runs a ``lianzheng`` command; ``sample_event`` makes a realistic trading event.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from lianzheng.chain_node.anvil import free_port

LIANZHENG = [sys.executable, "-m", "lianzheng"]


def run_cli(*args: str, check: bool = False, timeout: float = 120,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``lianzheng ARGS``; with ``check``, a non-zero exit is an AssertionError naming the reason."""
    result = subprocess.run([*LIANZHENG, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check and result.returncode != 0:
        raise AssertionError(f"lianzheng {' '.join(args)} exited {result.returncode}: {result.stderr}")
    return result


class NotaryServer:
    """``lianzheng serve`` in a child process, on a free port."""

    def __init__(self, data_dir: Path, *extra: str, port: int | None = None) -> None:
        self.data_dir, self.extra = data_dir, extra
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "NotaryServer":
        self.log = open(self.data_dir.parent / f"server-{self.port}.log", "ab")
        self.process = subprocess.Popen(
            [*LIANZHENG, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir), *self.extra],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"notary exited {self.process.returncode}: {self.output()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"notary did not start: {self.output()[-2000:]}")

    def output(self) -> str:
        return (self.data_dir.parent / f"server-{self.port}.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    @property
    def rpc(self) -> str:
        return self.url + "/chain/rpc"


class PostgresCluster:
    """A throw-away PostgreSQL cluster from the Debian binaries (as user postgres when root)."""

    def __init__(self) -> None:
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not bindir:
            raise RuntimeError("PostgreSQL server binaries not found (Debian package postgresql)")
        self.bin = bindir[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="lz-pg-"))
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres", "--no-sync")
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "start", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True)

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def sample_event(i: int = 0, **over: Any) -> dict[str, Any]:
    """The i-th bid submission of a Shandong procurement project (ids evt-<i>); ``over`` changes fields."""
    event = {
        "id": f"evt-{i}",
        "type": "bid.submitted",
        "region": "370000",
        "project": "SDGP-2026-0042",
        "section": "S1",
        "occurred_at": "2026-11-23T09:30:00+08:00",
        "actor": f"bidder-{i}",
        "payload": {"round": 1, "note": "投标文件已递交"},
        "documents": [{"sha256": f"{i:064x}", "name": f"bid-{i}.pdf"}],
    }
    event.update(over)
    return event
