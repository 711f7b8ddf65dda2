"""``lianzheng experts ...``: the verifiable expert draw from the command line.

A typical draw: the centre builds the pool file (``pool``) and commits it with the seed
parties (``draw``); each party ``commit``s, then ``reveal``s its secret; the last reveal
draws. ``verify`` recomputes everything from the pool file and the chain. Accounts are hex
private-key files (mode 0600). With ``--notary`` (and ``LIANZHENG_KEY``) every step is notarized.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianzheng.rules.cli_support import account as _account
from lianzheng.rules.cli_support import bytes32
from lianzheng.rules.errors import RuleError
from lianzheng.sdk.cli.support import fail

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Verifiable random draw of evaluation experts (专家随机抽取)")

Rpc = Annotated[str, typer.Option("--rpc", envvar="LIANZHENG_RPC", help="JSON-RPC URL of the chain")]
Contract = Annotated[str, typer.Option("--contract", envvar="LIANZHENG_EXPERT_DRAW", help="ExpertDraw address")]
KeyFile = Annotated[Path, typer.Option("--key-file", help="hex private key file of the acting account")]
Draw = Annotated[str, typer.Option("--draw", help="draw id (0x…)")]
Notary = Annotated[Optional[str], typer.Option("--notary", envvar="LIANZHENG_URL",
                                               help="notary URL: notarize this step")]
ApiKey = Annotated[str, typer.Option("--api-key", envvar="LIANZHENG_KEY", help="writer API key of --notary")]
PoolFile = Annotated[Path, typer.Option("--pool-file", help="pool file written by `experts pool`")]


def _draw_id(text: str) -> bytes:
    return bytes32(text, "--draw")


def _contract(rpc: str, contract: str, notary: str | None = None, api_key: str = ""):
    from lianzheng.chain_node import ChainUnavailable
    from lianzheng.chain_node.rpc import RpcChain
    from lianzheng.rules.experts.draw import ExpertDraw

    sink = None
    if notary:
        from lianzheng.sdk.client import NotaryClient

        sink = NotaryClient(notary, api_key or None, retries=2)
    try:
        return ExpertDraw(RpcChain(rpc), contract, sink)
    except (ChainUnavailable, ValueError) as exc:
        fail(f"error: {exc}", 2)


def _pool(path: Path):
    from lianzheng.rules.experts.pool import Pool
    from lianzheng.rules.experts.roster import RosterError

    try:
        return Pool.load(path)
    except RosterError as exc:
        fail(f"error: {exc}", 2)


def _step(action):
    """Run a chain step; a refusal is one line and exit 1, never a traceback."""
    from lianzheng.sdk.client import NotaryClientError

    try:
        return action()
    except RuleError as exc:
        fail(f"refused: {exc}")
    except NotaryClientError as exc:
        fail(f"error: the step is on chain but the notary refused it ({exc.code}): {exc.message}")


@app.command("grant")
def grant(rpc: Rpc, contract: Contract, key_file: KeyFile,
          role: Annotated[str, typer.Option("--role", help="centre or supervisor")],
          region: Annotated[int, typer.Option("--region", help="GB/T 2260 code")],
          account: Annotated[str, typer.Option("--account", help="the account to grant the role")]) -> None:
    """Grant a region's centre or supervisor role (admin only)."""
    if role not in ("centre", "supervisor"):
        fail("error: --role is centre or supervisor", 2)
    rules, admin = _contract(rpc, contract), _account(key_file)
    grant_role = rules.grant_centre if role == "centre" else rules.grant_supervisor
    try:
        grant_role(admin, region, account)
    except ValueError as exc:
        fail(f"error: --account: {exc}", 2)
    except RuleError as exc:
        fail(f"refused: {exc}")
    typer.echo(f"{account} is {role} of {region}")


