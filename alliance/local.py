"""A local Yellow River alliance on one machine: ``lianzheng chain up`` / ``chain down``.

One anvil node per province (from the npm package; ``npm ci`` first when node_modules lacks
it), a notary per province and per city (the province notary deploys the EvidenceRegistry and,
as registrar, binds the cities), an AllianceRelay on every chain whose members are the
provinces' relayer keys, and each province's relayer (``lianzheng relay``). Everything runs
in its own session and outlives the command; ``deployment.json`` (mode 0600: it names key
files and holds demo API keys) says what runs where, and ``chain down`` stops it all.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account

from lianzheng.alliance.errors import AllianceError
from lianzheng.alliance.relay_contract import AllianceRelay
from lianzheng.chain_node.accounts import load_or_create_account
from lianzheng.chain_node.anvil import ANVIL_DEV_KEY, AnvilNode, anvil_binary, ensure_anvil, free_port
from lianzheng.chain_node.errors import ChainUnavailable
from lianzheng.chain_node.rpc import RpcChain

DEPLOYMENT = "deployment.json"
RELAY_INTERVAL = 1.0  # seconds between a relayer's passes (`relay --interval`): a receipt crosses in seconds


@dataclass(frozen=True)
class Province:
    name: str
    region: int
    chain_id: int
    cities: tuple[int, ...]


PROVINCES = {p.name: p for p in (
    Province("shandong", 370000, 3700, (370100, 370200, 370300, 370600, 370700)),
    Province("gansu", 620000, 6200, (620100, 620400, 620500, 620600)),
    Province("neimenggu", 150000, 1500, (150100, 150200, 150700, 150600)),
    Province("henan", 410000, 4100, (410100, 410200, 410300, 410700)),
)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie of ours is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _key(path: Path, chain: RpcChain) -> Any:
    account = load_or_create_account(path)
    chain.transfer(Account.from_key(ANVIL_DEV_KEY), account.address, 10**21)
    return account


def _serve(data_dir: Path, region: int, rpc: str, chain_key: Path, registry: str | None) -> dict[str, Any]:
    port = free_port()
    args = [sys.executable, "-m", "lianzheng", "serve", "--port", str(port), "--data-dir", str(data_dir),
            "--region", str(region), "--rpc", rpc, "--chain-key-file", str(chain_key), "--anchor-interval", "0.5"]
    if registry:
        args += ["--registry", registry]
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir.parent / f"notary-{region}.log", "ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AllianceError(f"notary {region} exited; see {data_dir.parent / f'notary-{region}.log'}")
        try:
            health = httpx.get(url + "/healthz", timeout=1).json()
            return {"region": region, "url": url, "pid": process.pid, "data_dir": str(data_dir),
                    "registry": health["chain"]["registry"]}
        except (httpx.HTTPError, ValueError, KeyError):
            time.sleep(0.1)
    process.kill()
    raise AllianceError(f"notary {region} did not start within 60 s")


def _api_key(data_dir: Path, name: str) -> str:
    """A writer key of the notary in ``data_dir``, made as an operator makes one: ``keys add``."""
    done = subprocess.run([sys.executable, "-m", "lianzheng", "keys", "add", "--name", name,
                           "--data-dir", str(data_dir)],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise AllianceError(f"cannot make an API key in {data_dir}: {done.stderr.strip()}")
    return done.stdout.strip()


def _relayer(directory: Path, member: str) -> int:
    """``lianzheng relay`` for ``member``, detached, logging to its province's ``relay.log``."""
    log_path = directory / member / "relay.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "lianzheng", "relay", "--deployment", str(directory), "--member", member,
             "--interval", str(RELAY_INTERVAL)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # its report lines reach the log as they happen
    return process.pid


def _write(path: Path, deployment: dict[str, Any], new: bool) -> None:
    flags = os.O_WRONLY | (os.O_CREAT | os.O_EXCL if new else os.O_TRUNC)
    with os.fdopen(os.open(path, flags, 0o600), "w") as f:
        json.dump(deployment, f, indent=1)


def steps(provinces: list[str], cities: int) -> int:
    """How many times ``up`` calls its ``step``: per province its anvil, notaries, API keys, relay
    contract and relayer; ``npm ci`` once when anvil is missing."""
    try:
        anvil_binary()
        install = 0
    except ChainUnavailable:
        install = 1
    return install + len(provinces) * (min(max(cities, 0), 4) + 5)


