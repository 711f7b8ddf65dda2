"""docker-compose.yml, the production stack, checked without a Docker engine (none on this machine).

- it is a valid Compose file (the compose-spec JSON schema, tests/vectors/compose-spec);
- every file it mounts is in the repository, or is written by ``lianzheng chain besu-config``, or is
  one of the secrets deploy/README.md tells the operator to supply; every service it depends on or
  scrapes exists;
- the notaries reach the chain only through the read node, whose JSON-RPC has nothing that votes;
  every Besu node answers eth_getLogs from block 0;
- the notary service's own command and environment, with only the hostnames, paths and port of
  this machine put in, runs on anvil and PostgreSQL (as the role deploy/postgres/init.sql makes)
  and anchors an event, with an API key that ``keys add`` made in the same environment.
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
from tests.helpers import LIANZHENG, make_event

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
NOTARIES = {"370000": "notary-370000", "370100": "notary-370100"}
# Supplied by the operator (deploy/README.md says how), never generated or committed.
OPERATOR_FILES = {"deploy/secrets/postgres_password", "deploy/alliance/deployment.json", "deploy/alliance/relayer.key",
                  *(f"deploy/secrets/notary_{r}{s}" for r in NOTARIES for s in ("_db_password", ".pgpass"))}


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
        assert (options["--permissions-nodes-config-file"] == options["--permissions-accounts-config-file"]
                == permissions)
        assert "--permissions-nodes-config-file-enabled" in options
        assert "--permissions-accounts-config-file-enabled" in options
        assert options["--min-gas-price"] == "0"  # the genesis has a zero base fee; nobody pays gas
        assert "ports" not in service, f"{name} publishes a port: its RPC must stay on the internal network"
        assert options["--rpc-http-host"] == "127.0.0.1", (f"{name}'s JSON-RPC (with QBFT votes) reaches "
                                                           f"other containers")
        assert options["--rpc-max-logs-range"] == "0"  # Besu's default 5000 blocks breaks reads from block 0
        assert service["networks"] == ["p2p"]
        assert service["image"].startswith("hyperledger/besu:") and service["image"].split(":")[1][0].isdigit()
        assert "test" in service["healthcheck"]
    assert COMPOSE["networks"]["chain"]["internal"] is True and COMPOSE["networks"]["p2p"]["internal"] is True


def test_the_notaries_reach_the_chain_through_a_read_node_that_cannot_vote():
    service = SERVICES["rpc-node"]
    options = dict(a.split("=", 1) if "=" in a else (a, "") for a in service["command"])
    mounts = dict(v.split(":")[:2] for v in service["volumes"])
    assert mounts["./deploy/besu/rpc-node/key"] == options["--node-private-key-file"]
    assert set(options["--rpc-http-api"].split(",")) == {"ETH", "NET", "WEB3"}
    assert options["--rpc-max-logs-range"] == "0"
    assert "--permissions-nodes-config-file-enabled" in options and "ports" not in service
    assert sorted(service["networks"]) == ["chain", "p2p"]
    for name in (*NOTARIES.values(), "relayer"):
        assert "p2p" not in SERVICES[name]["networks"], f"{name} reaches the validators"
    for name in NOTARIES.values():
        assert _options(SERVICES[name]["command"])["--rpc"] == "http://rpc-node:8545"
        assert "rpc-node" in SERVICES[name]["depends_on"]


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
        init = (ROOT / "deploy" / "postgres" / "init.sql").read_text()
        assert f"CREATE ROLE notary_{region} LOGIN NOSUPERUSER" in init
        assert f"CREATE DATABASE notary_{region} OWNER notary_{region};" in init
        assert f"/run/secrets/notary_{region}_db_password" in init
        assert f"notary_{region}_db_password" in SERVICES["postgres"]["secrets"]
        environment = SERVICES[name]["environment"]
        # The store in the environment, where `docker compose exec … lianzheng keys add` finds it too
        assert "--database-url" not in options and "--data-dir" not in options
        assert environment["LIANZHENG_DATABASE_URL"] == f"postgresql+psycopg://notary_{region}@postgres:5432/notary_{region}"
        assert environment["LIANZHENG_DATA_DIR"] == "/var/lib/lianzheng"
        assert environment["PGPASSFILE"] == f"/run/secrets/notary_{region}_pgpass"
        assert SERVICES[name]["secrets"] == [f"notary_{region}_pgpass", f"notary_{region}_chain_key"]
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


def _init_sql(postgres, secrets, suffix: str) -> None:
    """deploy/postgres/init.sql as the postgres image runs it (psql as the superuser), with its
    secrets from ``secrets`` and each name given ``suffix``: roles are the whole cluster's."""
    sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text().replace("/run/secrets/", f"{secrets}/")
    for region in NOTARIES:
        sql = sql.replace(f"notary_{region}", f"notary_{region}{suffix}")
        (secrets / f"notary_{region}{suffix}_db_password").write_text(f"password-{region}\n")
    (secrets / "init.sql").write_text(sql)
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-d", "postgres",
                    "-X", "-q", "-f", str(secrets / "init.sql")], check=True, capture_output=True)