@app.command("pool")
def pool(roster: Annotated[Path, typer.Option("--roster", help="experts (专家库): JSON roster or CSV")],
         request: Annotated[Path, typer.Option("--request", help="draw request JSON")],
         out: Annotated[Path, typer.Option("--out", help="pool file to write (confidential)")],
         relations: Annotated[Optional[Path], typer.Option("--relations", help="relations CSV")] = None,
         history: Annotated[Optional[Path], typer.Option("--history", help="past draws CSV")] = None) -> None:
    """Build the eligible pool (avoidance, 回避) and write the pool file; prints its commitment."""
    from lianzheng.rules.experts.pool import Pool
    from lianzheng.rules.experts.roster import RosterError, load_request, load_roster

    try:
        built = Pool.build(load_roster(roster, relations, history), load_request(request))
    except RosterError as exc:
        fail(f"error: {exc}", 2)
    built.save(out)
    typer.echo(f"pool of {built.size} eligible experts, {len(built.excluded)} avoided; "
               f"root 0x{built.root.hex()}, exclusion hash 0x{built.exclusion_hash.hex()}; wrote {out}")


@app.command("draw")
def draw(rpc: Rpc, contract: Contract, key_file: KeyFile, pool_file: PoolFile,
         party: Annotated[list[str], typer.Option("--party", help="seed party account (2..8, one a supervisor)")],
         commit_window: Annotated[int, typer.Option("--commit-window", help="seconds")] = 3600,
         reveal_window: Annotated[int, typer.Option("--reveal-window", help="seconds")] = 3600,
         notary: Notary = None, api_key: ApiKey = "") -> None:
    """Commit the pool and the seed parties on chain (centre only); prints the draw id."""
    rules, built, centre = _contract(rpc, contract, notary, api_key), _pool(pool_file), _account(key_file)
    draw_id = _step(lambda: rules.create(centre, built, party, commit_window, reveal_window))
    typer.echo("0x" + draw_id.hex())


@app.command("commit")
def commit(rpc: Rpc, contract: Contract, key_file: KeyFile, draw_id: Draw,
           secret_file: Annotated[Path, typer.Option("--secret-file", help="where to keep the secret until reveal")],
           notary: Notary = None, api_key: ApiKey = "") -> None:
    """Commit a fresh random secret as a seed party; the secret goes to --secret-file (0600)."""
    if secret_file.exists():
        fail(f"error: {secret_file} exists; a draw needs a fresh secret", 2)
    rules, did, account = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    secret = os.urandom(32)
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # kept before it is committed
    with os.fdopen(fd, "w") as f:
        json.dump({"draw": did.hex(), "party": account.address, "secret": secret.hex()}, f)
    _step(lambda: rules.commit_seed(account, did, secret))
    typer.echo(f"committed; keep {secret_file} until the reveal")


