"""The files of a Hyperledger Besu QBFT network: node keys, genesis, permissioning.

For the production stack (``docker-compose.yml``): N validators named ``validator1..N`` and one
read node ``rpc-node`` (their compose hostnames; the notaries reach only the read node), node and
account permissioning from local files, zero gas price. That layout has one host make every
validator key: a single-host trial. In production each organisation makes its own node key
(``write_node_key``) and publishes address and enode; the genesis and allowlists are then built
from the published values (``write_network(..., published=...)``) and hold no one else's key.

Formats, as Besu reads them (checked against Besu's sources, release 25.12.0):

- node key: the secp256k1 private key as hex on one line (Besu's ``key`` file; its reader takes
  the hex with or without ``0x``); the public key beside it as ``key.pub`` (64 bytes, hex).
- genesis ``extraData`` (``QbftExtraDataCodec.encode``): RLP of
  ``[vanity (32 bytes), [validator addresses], vote, round, [seals]]`` where, in a genesis block,
  vote is the empty list (no vote), round is the scalar 0 (``writeIntScalar``: the empty string,
  0x80, not IBFT 2.0's four bytes) and seals the empty list.
- ``permissions_config.toml``: ``nodes-allowlist`` (enode URLs) and ``accounts-allowlist``.
- ``static-nodes.json``: a JSON list of enode URLs (``StaticNodesParser``).

Enode URLs name hosts, not IP addresses, so the nodes run with ``--Xdns-enabled=true``
(and ``--Xdns-update-enabled=true``: a container's address changes when it is recreated).
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import coincurve
import rlp
from eth_account import Account
from eth_keys import keys
from eth_utils import is_address, is_checksum_address, to_checksum_address

from lianzheng.chain_node.accounts import load_or_create_account, write_account_key
from lianzheng.chain_node.errors import ChainError

__all__ = [
    "MAX_VALIDATORS",
    "BesuConfigError",
    "BesuNetwork",
    "Node",
    "PublishedNode",
    "QbftParams",
    "qbft_extra_data",
    "write_network",
    "write_node_key",
]

MAX_VALIDATORS = 32  # QBFT sends O(n²) messages per block; a province chain has a handful of centres
P2P_PORT = 30303
VANITY = bytes(32)
# Alloc balance of each listed account: gas is free on this chain (zero base fee, min gas price 0),
# so this is only there for a node that someone starts without --min-gas-price=0.
BALANCE = 10**24
_REGION = re.compile(r"^[1-8][0-9]{5}$")
_ENODE = re.compile(r"^enode://([0-9a-f]{128})@([A-Za-z0-9.-]+):([0-9]{1,5})$")
READ_NODE = "rpc-node"  # the notaries' and relayer's JSON-RPC: a full node that is no validator


class BesuConfigError(ChainError):
    """The network asked for cannot be generated (bad count, address, chain id or directory)."""

    code = "besu_config_invalid"


@dataclass(frozen=True)
class QbftParams:
    """Chain-wide choices, written into ``genesis.json``."""

    chain_id: int = 3700  # Shandong's chain in the local alliance (``alliance.local``): one id per province
    block_period: int = 1  # seconds; the notary anchors about once a second
    epoch_length: int = 30_000  # blocks between resets of pending validator votes (Besu's default)
    request_timeout: int = 4  # seconds before a round change; above the block period
    gas_limit: int = 0x1C9C380  # 30M per block: the largest rule-contract deploy fits with room


@dataclass(frozen=True)
class Node:
    """A node whose key this machine made; ``name`` is its host in the enode URL."""

    name: str
    private_key: bytes

    @property
    def public_key(self) -> bytes:
        return keys.PrivateKey(self.private_key).public_key.to_bytes()

    @property
    def address(self) -> str:
        return keys.PrivateKey(self.private_key).public_key.to_checksum_address()

    @property
    def enode(self) -> str:
        return f"enode://{self.public_key.hex()}@{self.name}:{P2P_PORT}"


@dataclass(frozen=True)
class PublishedNode:
    """A node known by what its operator published (address and enode URL), never by its key."""

    address: str
    enode: str

    @classmethod
    def parse(cls, text: str, validator: bool = True) -> "PublishedNode":
        """``ADDRESS@ENODE`` for a validator (the address is checked against the enode's key: a
        copying slip would otherwise put a stranger into the genesis), a bare ``ENODE`` for a peer."""
        address, enode = text.split("@", 1) if validator and not text.startswith("enode:") else ("", text)
        if validator and not address:
            raise BesuConfigError(f"a validator is ADDRESS@enode://…, not {text!r}")
        match = _ENODE.match(enode.lower() if enode.startswith("enode://") else enode)
        if not match or not 0 < int(match[3]) < 65536:
            raise BesuConfigError(f"not an enode URL (enode://<128 hex>@host:port): {enode!r}")
        derived = keys.PublicKey(bytes.fromhex(match[1])).to_checksum_address()
        if validator and _checked([address])[0] != derived:
            raise BesuConfigError(f"validator {address} does not match its enode's key, whose address is {derived}")
        return cls(derived, f"enode://{match[1]}@{match[2]}:{match[3]}")


@dataclass(frozen=True)
class BesuNetwork:
    """What ``write_network`` made: validators, the notaries' accounts (by region), all allowed accounts."""

    directory: Path
    validators: list[Node | PublishedNode]
    notaries: dict[str, str]
    accounts: list[str]
    params: QbftParams
    peers: list[Node | PublishedNode] = ()  # allowed nodes that are no validators (the read node)


