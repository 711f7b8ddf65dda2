"""docker-compose.yml, the production stack, checked without a Docker engine (none on this machine).

- it is a valid Compose file (the compose-spec JSON schema, tests/vectors/compose-spec);
- every file it mounts is in the repository, or is written by ``lianzheng chain besu-config``, or is
  one of the secrets deploy/README.md tells the operator to supply; every service it depends on or
  scrapes exists;
- the notary service's own command, with only the hostnames, paths and port of this machine put
  in, runs on anvil and PostgreSQL and anchors an event: the code the stack runs.
"""
from __future__ import annotations

import json
import os
import subprocess
import time

import httpx
import jsonschema
import pytest
import yaml

from lianzheng.chain_node.anvil import free_port, funded_key_file
from lianzheng.chain_node.besu import write_network
from tests.conftest import ROOT, VECTORS
from tests.helpers import LIANZHENG, cli, make_event

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
NOTARIES = {"370000": "notary-370000", "370100": "notary-370100"}
# Supplied by the operator (deploy/README.md says how), never generated or committed.
OPERATOR_FILES = {"deploy/secrets/postgres_password", "deploy/secrets/pgpass", "deploy/alliance/deployment.json",
                  "deploy/alliance/relayer.key"}


def _schema() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((VECTORS / "compose-spec" / "compose-spec.json").read_text()))


def test_compose_file_is_valid_against_the_compose_spec_schema():
    _schema().validate(COMPOSE)


def test_the_schema_refuses_a_misspelt_service_key():
    broken = json.loads(json.dumps(COMPOSE))
    broken["services"]["notary-370000"]["comand"] = broken["services"]["notary-370000"].pop("command")
    assert not _schema().is_valid(broken)


def _bind_sources() -> set[str]:
    found = set()
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                found.add(os.path.normpath(source))
    for secret in COMPOSE["secrets"].values():
        found.add(os.path.normpath(secret["file"]))
    return found


