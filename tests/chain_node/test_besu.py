"""``lianzheng chain besu-config``: the Besu QBFT network files, checked against what Besu reads.

The validator list is read back out of the genesis extraData with the ``rlp`` package and compared
with addresses derived independently (eth_keys) from the key files the command wrote.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import rlp
from eth_keys import keys

from lianzheng.chain_node.besu import qbft_extra_data
from tests.helpers import cli

ACCOUNT = "0x00000000000000000000000000000000000000aa"
RELAYER = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"


def _key(path: Path) -> keys.PrivateKey:
    return keys.PrivateKey(bytes.fromhex(path.read_text().strip().removeprefix("0x")))


@pytest.fixture(scope="module")
def network(tmp_path_factory) -> tuple[Path, str]:
    d = tmp_path_factory.mktemp("besu") / "net"
    result = cli("chain", "besu-config", "--dir", str(d), "--chain-id", "3711", "--notary", "370000",
                 "--notary", "370100", "--account", ACCOUNT, "--account", RELAYER, check=True)
    return d, result.stdout


def test_genesis_extra_data_names_exactly_the_generated_validators(network):
    d, _ = network
    genesis = json.loads((d / "genesis.json").read_text())
    vanity, validators, vote, round_, seals = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
    expected = [_key(d / f"validator{i}" / "key").public_key.to_canonical_address() for i in range(1, 5)]
    assert validators == expected
    assert vanity == bytes(32)
    assert vote == [] and seals == []  # no vote, no commit seals in a genesis block
    assert _key(d / "rpc-node" / "key").public_key.to_canonical_address() not in validators
    assert round_ == b""  # round 0 as Besu's writeIntScalar writes it (0x80), not IBFT 2.0's 4 bytes


def test_extra_data_bytes_are_besus_layout():
    # RLP list [32 zero bytes, [one address], [], 0, []]: f8 (list, 1 length byte) ... c0 80 c0
    address = "0x" + "11" * 20
    encoded = qbft_extra_data([address])
    assert encoded.hex() == ("f83aa0" + "00" * 32 + "d594" + "11" * 20 + "c080c0")


def test_genesis_is_qbft_with_free_gas_and_the_accounts_funded(network):
    d, _ = network
    genesis = json.loads((d / "genesis.json").read_text())
    config = genesis["config"]
    assert config["chainId"] == 3711
    assert set(config["qbft"]) == {"blockperiodseconds", "epochlength", "requesttimeoutseconds"}
    assert config["qbft"]["requesttimeoutseconds"] > config["qbft"]["blockperiodseconds"] >= 1
    assert config["zeroBaseFee"] is True and config["londonBlock"] == 0
    assert config["cancunTime"] == 0  # contracts/build.py compiles for Cancun
    assert int(genesis["gasLimit"], 16) >= 30_000_000
    notaries = [_key(d / f"notary-{r}" / "chain.key").public_key.to_checksum_address() for r in ("370000", "370100")]
    for account in (ACCOUNT, RELAYER, *notaries):
        assert int(genesis["alloc"][account[2:].lower()]["balance"], 16) > 0


def test_permissions_list_every_validator_enode_and_every_account(network):
    d, out = network
    perms = tomllib.loads((d / "permissions_config.toml").read_text())
    static = json.loads((d / "static-nodes.json").read_text())
    enodes = []
    for i in range(1, 5):
        public = _key(d / f"validator{i}" / "key").public_key
        assert (d / f"validator{i}" / "key.pub").read_text().strip() == "0x" + public.to_bytes().hex()
        enodes.append(f"enode://{public.to_bytes().hex()}@validator{i}:30303")
        assert enodes[-1] in out  # printed for the operator
    reader = _key(d / "rpc-node" / "key").public_key  # the notaries' node: allowed to connect, no validator
    enodes.append(f"enode://{reader.to_bytes().hex()}@rpc-node:30303")
    assert perms["nodes-allowlist"] == enodes == static
    notaries = [_key(d / f"notary-{r}" / "chain.key").public_key.to_checksum_address() for r in ("370000", "370100")]
    validators = [_key(d / f"validator{i}" / "key").public_key.to_checksum_address() for i in range(1, 5)]
    assert set(perms["accounts-allowlist"]) == {a.lower() for a in (*validators, *notaries, ACCOUNT, RELAYER)}


def test_keys_are_0600_and_never_printed(network):
    d, out = network
    key_files = [d / f"validator{i}" / "key" for i in range(1, 5)] + [d / "notary-370000" / "chain.key",
                                                                       d / "rpc-node" / "key"]
    for path in key_files:
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.read_text().strip().removeprefix("0x") not in out


def test_a_directory_that_holds_a_network_is_never_overwritten(network):
    d, _ = network
    before = (d / "validator1" / "key").read_bytes()
    result = cli("chain", "besu-config", "--dir", str(d))
    assert result.returncode == 2 and "already holds a network" in result.stderr
    assert (d / "validator1" / "key").read_bytes() == before


@pytest.mark.parametrize("args, says", [
    (["--validators", "0"], "validators must be 1..32"),
    (["--validators", "33"], "validators must be 1..32"),
    (["--account", "0xabc"], "not an account address"),
    (["--account", RELAYER[:-2] + "c4"], "not an account address"),  # mixed case, EIP-55 checksum broken
    (["--chain-id", "0"], "chain id"),
    (["--notary", "37000"], "GB/T 2260"),
    (["--notary", "370000", "--notary", "370000"], "GB/T 2260"),
    (["--block-period", "0"], "block period"),
], ids=["no-validators", "too-many-validators", "short-account", "bad-checksum-account", "zero-chain-id",
        "bad-region", "duplicate-region", "zero-block-period"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, says):
    result = cli("chain", "besu-config", "--dir", str(tmp_path / "net"), *args)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "net" / "genesis.json").exists()


def _publish(directory: Path, *args: str) -> str:
    """What an organisation runs on its own host: its key stays in ``directory``; the line it publishes."""
    result = cli("chain", "besu-config", "--validator-key-only", "--dir", str(directory), *args, check=True)
    return result.stdout.strip().splitlines()[-1].strip()


def test_a_genesis_built_from_published_validators_holds_no_ones_key(tmp_path):
    """Each organisation makes its key on its own host; the genesis names them from the published
    ADDRESS@ENODE lines, and the directory it is written to holds no validator or node key."""
    published = [_publish(tmp_path / "orgs" / f"org{i}" / "validator", "--host", f"v{i}.org{i}.example")
                 for i in range(1, 5)]
    reader = _publish(tmp_path / "orgs" / "org1" / "rpc-node").split("@", 1)[1]  # host: the dir's name
    assert reader.endswith("@rpc-node:30303")
    for i, line in enumerate(published, 1):
        key = _key(tmp_path / "orgs" / f"org{i}" / "validator" / "key")
        assert (tmp_path / "orgs" / f"org{i}" / "validator" / "key").stat().st_mode & 0o777 == 0o600
        assert line == f"{key.public_key.to_checksum_address()}@enode://{key.public_key.to_bytes().hex()}" \
                       f"@v{i}.org{i}.example:30303"
        assert key.to_bytes().hex() not in line
    d = tmp_path / "genesis"
    cli("chain", "besu-config", "--dir", str(d), "--notary", "370000",
        *[a for v in published for a in ("--validator", v)], "--peer", reader, check=True)
    genesis = json.loads((d / "genesis.json").read_text())
    _, validators, _, _, _ = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
    assert ["0x" + v.hex() for v in validators] == [line.split("@")[0].lower() for line in published]
    enodes = [line.split("@", 1)[1] for line in published] + [reader]
    assert tomllib.loads((d / "permissions_config.toml").read_text())["nodes-allowlist"] == enodes
    assert json.loads((d / "static-nodes.json").read_text()) == enodes
    assert sorted(p.name for p in d.rglob("key*")) == []  # nobody's node key, only the notary's account
    assert (d / "notary-370000" / "chain.key").is_file()


def test_a_node_key_is_never_replaced(tmp_path):
    _publish(tmp_path / "validator")
    before = (tmp_path / "validator" / "key").read_bytes()
    result = cli("chain", "besu-config", "--validator-key-only", "--dir", str(tmp_path / "validator"))
    assert result.returncode == 2 and "never replaced" in result.stderr
    assert (tmp_path / "validator" / "key").read_bytes() == before


ENODE = "enode://" + "ab" * 64 + "@v1.example:30303"


@pytest.mark.parametrize("args, says", [
    (["--validator", f"{RELAYER}@{ENODE}"], "does not match its enode's key"),
    (["--validator", ENODE], "ADDRESS@enode"),
    (["--validator", f"{RELAYER}@enode://abcd@v1.example:30303"], "not an enode URL"),
    (["--peer", "enode://" + "ab" * 64 + "@v1.example:70000"], "not an enode URL"),
    (["--peer", ENODE, "--peer", ENODE], "listed twice"),
    (["--validator", f"{RELAYER}@{ENODE}", "--validators", "4"], "not both"),
    (["--validator-key-only", "--notary", "370000"], "one key"),
    (["--host", "v1.example"], "--host goes with --validator-key-only"),
], ids=["address-not-the-enodes", "validator-without-address", "short-enode-key", "port-out-of-range",
        "duplicate-peer", "published-and-generated", "key-only-with-notary", "host-without-key-only"])
def test_bad_published_nodes_are_one_line_and_exit_2(tmp_path, args, says):
    result = cli("chain", "besu-config", "--dir", str(tmp_path / "net"), *args)
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and result.stderr.strip().count("\n") == 0
    assert not (tmp_path / "net" / "genesis.json").exists() and not (tmp_path / "net" / "key").exists()
