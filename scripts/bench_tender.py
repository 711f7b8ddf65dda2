"""``scripts/bench tender``: gas per opened bid for 3, 30 and 300 bidders, and the time to open them.

A whole section on the embedded EVM (gas is the same on any EVM at the same fork): bidders
registered, bid files sealed under 3 key holders (2 needed), the box sealed at the deadline,
two holders release, then every bid is decrypted and opened against the sealed root. The cost
of opening one bid must not grow with the number of bidders (only its inclusion proof grows,
by log2 n hashes): the ratio column compares with the 3-bidder section of the same run.
"""
from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from eth_account import Account

from lianzheng.chain_node.embedded import EmbeddedChain
from lianzheng.rules.tender import sealing
from lianzheng.rules.tender.box import SealedBox
from lianzheng.rules.tender.crypto import HolderKey, new_holder_key, public_bytes
from lianzheng.rules.tender.opening import decrypt_entry, open_my_shares, release_digest
from lianzheng.rules.tender.sealing import BoxEntry
from lianzheng.rules.tender.sections import Identity, Opening, Profile, TenderSections
from lianzheng.sdk.cli.support import progress

REGION = 370000
FILE_SIZE = 256 * 1024


def _section(rules: TenderSections, chain: EmbeddedChain, centre, holders, n: int) -> dict[str, float]:
    keys, ids = [Account.create() for _ in range(n)], [os.urandom(32) for _ in range(n)]
    for bidder_id, key in zip(ids, keys):
        rules.register_bidder(centre, REGION, bidder_id, os.urandom(32), key.address)
    holder_keys = [HolderKey(a.address, public_bytes(x)) for a, x in holders]
    deadline = max(chain.block_time(), int(time.time())) + 3600
    section_id = rules.open_section(centre, REGION, "BENCH", f"S{n}-{os.urandom(2).hex()}", "bench", deadline,
                                    holder_keys, 2)
    box, domain, signal_key = SealedBox(section_id, rules.domain()), rules.domain(), os.urandom(32)
    started = time.perf_counter()
    sealed, signals = [], []
    for bidder_id, key in zip(ids, keys):
        clear = b"%PDF-1.7\n" + os.urandom(FILE_SIZE)
        bid = sealing.sign(sealing.seal(clear, section_id, bidder_id, holder_keys, 2), key, domain)
        raw = sealing.keyed_signals(sealing.raw_signals(clear, sealing.Observed()), signal_key)
        box.add(BoxEntry(section_id, bid.pseudonym, bid.cipher_hash, bid.clear_commitment, bid.seal_hash,
                         sealing.signals_hash_of(raw), chain.block_time()), centre)
        sealed.append(bid)
        signals.append(raw)
    seal_seconds = time.perf_counter() - started
    chain.set_next_block_time(deadline)
    seal_gas = chain.transact(centre, rules.contract.tx("sealBox", section_id, len(box), box.root())).gas_used
    released = []
    for account, x25519 in holders[:2]:
        pairs = [(bid.pseudonym, bid.shares[account.address]) for bid in sealed]
        shares = open_my_shares(x25519, account.address, section_id, pairs, "aes-128-gcm")
        rules.release_shares(account, section_id, release_digest(shares))
        released.append(shares)
    started, gas = time.perf_counter(), []
    for index, bid in enumerate(sealed):
        decrypted = decrypt_entry(bid.ciphertext, section_id, bid.cipher, [r[index] for r in released], 2)
        identity = Identity(bid.bidder_id, bid.pseudonym_salt, bid.signature, bid.shares_hash, bid.version)
        opening = Opening(identity, decrypted.file_key, hashlib.sha256(decrypted.clear).digest(), bid.clear_salt,
                          tuple(signals[index]))
        call = rules.contract.tx("openBid", section_id, index, box.entries[index].as_tuple(), box.inclusion(index),
                                 opening.as_tuple())
        gas.append(chain.transact(centre, call, gas=800_000).gas_used)
    open_seconds = time.perf_counter() - started
    close_gas = chain.transact(centre, rules.contract.tx("closeOpening", section_id)).gas_used
    assert rules.section(section_id).valid == n, "every bid must open as valid"
    return {"open_mean": statistics.mean(gas), "open_max": max(gas), "seal_gas": seal_gas, "close_gas": close_gas,
            "open_seconds": open_seconds, "seal_seconds": seal_seconds}


def run() -> None:
    chain = EmbeddedChain(Path(tempfile.mkdtemp(prefix="lz-bench-tender-")))
    admin, centre = Account.create(), Account.create()
    holders = [(Account.create(), new_holder_key()) for _ in range(3)]
    for account in (admin, centre, *(a for a, _ in holders)):
        chain.fund(account.address, 10**22)
    rules = TenderSections.deploy(chain, admin, profiles={})
    rules.set_profile(admin, "bench", Profile(min_bidding_period=0, opening_grace=86_400, seal_window=300,
                                              min_bidders=3))
    rules.grant_centre(admin, REGION, centre.address)
    for account, x25519 in holders:  # named by the rules admin, each registering its own key
        rules.grant_holder(admin, account.address)
        rules.set_holder_key(admin, account.address, public_bytes(x25519),
                             rules.sign_holder_key(account, public_bytes(x25519)))
    print(f"lianzheng bench tender — a whole section on the embedded EVM ({FILE_SIZE // 1024} KiB bid files, "
          "2 of 3 key holders)")
    print(f"  {'bidders':>7}  {'open gas (mean)':>15}  {'(max)':>8}  {'vs 3':>5}  {'seal box':>9}  "
          f"{'close':>8}  {'seal files s':>12}  {'open all s':>10}  {'per bid ms':>10}")
    base = None
    for n in (3, 30, 300):
        with progress(f"a section of {n} bidders", None):
            r = _section(rules, chain, centre, holders, n)
        base = base or r["open_mean"]
        print(f"  {n:>7}  {r['open_mean']:>15,.0f}  {r['open_max']:>8,}  {r['open_mean'] / base:>5.2f}  "
              f"{r['seal_gas']:>9,}  {r['close_gas']:>8,}  {r['seal_seconds']:>12.2f}  {r['open_seconds']:>10.2f}  "
              f"{1000 * r['open_seconds'] / n:>10.1f}")
    chain.close()
