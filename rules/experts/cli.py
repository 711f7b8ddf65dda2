"""``lianzheng experts ...``: the expert draw that no single party can steer, from the command line.

A draw (each step by its own key; README "Expert draw" walks through one):

    registrar:   registry (build the province's registry file) → anchor (its snapshot on chain)
    each party:  party-key (once: registers the X25519 key derived from its account key)
    centre:      draw --plan plan.json --party … (after the section's bids are opened)
                 pool --draw … --registry … (pools from the registry and the tender's bidders)
    each party:  commit → acknowledge → reveal      (a withholder: the others publish-share)
    anyone:      verify --pool-file …, status; void after a missed window
    replacement: sign-replacement (a supervisor) → replace (the centre)

Accounts are hex private-key files (mode 0600). With ``--notary`` (and ``LIANZHENG_KEY``)
every step is notarized.
"""
from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from lianzheng.rules.cli_support import account as _account
from lianzheng.rules.cli_support import bytes32
from lianzheng.rules.errors import RuleError
from lianzheng.sdk.cli.support import fail, progress

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Verifiable random draw of evaluation experts (专家随机抽取)")

Rpc = Annotated[str, typer.Option("--rpc", envvar="LIANZHENG_RPC",
                                  help="JSON-RPC URL of the chain (default: the notary's /chain/rpc)")]
Contract = Annotated[str, typer.Option("--contract", envvar="LIANZHENG_EXPERT_DRAW",
                                       help="ExpertDraw address (default: the notary's)")]
KeyFile = Annotated[Path, typer.Option("--key-file", help="hex private key file of the acting account")]
Draw = Annotated[str, typer.Option("--draw", help="draw id (0x…)")]
Notary = Annotated[Optional[str], typer.Option("--notary", envvar="LIANZHENG_URL",
                                               help="notary URL: notarize this step")]
ApiKey = Annotated[str, typer.Option("--api-key", envvar="LIANZHENG_KEY", help="rules API key of --notary")]
PoolFile = Annotated[Path, typer.Option("--pool-file", help="pool file written by `experts pool`")]
Stratum = Annotated[int, typer.Option("--stratum", help="stratum of the plan (0-based)")]
Ordinal = Annotated[int, typer.Option("--ordinal", help="which drawn expert of the stratum (0-based)")]
Reason = Annotated[str, typer.Option("--reason", help="refused, absent, conflict, unable or left")]


def _draw_id(text: str) -> bytes:
    return bytes32(text, "--draw")


def _contract(rpc: str, contract: str, notary: str | None = None, api_key: str = ""):
    """The ExpertDraw at ``contract`` on ``rpc``; either, when empty, is the notary's (LIANZHENG_URL):
    its ``/chain/rpc`` and its contract."""
    from lianzheng.chain_node import ChainUnavailable
    from lianzheng.chain_node.rpc import RpcChain
    from lianzheng.rules.experts.draw import ExpertDraw

    if not rpc or not contract:
        url = os.environ.get("LIANZHENG_URL", "")
        if not url:
            fail("error: give --rpc and --contract, or LIANZHENG_URL of a notary on the embedded chain", 2)
        from lianzheng.rules.tender.cli import _call

        rpc = rpc or url.rstrip("/") + "/chain/rpc"
        contract = contract or _call("GET", url, "/v1/experts")["contract"]

    sink = None
    if notary:
        from lianzheng.sdk.client import NotaryClient

        sink = NotaryClient(notary, api_key or None, retries=2)
    try:
        return ExpertDraw(RpcChain(rpc), contract, sink)
    except (ChainUnavailable, ValueError) as exc:
        fail(f"error: {exc}", 2)


def _load(what: str, path: Path):
    from lianzheng.rules.errors import RosterError
    from lianzheng.rules.experts.pool import Pool
    from lianzheng.rules.experts.registry import Registry
    from lianzheng.rules.experts.roster import load_plan

    loader = {"pool": Pool.load, "registry": Registry.load, "plan": load_plan}[what]
    try:
        return loader(path)
    except RosterError as exc:
        fail(f"error: {exc}", 2)


