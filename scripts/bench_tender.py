"""``scripts/bench tender``: gas per commitment and per revealed bid for 3, 30 and 300 bidders.

Measured on the embedded EVM (gas is the same on any EVM at the same fork). The cost of one
bid must not grow with the number of bidders: the last column is the ratio to the 3-bidder
section, measured in the same run.
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from eth_account import Account
from lianzheng.chain_node.embedded import EmbeddedChain
from lianzheng.rules.tender.contract import SealedBid, TenderRules


def _section_gas(rules: TenderRules, centre, relayer, chain: EmbeddedChain, bidders: int, name: str):
    keys = [Account.create() for _ in range(bidders)]
    ids = [os.urandom(32) for _ in range(bidders)]
    for bid_id, key in zip(ids, keys):
        rules.register_bidder(centre, 370000, bid_id, key.address)
    latest = chain.block_time()
    deadline = max(latest, int(time.time())) + 10 * bidders + 100
    section = rules.open_section(centre, 370000, "BENCH", name, deadline, 3600)
    bids = [SealedBid(os.urandom(32), os.urandom(32), os.urandom(32)) for _ in range(bidders)]
    commit_gas = []
    for i in range(bidders):
        message = rules.sign_commitment(keys[i], section, ids[i], bids[i].commitment(section, ids[i]), 1)
        commit_gas.append(rules.relay(relayer, message).gas_used)
    chain.set_next_block_time(deadline)
    rules.start_opening(centre, section)
    reveal_gas = []
    for i in range(bidders):
        call = rules.contract.tx("revealBid", section, ids[i], bids[i].file_hash, bids[i].salt,
                                                  bids[i].fingerprint)
        reveal_gas.append(chain.transact(centre, call, gas=500_000).gas_used)
    return statistics.mean(commit_gas), statistics.mean(reveal_gas), max(reveal_gas)


def run() -> None:
    chain = EmbeddedChain(Path(tempfile.mkdtemp(prefix="lz-bench-tender-")))
    dev = chain.dev
    admin, centre, relayer = (Account.create() for _ in range(3))
    for a in (admin, centre, relayer):
        chain.transfer(dev, a.address, 10**22)
    rules = TenderRules.deploy(chain, admin)
    rules.grant_centre(admin, 370000, centre.address)
    print("lianzheng bench tender — gas per bid (embedded EVM)")
    print(f"  {'bidders':>7}  {'commit (mean)':>13}  {'reveal (mean)':>13}  {'reveal (max)':>12}  {'vs 3 bidders':>12}")
    base = None
    for n in (3, 30, 300):
        commit, reveal, reveal_max = _section_gas(rules, centre, relayer, chain, n, f"S{n}")
        base = base or (commit, reveal)
        print(f"  {n:>7}  {commit:>13,.0f}  {reveal:>13,.0f}  {reveal_max:>12,}  "
              f"{commit / base[0]:>5.3f} / {reveal / base[1]:.3f}")
    chain.close()
