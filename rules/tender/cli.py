"""``lianzheng tender ...``: the tender rules from the command line.

Accounts are hex private-key files (mode 0600), as the notary's own ``chain.key``.
``audit`` needs no key at all: it re-reads everything from the chain.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from lianzheng.rules.cli_support import account as _account
from lianzheng.rules.cli_support import bytes32 as _bytes32
from lianzheng.rules.errors import RuleError
from lianzheng.sdk.cli.support import fail

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Tender rules: bid deadline and bid-file consistency (投标截止时间判断, 投标文件一致性判断)")

Rpc = Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of the chain")]
Contract = Annotated[str, typer.Option("--contract", help="TenderRules address")]
KeyFile = Annotated[Path, typer.Option("--key-file", help="hex private key file of the acting account")]
Section = Annotated[str, typer.Option("--section", help="section id (0x…)")]


def _rules(rpc: str, contract: str):
    from lianzheng.chain_node import ChainUnavailable
    from lianzheng.chain_node.rpc import RpcChain
    from lianzheng.rules.tender.contract import TenderRules

    try:
        return TenderRules(RpcChain(rpc), contract)
    except (ChainUnavailable, ValueError) as exc:
        fail(f"error: {exc}", 2)


@app.command("open")
def open_section(rpc: Rpc, contract: Contract, key_file: KeyFile,
                 region: Annotated[int, typer.Option("--region")],
                 project: Annotated[str, typer.Option("--project")],
                 section: Annotated[str, typer.Option("--section-code")],
                 deadline: Annotated[int, typer.Option("--deadline", help="Unix seconds")],
                 window: Annotated[int, typer.Option("--opening-window", help="seconds")] = 3600) -> None:
    """Open a section (centre only); prints its id."""
    try:
        typer.echo("0x" + _rules(rpc, contract).open_section(_account(key_file), region, project, section,
                                                               deadline, window).hex())
    except RuleError as exc:
        fail(f"refused: {exc}")


@app.command("register-bidder")
def register_bidder(rpc: Rpc, contract: Contract, key_file: KeyFile,
                    region: Annotated[int, typer.Option("--region")],
                    credit_code: Annotated[str, typer.Option("--credit-code", help="统一社会信用代码 (18 chars)")],
                    bidder_key: Annotated[str, typer.Option("--bidder-address", help="the bidder's signing account")]
                    ) -> None:
    """Register a bidder (centre only, after its CA certificate was checked); prints its id."""
    from lianzheng.rules.tender.contract import bidder_id

    try:
        bid = bidder_id(credit_code)
    except ValueError as exc:
        fail(f"error: {exc}", 2)
    try:
        _rules(rpc, contract).register_bidder(_account(key_file), region, bid, bidder_key)
    except RuleError as exc:
        fail(f"refused: {exc}")
    typer.echo("0x" + bid.hex())


@app.command("withdraw")
def withdraw(rpc: Rpc, contract: Contract, key_file: KeyFile, section: Section,
             bidder_key_file: Annotated[Path, typer.Option("--bidder-key-file")],
             bidder: Annotated[str, typer.Option("--bidder", help="bidder id (0x…)")],
             nonce: Annotated[int, typer.Option("--nonce", help="above the bidder's last nonce in this section")]
             ) -> None:
    """Sign a withdrawal as the bidder and relay it (before the deadline only)."""
    rules, section_id, bidder_id = _rules(rpc, contract), _bytes32(section, "--section"), _bytes32(bidder, "--bidder")
    message = rules.sign_withdrawal(_account(bidder_key_file), section_id, bidder_id, nonce)
    try:
        outcome = rules.relay(_account(key_file), message)
    except RuleError as exc:
        fail(f"refused: {exc}")
    typer.echo(f"withdrawn in block {outcome.block_number}, tx {outcome.tx_hash}")


@app.command("status")
def status(rpc: Rpc, contract: Contract, section: Section) -> None:
    """A section's state and counts, and its collusion flags."""
    rules, section_id = _rules(rpc, contract), _bytes32(section, "--section")
    view = rules.section(section_id)
    if view.state == "none":
        fail(f"no section {section} in contract {contract}")
    typer.echo(f"{view.state}: deadline {view.deadline}, {view.active_bids} bids in force, "
               f"{view.valid_bids} valid, {view.inconsistent_bids} inconsistent")
    for flag in rules.flags(section_id):
        typer.echo(f"FLAG {flag.kind} 0x{flag.first_bidder.hex()} 0x{flag.second_bidder.hex()}")