def _step(action):
    """Run a chain step; a refusal is one line and exit 1, never a traceback."""
    from lianzheng.rules.errors import RuleInputError
    from lianzheng.sdk.client import NotaryClientError

    try:
        return action()
    except RuleInputError as exc:
        fail(f"error: {exc}", 2)
    except RuleError as exc:
        fail(f"refused: {exc}")
    except NotaryClientError as exc:
        fail(f"error: the step is on chain but the notary refused it ({exc.code}): {exc.message}")


def _party(key_file: Path):
    from lianzheng.rules.experts.escrow import party_key

    acct = _account(key_file)
    return acct, party_key(acct.key)


@app.command("grant")
def grant(role: Annotated[str, typer.Option("--role", help="centre, supervisor, registrar or independent")],
          account: Annotated[str, typer.Option("--account", help="the account to grant the role")],
          region: Annotated[int, typer.Option("--region", help="GB/T 2260 code; a 2-digit province for registrar")] = 0,
          key_file: Annotated[Optional[Path], typer.Option("--key-file", help="the admin's key file; without it the "
                                                           "notary's operator grants (LIANZHENG_OPERATOR_KEY)")] = None,
          notary: Annotated[str, typer.Option("--url", envvar="LIANZHENG_URL", help="notary URL")] = "",
          operator_key: Annotated[str, typer.Option("--operator-key", envvar="LIANZHENG_OPERATOR_KEY",
                                                    help="the notary operator's API key")] = "",
                                                    rpc: Rpc = "", contract: Contract = "") -> None:
    """Grant a role (the admin): a region's centre or supervisor, a province's registrar, an independent party."""
    if role not in ("centre", "supervisor", "registrar", "independent"):
        fail("error: --role is centre, supervisor, registrar or independent", 2)
    if role != "independent" and not region:
        fail(f"error: --region is needed for the {role} role", 2)
    if key_file is None:
        if not (notary and operator_key):
            fail("error: give --key-file (the admin's key), or LIANZHENG_URL and LIANZHENG_OPERATOR_KEY", 2)
        from lianzheng.rules.tender.cli import _call

        _call("POST", notary, "/v1/experts/grants", operator_key,
              json={"role": role, "account": account, "region": region or None})
    else:
        rules, admin = _contract(rpc, contract), _account(key_file)
        actions = {"centre": lambda: rules.grant_centre(admin, region, account),
                   "supervisor": lambda: rules.grant_supervisor(admin, region, account),
                   "registrar": lambda: rules.grant_registrar(admin, region, account),
                   "independent": lambda: rules.grant_independent(admin, account)}
        try:
            actions[role]()
        except ValueError as exc:
            fail(f"error: --account: {exc}", 2)
        except RuleError as exc:
            fail(f"refused: {exc}")
    typer.echo(f"{account} is {role}" + (f" of {region}" if role != "independent" else ""))


@app.command("new-key")
def new_key(out: Annotated[Path, typer.Option("--out", help="account key file to create (0600)")]) -> None:
    """Create an account key file for a party, registrar or centre; prints its address."""
    from lianzheng.rules.cli_support import new_account_file

    typer.echo(new_account_file(out))


@app.command("party-key")
def party_key_cmd(key_file: KeyFile, rpc: Rpc = "", contract: Contract = "") -> None:
    """Register this account's X25519 key (derived from its account key), to which shares are sealed."""
    from lianzheng.rules.tender.crypto import public_bytes

    rules, (acct, key) = _contract(rpc, contract), _party(key_file)
    _step(lambda: rules.set_party_key(acct, key))
    typer.echo(f"{acct.address} seals to 0x{public_bytes(key).hex()}")


@app.command("registry")
def registry(roster: Annotated[Path, typer.Option("--roster", help="experts: JSON roster or CSV")],
             province: Annotated[str, typer.Option("--province", help="2-digit province code")],
             as_of: Annotated[str, typer.Option("--as-of", help="date of the registry (YYYY-MM-DD)")],
             out: Annotated[Path, typer.Option("--out", help="registry file to write (confidential)")],
             relations: Annotated[Optional[Path], typer.Option("--relations", help="relations CSV")] = None,
             history: Annotated[Optional[Path], typer.Option("--history", help="past draws CSV")] = None,
             penalties: Annotated[Optional[Path], typer.Option("--penalties", help="penalties CSV")] = None) -> None:
    """Build a province's registry file (专家库) and print its snapshot root (salted Merkle root)."""
    from lianzheng.rules.errors import RosterError
    from lianzheng.rules.experts.registry import Registry
    from lianzheng.rules.experts.roster import load_roster

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        fail("error: --as-of must be a date YYYY-MM-DD", 2)
    try:
        built = Registry.build(load_roster(roster, relations, history, penalties), province, day)
    except RosterError as exc:
        fail(f"error: {exc}", 2)
    built.save(out)
    typer.echo(f"registry of {built.size} experts of province {province}: root 0x{built.root.hex()}; wrote {out}")