def test_every_mounted_file_is_committed_generated_or_named_for_the_operator(tmp_path):
    network = write_network(tmp_path / "besu", 4, regions=list(NOTARIES))
    generated = {f"deploy/besu/{p.relative_to(network.directory)}" for p in network.directory.rglob("*") if p.is_file()}
    readme = (ROOT / "deploy" / "README.md").read_text()
    for source in sorted(_bind_sources()):
        if source in OPERATOR_FILES:
            assert source in readme, f"{source} is mounted but deploy/README.md does not say how to make it"
        elif source.startswith("deploy/besu/"):
            assert source in generated, f"{source} is mounted but besu-config does not write it"
        else:
            assert (ROOT / source).is_file(), f"{source} is mounted but not in the repository"
    gitignore = (ROOT / ".gitignore").read_text().split()
    assert {"/deploy/besu/", "/deploy/secrets/", "/deploy/alliance/"} <= set(gitignore)
    build = SERVICES["notary-370000"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()


def test_validators_run_on_besu_config_output_with_permissioning():
    validators = sorted(name for name in SERVICES if name.startswith("validator"))
    assert validators == ["validator1", "validator2", "validator3", "validator4"]  # besu-config's default count
    for name in validators:
        service = SERVICES[name]
        mounts = dict(v.split(":")[:2] for v in service["volumes"])
        options = dict(a.split("=", 1) if "=" in a else (a, "") for a in service["command"])
        assert mounts["./deploy/besu/genesis.json"] == options["--genesis-file"]
        assert mounts[f"./deploy/besu/{name}/key"] == options["--node-private-key-file"]
        assert mounts["./deploy/besu/static-nodes.json"] == options["--static-nodes-file"]
        permissions = mounts["./deploy/besu/permissions_config.toml"]
        assert options["--permissions-nodes-config-file"] == options["--permissions-accounts-config-file"] == permissions
        assert "--permissions-nodes-config-file-enabled" in options
        assert "--permissions-accounts-config-file-enabled" in options
        assert options["--min-gas-price"] == "0"  # the genesis has a zero base fee; nobody pays gas
        assert "ports" not in service, f"{name} publishes a port: its RPC must stay on the internal network"
        assert service["image"].startswith("hyperledger/besu:") and service["image"].split(":")[1][0].isdigit()
        assert "test" in service["healthcheck"]
    assert COMPOSE["networks"]["chain"]["internal"] is True


def test_dependencies_and_scrape_targets_are_services_of_the_stack():
    for name, service in SERVICES.items():
        for needed, how in service.get("depends_on", {}).items():
            assert needed in SERVICES, f"{name} depends on {needed}, which is not a service"
            if how["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[needed], f"{name} waits for {needed}'s health, which it has none of"
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = [t for job in prometheus["scrape_configs"] for group in job["static_configs"] for t in group["targets"]]
    assert sorted(targets) == sorted(f"{s}:8000" for s in NOTARIES.values())
    for region, name in NOTARIES.items():
        options = _options(SERVICES[name]["command"])
        assert options["--port"] == "8000" and options["--region"] == region
        assert f"notary_{region}" in (ROOT / "deploy" / "postgres" / "init.sql").read_text()
        assert options["--database-url"].endswith(f"@postgres:5432/notary_{region}")
        assert options["--chain-key-file"] == f"/run/secrets/notary_{region}_chain_key"
        assert COMPOSE["secrets"][f"notary_{region}_chain_key"]["file"] == f"./deploy/besu/notary-{region}/chain.key"


def test_a_city_notary_never_deploys_a_registry_of_its_own():
    """Unset, its registry is the zero address: the notary stops (no contract there) instead of
    deploying one and becoming a registrar the province never named."""
    assert "--registry" not in _options(SERVICES["notary-370000"]["command"])  # the province deploys it
    city = _options(SERVICES["notary-370100"]["command"])["--registry"]
    assert city == "${LIANZHENG_REGISTRY:-0x0000000000000000000000000000000000000000}"


def _options(command: list[str]) -> dict[str, str]:
    return dict(a.split("=", 1) for a in command if a.startswith("--"))


@pytest.mark.anvil
@pytest.mark.postgres
def test_the_stack_notary_command_runs_on_anvil_and_postgres_and_anchors(tmp_path, anvil_node, postgres):
    command = SERVICES["notary-370000"]["command"]
    port = free_port()
    here = {  # what differs between the stack and this machine: hosts, paths, the port; nothing else
        "--host": "127.0.0.1",
        "--port": str(port),
        "--rpc": anvil_node.url,  # for http://validator1:8545
        "--database-url": postgres.create_database(f"compose_{os.getpid()}"),  # for …@postgres:5432/notary_370000
        "--chain-key-file": str(funded_key_file(anvil_node.url, tmp_path / "secrets" / "chain.key")),
        "--data-dir": str(tmp_path / "data"),
    }
    options = _options(command)
    assert set(here) <= set(options), "the stack's command lost an option this test replaces"
    args = [a if not a.startswith("--") or a.split("=", 1)[0] not in here else f"{a.split('=', 1)[0]}="
            f"{here[a.split('=', 1)[0]]}" for a in command]
    key = cli("keys", "add", "--name", "trading-system", "--data-dir", here["--data-dir"],
              "--database-url", here["--database-url"], check=True).stdout.strip()
    with open(tmp_path / "notary.log", "wb") as log:
        process = subprocess.Popen([*LIANZHENG, *args], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "notary.log").read_text()[-2000:]
            try:
                health = httpx.get(url + "/healthz", timeout=2).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the notary did not start"
                time.sleep(0.2)
        assert health["region"] == "370000" and health["chain"]["chain_id"] == 31337
        event = make_event(1)
        written = httpx.post(url + "/v1/events", json=event, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert written.status_code == 201, written.text
        deadline = time.monotonic() + 30
        while (receipt := httpx.get(f"{url}/v1/receipts/{event['id']}", timeout=5).json())["status"] != "anchored":
            assert time.monotonic() < deadline, f"not anchored: {receipt}"
            time.sleep(0.3)
        assert receipt["anchor"]["registry"] == health["chain"]["registry"]
        assert receipt["anchor"]["chain_id"] == 31337
        assert httpx.get(url + "/metrics", timeout=5).status_code == 200  # what the stack's Prometheus scrapes
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