@app.command("commit")
def commit(rpc: Rpc, contract: Contract, key_file: KeyFile, section: Section,
           bidder_key_file: Annotated[Path, typer.Option("--bidder-key-file")],
           bidder: Annotated[str, typer.Option("--bidder", help="bidder id (0x…)")],
           file: Annotated[Path, typer.Option("--file", help="the bid file: only its hash is used")],
           nonce: Annotated[int, typer.Option("--nonce")] = 1,
           sealed_out: Annotated[Optional[Path], typer.Option("--sealed-out")] = None) -> None:
    """Sign a commitment as the bidder and relay it; keeps file hash and salt for opening."""
    from lianzheng.rules.tender.contract import SealedBid
    from lianzheng.sdk.documents import file_sha256

    rules, section_id, bidder_id = _rules(rpc, contract), _bytes32(section, "--section"), _bytes32(bidder, "--bidder")
    sealed = SealedBid(bytes.fromhex(file_sha256(file)), os.urandom(32))
    message = rules.sign_commitment(_account(bidder_key_file), section_id, bidder_id,
                                    sealed.commitment(section_id, bidder_id), nonce)
    try:
        outcome = rules.relay(_account(key_file), message)
    except RuleError as exc:
        fail(f"refused: {exc}")
    target = sealed_out or file.with_name(file.name + ".sealed.json")
    target.write_text(json.dumps({"section": section_id.hex(), "bidder": bidder_id.hex(),
                                  "file_hash": sealed.file_hash.hex(), "salt": sealed.salt.hex()}) + "\n")
    os.chmod(target, 0o600)
    typer.echo(f"committed in block {outcome.block_number}, tx {outcome.tx_hash}; keep {target} secret until opening")


@app.command("start-opening")
def start_opening(rpc: Rpc, contract: Contract, key_file: KeyFile, section: Section) -> None:
    """Start opening (开标): centre only, at or after the deadline."""
    try:
        outcome = _rules(rpc, contract).start_opening(_account(key_file), _bytes32(section, "--section"))
    except RuleError as exc:
        fail(f"refused: {exc}")
    typer.echo(f"opening started in block {outcome.block_number}")


@app.command("reveal")
def reveal(rpc: Rpc, contract: Contract, key_file: KeyFile,
           sealed: Annotated[Path, typer.Option("--sealed", help="file written by `tender commit`")]) -> None:
    """Reveal an opened bid; prints valid or inconsistent."""
    from lianzheng.rules.tender.contract import SealedBid

    data = json.loads(sealed.read_text())
    bid = SealedBid(bytes.fromhex(data["file_hash"]), bytes.fromhex(data["salt"]))
    try:
        state = _rules(rpc, contract).reveal(_account(key_file), bytes.fromhex(data["section"]),
                                             bytes.fromhex(data["bidder"]), bid)
    except RuleError as exc:
        fail(f"refused: {exc}")
    typer.echo(state)


@app.command("close")
def close(rpc: Rpc, contract: Contract, key_file: KeyFile, section: Section) -> None:
    """Close opening: the section fails with fewer than three valid bids, else proceeds."""
    try:
        view = _rules(rpc, contract).close_opening(_account(key_file), _bytes32(section, "--section"))
    except RuleError as exc:
        fail(f"refused: {exc}")
    typer.echo(f"{view.state}: {view.valid_bids} valid bids")


@app.command("audit")
def audit_section(rpc: Rpc, contract: Contract, section: Section) -> None:
    """Re-read a section from the chain: timeline, valid and invalid bids, collusion flags."""
    from lianzheng.rules.tender.audit import audit

    try:
        timeline, summary = audit(rpc, contract, _bytes32(section, "--section"))
    except Exception as exc:  # noqa: BLE001 - an unreachable node or a wrong address: say so, no traceback
        fail(f"error: cannot read the section from {rpc}: {exc}", 2)
    if not timeline:
        fail(f"no section {section} in contract {contract}")
    for entry in timeline:
        typer.echo(entry.line())
    for line in summary:
        typer.echo(line)