def qbft_extra_data(validators: list[str]) -> bytes:
    """The genesis ``extraData`` naming ``validators`` (addresses), as Besu's QBFT decodes it."""
    return rlp.encode([VANITY, [bytes.fromhex(a[2:]) for a in validators], [], 0, []])


def genesis(validators: list[Node | PublishedNode], accounts: list[str], params: QbftParams) -> dict:
    """Besu's genesis for a QBFT chain with free gas and the EVM our contracts are built for (Cancun)."""
    return {
        "config": {
            "chainId": params.chain_id,
            "berlinBlock": 0, "londonBlock": 0, "shanghaiTime": 0, "cancunTime": 0,
            "zeroBaseFee": True,  # permissioned: nobody pays for gas, the allowlist keeps spam out
            "qbft": {"blockperiodseconds": params.block_period, "epochlength": params.epoch_length,
                     "requesttimeoutseconds": params.request_timeout},
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(params.gas_limit),
        "difficulty": "0x1",
        "mixHash": "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",  # QBFT's fixed value
        "coinbase": "0x" + "00" * 20,
        "extraData": "0x" + qbft_extra_data([v.address for v in validators]).hex(),
        "alloc": {a[2:].lower(): {"balance": hex(BALANCE)} for a in accounts},
    }


def permissions_toml(nodes: list[Node | PublishedNode], accounts: list[str]) -> str:
    """Besu's local permissioning file: only these nodes connect, only these accounts send."""
    def array(items: list[str]) -> str:
        return "[\n" + ",\n".join(f'  "{i}"' for i in items) + "\n]"

    return (f"# Generated by `lianzheng chain besu-config`: nodes and accounts of this chain.\n"
            f"nodes-allowlist={array([n.enode for n in nodes])}\n"
            f"accounts-allowlist={array([a.lower() for a in accounts])}\n")


def _checked(accounts: list[str]) -> list[str]:
    out = []
    for a in accounts:
        hexpart = a[2:] if isinstance(a, str) and a[:2] in ("0x", "0X") else ""
        mixed = hexpart not in (hexpart.lower(), hexpart.upper())
        if not is_address(a) or (mixed and not is_checksum_address(a)):  # a typo in an EIP-55 address
            raise BesuConfigError(f"not an account address: {a!r}")
        if to_checksum_address(a) not in out:
            out.append(to_checksum_address(a))
    return out


def write_network(directory: Path, count: int = 4, accounts: list[str] = (), regions: list[str] = (),
                  params: QbftParams = QbftParams(), published: list[PublishedNode] = (),
                  peers: list[PublishedNode] = ()) -> BesuNetwork:
    """Generate a network into ``directory``: ``notary-REGION/chain.key`` (0600) for each region,
    ``genesis.json``, ``permissions_config.toml`` and ``static-nodes.json``; and, unless the
    validators are ``published`` (each organisation holds its own key), ``validatorI/key`` (0600)
    and ``key.pub`` for I = 1..count and the read node's ``rpc-node/key``. ``peers``: other
    allowed nodes, known by their enode. Refuses a directory that already holds a network:
    regenerating would replace the keys under a running chain."""
    if not published and not 1 <= count <= MAX_VALIDATORS:
        raise BesuConfigError(f"validators must be 1..{MAX_VALIDATORS}, not {count}")
    if len(published) > MAX_VALIDATORS:
        raise BesuConfigError(f"validators must be 1..{MAX_VALIDATORS}, not {len(published)}")
    if not 1 <= params.chain_id < 2**53:
        raise BesuConfigError(f"chain id must be 1..2^53-1, not {params.chain_id}")
    if params.block_period < 1 or params.request_timeout <= params.block_period:
        raise BesuConfigError("block period must be >= 1 s and the request timeout longer than it")
    bad = [r for r in regions if not _REGION.match(r)]
    if bad or len(set(regions)) != len(regions):
        raise BesuConfigError(f"regions must be distinct GB/T 2260 codes like 370000 (got {', '.join(regions)})")
    given = _checked(list(accounts))
    keys_of = {n.enode.split("@")[0] for n in (*published, *peers)}
    if len(keys_of) != len(published) + len(peers):
        raise BesuConfigError("the same node key is listed twice (--validator, --peer)")
    made = [] if published else [f"validator{i}" for i in range(1, count + 1)] + [READ_NODE]
    held = [p.name for p in (directory / "genesis.json", *(directory / name for name in made)) if p.exists()]
    if held:
        raise BesuConfigError(f"{directory} already holds a network ({', '.join(held)}): choose another --dir")
    directory.mkdir(parents=True, exist_ok=True)
    own = [_write_node(directory / name, name) for name in made]
    validators = list(published) or own[:-1]
    others = list(peers) + own[len(own) - 1:]  # the read node, when this machine made the validators
    notaries = {}
    for region in regions:
        notaries[region] = load_or_create_account(directory / f"notary-{region}" / "chain.key").address
    allowed = _checked([v.address for v in validators] + list(notaries.values()) + given)
    nodes = [*validators, *others]
    (directory / "genesis.json").write_text(json.dumps(genesis(validators, allowed, params), indent=2) + "\n")
    (directory / "permissions_config.toml").write_text(permissions_toml(nodes, allowed))
    (directory / "static-nodes.json").write_text(json.dumps([n.enode for n in nodes], indent=2) + "\n")
    os.chmod(directory, 0o700)
    return BesuNetwork(directory, validators, notaries, allowed, params, others)


def write_node_key(directory: Path, host: str | None = None, port: int = P2P_PORT) -> PublishedNode:
    """One node's key into ``directory/key`` (0600) and ``key.pub``, for an organisation that runs
    its own validator: what it publishes (address, enode with ``host``, by default the directory's
    name) is returned; the key never leaves the directory. Refuses to replace a key."""
    host = host or directory.resolve().name
    if not _ENODE.match(f"enode://{'0' * 128}@{host}:{port}") or not 0 < port < 65536:
        raise BesuConfigError(f"not a host and port for an enode URL: {host}:{port}")
    if (directory / "key").exists():
        raise BesuConfigError(f"{directory / 'key'} exists: a node's key is never replaced")
    node = _write_node(directory, host)
    return PublishedNode(node.address, f"enode://{node.public_key.hex()}@{host}:{port}")


def _write_node(directory: Path, name: str) -> Node:
    node = Node(name, coincurve.PrivateKey().secret)
    write_account_key(directory / "key", Account.from_key(node.private_key))
    (directory / "key.pub").write_text("0x" + node.public_key.hex() + "\n")
    return node