@app.command("reveal")
def reveal(rpc: Rpc, contract: Contract, key_file: KeyFile, draw_id: Draw,
           secret_file: Annotated[Path, typer.Option("--secret-file")],
           notary: Notary = None, api_key: ApiKey = "") -> None:
    """Reveal this party's secret (after every party committed); the last reveal draws."""
    rules, did, account = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    try:
        secret = bytes.fromhex(json.loads(secret_file.read_text())["secret"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"error: cannot read the secret from {secret_file}: {exc}", 2)
    _step(lambda: rules.reveal_seed(account, did, secret))
    view = rules.draw(did)
    typer.echo(f"drawn: positions {rules.positions(did)}" if view.state == "drawn"
               else f"revealed ({view.revealed} of {view.parties})")


@app.command("void")
def void(rpc: Rpc, contract: Contract, key_file: KeyFile, draw_id: Draw,
         notary: Notary = None, api_key: ApiKey = "") -> None:
    """Void a draw whose window passed with a party missing (anyone may); names the defaulters."""
    rules, did, account = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    phase, defaulters = _step(lambda: rules.void(account, did))
    typer.echo(f"voided in the {phase} phase; defaulted: {', '.join(defaulters)}")


@app.command("replace")
def replace(rpc: Rpc, contract: Contract, key_file: KeyFile, draw_id: Draw,
            ordinal: Annotated[int, typer.Option("--ordinal", help="which drawn expert (0-based)")],
            reason: Annotated[str, typer.Option("--reason", help="e.g. refused, unreachable")],
            notary: Notary = None, api_key: ApiKey = "") -> None:
    """An expert refused: draw the next alternate of the same sequence (centre only)."""
    rules, did, centre = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    position = _step(lambda: rules.replace(centre, did, ordinal, reason))
    typer.echo(f"alternate at position {position}")


@app.command("status")
def status(rpc: Rpc, contract: Contract, draw_id: Draw) -> None:
    """A draw's state, parties and drawn positions (no names: those stay off chain)."""
    rules, did = _contract(rpc, contract), _draw_id(draw_id)
    view = rules.draw(did)
    if view.state == "none":
        fail(f"no draw {draw_id} in contract {contract}")
    typer.echo(f"{view.state}: round {view.round}, pool {view.pool_size} (root 0x{view.pool_root.hex()}), k {view.k}")
    for p in rules.parties(did):
        typer.echo(f"party {p.address}: {'revealed' if p.revealed else 'committed' if any(p.commitment) else '-'}")
    for i, position in enumerate(rules.positions(did)):
        typer.echo(f"#{i} position {position}{' (replaced)' if i in view.refused else ''}")


@app.command("reveal-expert")
def reveal_expert(rpc: Rpc, contract: Contract, key_file: KeyFile, draw_id: Draw, pool_file: PoolFile,
                  ordinal: Annotated[int, typer.Option("--ordinal")],
                  out: Annotated[Path, typer.Option("--out", help="reveal file for the entitled person")],
                  notary: Notary = None, api_key: ApiKey = "") -> None:
    """Write a drawn expert's identity with its Merkle proof (checked by the contract)."""
    rules, did = _contract(rpc, contract, notary, api_key), _draw_id(draw_id)
    built, centre = _pool(pool_file), _account(key_file)
    shown = _step(lambda: rules.reveal_expert(centre, did, ordinal, built))
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(shown, f, ensure_ascii=False)
    typer.echo(f"#{ordinal}: {shown['expert']['id']} at position {shown['position']}; wrote {out}")


@app.command("check-expert")
def check_expert(rpc: Rpc, contract: Contract,
                 reveal_file: Annotated[Path, typer.Argument(help="file written by `experts reveal-expert`")]) -> None:
    """For the entitled person: is this expert really the one drawn? Checked on chain."""
    from lianzheng.rules.experts.pool import leaf_of
    from lianzheng.rules.experts.roster import Expert

    try:
        shown = json.loads(reveal_file.read_text(encoding="utf-8"))
        did, leaf = bytes.fromhex(shown["draw_id"]), bytes.fromhex(shown["leaf"])
        proof = [bytes.fromhex(p) for p in shown["proof"]]
        who = shown["expert"]
        recomputed = leaf_of(bytes.fromhex(shown["salt"]), Expert.model_construct(id=who["id"], name=who["name"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"error: {reveal_file} is not a reveal file: {exc}", 2)
    rules = _contract(rpc, contract)
    if recomputed != leaf:
        fail(f"FAILED: the leaf is not {who['id']} {who['name']} with this salt")
    if not rules.check_expert(did, int(shown["ordinal"]), leaf, proof):
        fail(f"FAILED: the contract does not accept {who['id']} as drawn expert #{shown['ordinal']}")
    typer.echo(f"verified: {who['id']} {who['name']} is drawn expert #{shown['ordinal']} of draw 0x{did.hex()}")


@app.command("verify")
def verify(rpc: Rpc, contract: Contract, draw_id: Draw, pool_file: PoolFile) -> None:
    """Recompute pool root, exclusion hash, seed, positions and experts; exit 0 when the chain matches."""
    from lianzheng.rules.experts.verify import verify_draw

    rules, did, built = _contract(rpc, contract), _draw_id(draw_id), _pool(pool_file)
    try:
        result = verify_draw(rules, did, built)
    except RuleError as exc:
        fail(f"error: {exc}", 2)
    for check in result.checks:
        typer.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    for e in result.experts:
        typer.echo(f"#{e.ordinal} position {e.position}: {e.expert.id} {e.expert.name}"
                   f"{' (replaced)' if e.replaced else ''}")
    if not result.ok:
        failed = [c.name for c in result.checks if not c.ok]
        fail(f"FAILED: the on-chain draw does not match the inputs ({', '.join(failed)})")
    typer.echo("verified: the on-chain draw matches the pool file")