@app.command("anchor")
def anchor(key_file: KeyFile,
           registry_file: Annotated[Path, typer.Option("--registry", help="registry file")],
           rpc: Rpc = "", contract: Contract = "") -> None:
    """Anchor the registry's snapshot on chain (the province's registrar)."""
    rules, built, registrar = _contract(rpc, contract), _load("registry", registry_file), _account(key_file)
    index = _step(lambda: rules.anchor_registry(registrar, built))
    typer.echo(f"snapshot {built.province}#{index}: root 0x{built.root.hex()}, {built.size} experts")


@app.command("draw")
def draw(key_file: KeyFile,
         plan_file: Annotated[Path, typer.Option("--plan", help="draw plan JSON (profile, strata …)")],
         party: Annotated[list[str], typer.Option("--party", help="seed party (3..8: the centre's a minority, "
                                                                  "≥ 1 supervisor, ≥ 1 independent)")],
         window: Annotated[int, typer.Option("--window", help="seconds for each phase")] = 3600,
         notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """Plan the draw of a section whose bids are opened (the host centre); prints the draw id."""
    rules, plan, centre = _contract(rpc, contract, notary, api_key), _load("plan", plan_file), _account(key_file)
    draw_id = _step(lambda: rules.create(centre, plan, party, window))
    typer.echo("0x" + draw_id.hex())


@app.command("pool")
def pool(key_file: KeyFile, draw_id: Draw,
         registry_file: Annotated[Path, typer.Option("--registry", help="this province's registry file")],
         plan_file: Annotated[Path, typer.Option("--plan", help="the draw plan JSON")],
         out: Annotated[Path, typer.Option("--out", help="pool file to write (confidential)")],
         notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """Build this province's pools (avoidance against the tender contract's bidders) and commit them."""
    from lianzheng.rules.errors import RosterError
    from lianzheng.rules.experts.pool import Pool

    rules, did, centre = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    built_registry, plan = _load("registry", registry_file), _load("plan", plan_file)
    view = rules.draw(did)
    if view.state == "none":
        fail(f"refused: no draw {draw_id}")
    with progress("avoidance against the bidders", None) as update:
        try:
            built = Pool.build(built_registry, rules.plan_for_draw(did, plan), rules.bidders(view.section_id))
        except RosterError as exc:
            fail(f"error: {exc}", 2)
        update(total=len(built.strata) + 1, completed=0)
        for done, sp in enumerate(built.strata):  # a salted Merkle tree per stratum: the long part
            update(description=f"stratum {sp.index}: root of {sp.size} experts", completed=done)
            sp.root  # noqa: B018 (cached on the pool)
        built.save(out)
        update(description=f"committing {len(built.strata)} strata on chain", completed=len(built.strata))
        _step(lambda: rules.commit_pools(centre, did, built))
    for sp in built.strata:
        typer.echo(f"stratum {sp.index} ({sp.stratum.speciality}, {sp.stratum.venue} {sp.stratum.scope}): "
                   f"{sp.size} eligible, {len(sp.excluded)} avoided; root 0x{sp.root.hex()}")
    typer.echo(f"wrote {out}")


@app.command("commit")
def commit(key_file: KeyFile, draw_id: Draw,
           secret_file: Annotated[Path, typer.Option("--secret-file", help="where to keep the secret until reveal")],
           notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """Deal a fresh secret as a seed party: commitments on chain, a share sealed to each other party."""
    if secret_file.exists():
        fail(f"error: {secret_file} exists; a draw needs a fresh secret", 2)
    rules, did, acct = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    import secrets as _secrets

    from lianzheng.rules.experts.escrow import R

    secret = 1 + _secrets.randbelow(R - 1)
    fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # kept before it is committed
    with os.fdopen(fd, "w") as f:
        json.dump({"draw": did.hex(), "party": acct.address, "secret": hex(secret)}, f)
    _step(lambda: rules.commit_seed(acct, did, secret))
    typer.echo(f"committed; keep {secret_file} until the reveal")


@app.command("acknowledge")
def acknowledge(key_file: KeyFile, draw_id: Draw,
                notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """Check the shares dealt to this party; acknowledge them, or complain (voids the draw, blind)."""
    rules, did, (acct, key) = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _party(key_file)
    dealer = _step(lambda: rules.acknowledge(acct, key, did))
    if dealer:
        fail(f"complained: the share {dealer} dealt does not check; the draw is void before any secret is known")
    typer.echo(f"acknowledged ({rules.draw(did).state})")


@app.command("reveal")
def reveal(key_file: KeyFile, draw_id: Draw,
           secret_file: Annotated[Path, typer.Option("--secret-file")],
           notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """Reveal this party's secret; the last secret known draws."""
    rules, did, acct = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    try:
        secret = int(json.loads(secret_file.read_text())["secret"], 16)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"error: cannot read the secret from {secret_file}: {exc}", 2)
    _step(lambda: rules.reveal_seed(acct, did, secret))
    _print_outcome(rules, did)


@app.command("publish-share")
def publish_share(key_file: KeyFile, draw_id: Draw,
                  dealer: Annotated[str, typer.Option("--dealer", help="the party that withheld its secret")],
                  notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """After the reveal window: publish the share a withholder dealt this party (threshold of them recover it)."""
    rules, did, (acct, key) = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _party(key_file)
    try:
        _step(lambda: rules.publish_share(acct, key, did, dealer))
    except ValueError as exc:
        fail(f"error: --dealer: {exc}", 2)
    _print_outcome(rules, did)


def _print_outcome(rules, did: bytes) -> None:
    view = rules.draw(did)
    if view.state != "drawn":
        typer.echo(f"{view.state}: {view.progress} of {view.parties} secrets known")
        return
    for s in rules.strata(did):
        typer.echo(f"drawn: stratum {s.index} positions {rules.positions(did, s.index)[0]}")


@app.command("void")
def void(key_file: KeyFile, draw_id: Draw,
         notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """Void a draw whose window passed with someone missing (anyone may); names the defaulters."""
    rules, did, acct = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    phase, defaulters = _step(lambda: rules.void(acct, did))
    typer.echo(f"voided in the {phase} phase; defaulted: {', '.join(defaulters) or 'none'}")


@app.command("sign-replacement")
def sign_replacement(key_file: KeyFile, draw_id: Draw, stratum: Stratum,
                     ordinal: Ordinal, reason: Reason, rpc: Rpc = "", contract: Contract = "") -> None:
    """A supervisor co-signs one replacement (prints the signature for `replace`)."""
    rules, did, supervisor = _contract(rpc, contract), _draw_id(draw_id), _account(key_file)
    typer.echo("0x" + _step(lambda: rules.sign_replacement(supervisor, did, stratum, ordinal, reason)).hex())


@app.command("replace")
def replace(key_file: KeyFile, draw_id: Draw, stratum: Stratum, ordinal: Ordinal,
            reason: Reason,
            signature: Annotated[str, typer.Option("--signature", help="the supervisor's co-signature (0x…)")],
            notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """Replace a drawn expert (the centre, with a supervisor's co-signature): the stratum's next position."""
    rules, did, centre = _contract(rpc, contract, notary, api_key), _draw_id(draw_id), _account(key_file)
    try:
        sig = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        fail("error: --signature must be hex", 2)
    position = _step(lambda: rules.replace(centre, did, stratum, ordinal, reason, sig))
    typer.echo(f"alternate at position {position} ({rules.draw(did).replacements} replacements in this draw)")


@app.command("status")
def status(draw_id: Draw, rpc: Rpc = "", contract: Contract = "") -> None:
    """A draw's state, parties, strata and drawn positions (no names: those stay off chain)."""
    rules, did = _contract(rpc, contract), _draw_id(draw_id)
    view = rules.draw(did)
    if view.state == "none":
        fail(f"no draw {draw_id} in contract {contract}")
    typer.echo(f"{view.state}: round {view.round}, {view.parties} parties (threshold {view.threshold}), "
               f"{view.replacements} replacements")
    withheld = set(rules.withheld(did))
    for p in rules.parties(did):
        state = ("withheld, recovered" if p.address in withheld else "revealed" if p.known else
                 "acknowledged" if p.acknowledged else "committed" if p.committed else "-")
        typer.echo(f"party {p.address}: {state}")
    pools = rules.pools(did)
    for s in rules.strata(did):
        drawn, replaced = rules.positions(did, s.index)
        size = pools[s.index].size if s.index in pools else "-"
        marks = [f"{p}{'*' if i in replaced else ''}" for i, p in enumerate(drawn)]
        typer.echo(f"stratum {s.index} {s.speciality} {s.venue} {s.scope}: quota {s.quota} of {size}; "
                   f"positions [{', '.join(marks)}]")


@app.command("reveal-expert")
def reveal_expert(key_file: KeyFile, draw_id: Draw, pool_file: PoolFile,
                  stratum: Stratum, ordinal: Ordinal,
                  out: Annotated[Path, typer.Option("--out", help="reveal file for the entitled person")],
                  notary: Notary = None, api_key: ApiKey = "", rpc: Rpc = "", contract: Contract = "") -> None:
    """Write a drawn expert's identity with its Merkle proof (checked by the contract)."""
    rules, did = _contract(rpc, contract, notary, api_key), _draw_id(draw_id)
    built, centre = _load("pool", pool_file), _account(key_file)
    shown = _step(lambda: rules.reveal_expert(centre, did, stratum, ordinal, built))
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(shown, f, ensure_ascii=False)
    typer.echo(f"stratum {stratum} #{ordinal}: {shown['expert']['id']} at position {shown['position']}; wrote {out}")


@app.command("check-expert")
def check_expert(
                 reveal_file: Annotated[Path, typer.Argument(help="file written by `experts reveal-expert`")],
                 rpc: Rpc = "", contract: Contract = "") -> None:
    """For the entitled person: is this expert really the one drawn? Checked on chain."""
    from lianzheng.rules.experts.pool import leaf_of
    from lianzheng.rules.experts.roster import Expert

    try:
        shown = json.loads(reveal_file.read_text(encoding="utf-8"))
        did, leaf = bytes.fromhex(shown["draw_id"]), bytes.fromhex(shown["leaf"])
        proof = [bytes.fromhex(p) for p in shown["proof"]]
        who, stratum, ordinal = shown["expert"], int(shown["stratum"]), int(shown["ordinal"])
        recomputed = leaf_of(bytes.fromhex(shown["salt"]), Expert.model_construct(id=who["id"], name=who["name"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"error: {reveal_file} is not a reveal file: {exc}", 2)
    rules = _contract(rpc, contract)
    if recomputed != leaf:
        fail(f"FAILED: the leaf is not {who['id']} {who['name']} with this salt")
    if not rules.check_expert(did, stratum, ordinal, leaf, proof):
        fail(f"FAILED: the contract does not accept {who['id']} as drawn expert #{ordinal} of stratum {stratum}")
    typer.echo(f"verified: {who['id']} {who['name']} is drawn expert #{ordinal} of stratum {stratum} "
               f"of draw 0x{did.hex()}")


@app.command("verify")
def verify(draw_id: Draw,
           pool_files: Annotated[list[Path], typer.Option("--pool-file", help="pool file(s) of the provinces "
                                                                              "whose names to check")],
           partial: Annotated[bool, typer.Option("--partial", help="check only the given provinces' pools "
                                                                   "(cross-province draws)")] = False,
                                                                   rpc: Rpc = "", contract: Contract = "") -> None:
    """Check snapshot → pool → avoidance → seed → positions → names against the chain; exit 0 when all match."""
    from lianzheng.rules.experts.verify import verify_draw

    rules, did = _contract(rpc, contract), _draw_id(draw_id)
    built = [_load("pool", p) for p in pool_files]
    try:
        result = verify_draw(rules, did, built, partial)
    except RuleError as exc:
        fail(f"error: {exc}", 2)
    for check in result.checks:
        typer.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    for e in result.experts:
        typer.echo(f"stratum {e.stratum} #{e.ordinal} position {e.position}: {e.expert.id} {e.expert.name}"
                   f"{' (replaced)' if e.replaced else ''}")
    if not result.ok:
        failed = [c.name for c in result.checks if not c.ok]
        fail(f"FAILED: the on-chain draw does not match the inputs ({', '.join(failed)})")
    typer.echo("verified: the on-chain draw matches the registry, the plan and the pool files")