@pytest.mark.anvil
@pytest.mark.postgres
def test_the_stack_notary_command_runs_on_anvil_and_postgres_and_anchors(tmp_path, anvil_node, postgres):
    service = SERVICES["notary-370000"]
    command = service["command"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    suffix = f"_compose_{os.getpid()}"
    _init_sql(postgres, secrets, suffix)
    port = free_port()
    here = {  # what differs between the stack and this machine: hosts, paths, the port; nothing else
        "--host": "127.0.0.1",
        "--port": str(port),
        "--rpc": anvil_node.url,  # for http://rpc-node:8545
        "--chain-key-file": str(funded_key_file(anvil_node.url, secrets / "chain.key")),
    }
    options = _options(command)
    assert set(here) <= set(options), "the stack's command lost an option this test replaces"
    args = [a if not a.startswith("--") or a.split("=", 1)[0] not in here else f"{a.split('=', 1)[0]}="
            f"{here[a.split('=', 1)[0]]}" for a in command]
    environment = dict(service["environment"])
    (secrets / "pgpass").write_text(f"127.0.0.1:{postgres.port}:*:notary_370000{suffix}:password-370000\n")
    (secrets / "pgpass").chmod(0o600)
    environment.update({  # the role and database init.sql made, on this machine's server
        "LIANZHENG_DATABASE_URL": environment["LIANZHENG_DATABASE_URL"]
                                  .replace("notary_370000", f"notary_370000{suffix}")
                                  .replace("@postgres:5432/", f"@127.0.0.1:{postgres.port}/"),
        "LIANZHENG_DATA_DIR": str(tmp_path / "data"),  # for /var/lib/lianzheng
        "PGPASSFILE": str(secrets / "pgpass"),
    })
    assert set(environment) == set(service["environment"]), "the stack's environment gained what this test misses"
    env = {**os.environ, **environment}
    with open(tmp_path / "notary.log", "wb") as log:
        process = subprocess.Popen([*LIANZHENG, *args], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
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
        # What deploy/README.md tells the operator: `docker compose exec notary-370000 lianzheng keys
        # add`, in the running service's environment with no option naming the store.
        made = subprocess.run([*LIANZHENG, "keys", "add", "--name", "trading-system"], env=env, cwd=tmp_path,
                              capture_output=True, text=True)
        assert made.returncode == 0 and "no notary has started" not in made.stderr, made.stderr
        key = made.stdout.strip()
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


def test_the_image_build_context_is_an_allowlist_of_what_the_wheels_need():
    """Dockerfile.dockerignore leaves everything out but the distributions' sources, so a key or a
    data dir that lands in the checkout never enters a build; the Dockerfile copies the context
    into its first stage only."""
    import tomllib

    lines = [line.strip() for line in (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", project["project"]["readme"], "sdk",
              *(d.split("/")[0] for d in project["tool"]["setuptools"]["package-dir"].values())}
    assert allowed == needed
    assert {"**/*.key", "**/data/", "**/.env"} <= set(lines) and lines.index("**/*.key") > max(
        lines.index(f"!{a}/") if f"!{a}/" in lines else lines.index(f"!{a}") for a in allowed)
    stages = (ROOT / "deploy" / "Dockerfile").read_text().split("\nFROM ")
    assert len(stages) == 3 and "COPY . ." in stages[1] and "COPY" not in stages[2]  # comment, wheels, image