def up(directory: Path, provinces: list[str], cities: int = 1, threshold: int | None = None,
       step: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Start the alliance; returns (and writes) the deployment. ``step`` hears each step as it
    begins (``steps`` says how many)."""
    unknown = [p for p in provinces if p not in PROVINCES]
    if unknown or len(set(provinces)) < 2:
        raise AllianceError(f"give two or more of {', '.join(PROVINCES)} (unknown: {', '.join(unknown) or '-'})")
    if not 0 <= cities <= 4:
        raise AllianceError("--cities is 0..4")
    # A relayer attests the other provinces' checkpoints, never its own: n - 1 attestations at most.
    k = threshold or min(len(provinces) // 2 + 1, len(provinces) - 1)
    if not 1 <= k <= len(provinces) - 1:
        raise AllianceError(f"--threshold is 1..{len(provinces) - 1} (a province does not attest its own log)")
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / DEPLOYMENT).exists():
        raise AllianceError(f"{directory / DEPLOYMENT} exists: run `lianzheng chain down --dir {directory}` first")
    ensure_anvil(step)
    deployment: dict[str, Any] = {"threshold": k, "provinces": {}}
    pids: list[int] = []
    admins = {}
    path = directory / DEPLOYMENT
    try:
        for name in provinces:
            p = PROVINCES[name]
            pdir = directory / name
            (pdir / "keys").mkdir(parents=True, exist_ok=True)
            step(f"{name}: anvil (chain {p.chain_id})")
            node = AnvilNode(chain_id=p.chain_id, log=pdir / "anvil.log")
            pids.append(node.process.pid)
            chain = RpcChain(node.url)
            member = _key(pdir / "keys" / "relayer.key", chain)
            admin = _key(pdir / "keys" / "admin.key", chain)
            province_key = pdir / "keys" / f"notary-{p.region}.key"
            province_account = _key(province_key, chain)
            step(f"{name}: notary {p.region}")
            notaries = [_serve(pdir / str(p.region), p.region, node.url, province_key, None)]
            pids.append(notaries[0]["pid"])
            registry = chain.contract("EvidenceRegistry", notaries[0]["registry"])
            for region in p.cities[:cities]:
                city_key = pdir / "keys" / f"notary-{region}.key"
                step(f"{name}: notary {region}")
                chain.transact(province_account, registry.tx("bindNotary", _key(city_key, chain).address, region))
                notaries.append(_serve(pdir / str(region), region, node.url, city_key, registry.address))
                pids.append(notaries[-1]["pid"])
            step(f"{name}: API keys")
            for n in notaries:
                n["api_key"] = _api_key(Path(n["data_dir"]), "alliance-demo")
            deployment["provinces"][name] = {
                "region": p.region, "chain_id": p.chain_id, "rpc": node.url, "anvil_pid": node.process.pid,
                "member": member.address, "relayer_key": str(pdir / "keys" / "relayer.key"),
                "admin_key": str(pdir / "keys" / "admin.key"), "notaries": notaries}
            admins[name] = admin
        members = [v["member"] for v in deployment["provinces"].values()]
        dev = Account.from_key(ANVIL_DEV_KEY)
        for name in provinces:
            entry = deployment["provinces"][name]
            step(f"{name}: AllianceRelay")
            chain = RpcChain(entry["rpc"])
            for other in members:  # relayers attest on every other member's chain: gas there too
                if chain.balance_of(other) == 0:
                    chain.transfer(dev, other, 10**21)
            relay = AllianceRelay.deploy(chain, admins[name], members, k)
            entry["relay"] = relay.address
        _write(path, deployment, new=True)  # the relayers read it
        for name in provinces:
            step(f"{name}: relayer")
            pids.append(_relayer(directory, name))
            deployment["provinces"][name]["relayer_pid"] = pids[-1]
        _write(path, deployment, new=False)
    except BaseException:
        _stop(pids)
        path.unlink(missing_ok=True)
        raise
    return deployment


def load(directory: Path) -> dict[str, Any]:
    path = directory / DEPLOYMENT if directory.is_dir() else directory
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise AllianceError(f"no alliance deployment at {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise AllianceError(f"{path} is not a deployment file: {exc}") from None


def _stop(pids: list[int]) -> int:
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    return len(pids)


def down(directory: Path) -> int:
    """Stop every process of the deployment; returns how many were asked to stop."""
    deployment = load(directory)
    pids = []
    for entry in deployment["provinces"].values():
        pids += [n["pid"] for n in entry["notaries"]] + [entry["anvil_pid"]]
        pids += [entry["relayer_pid"]] if "relayer_pid" in entry else []  # deployments from before relayers
    count = _stop(pids)
    (directory / DEPLOYMENT).unlink(missing_ok=True)
    return count
