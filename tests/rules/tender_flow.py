"""A tender of TenderRules driven from Python for the tests: centre, holders, bidders, the box."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from eth_account import Account

from lianzheng.rules.tender import sealing
from lianzheng.rules.tender.box import BoxReceipt, SealedBox
from lianzheng.rules.tender.crypto import HolderKey, new_holder_key, public_bytes
from lianzheng.rules.tender.opening import decrypt_entry, open_my_shares, release_digest
from lianzheng.rules.tender.sealing import BoxEntry
from lianzheng.rules.tender.sections import DAY, Identity, Opening, Profile, TenderSections

REGION = 370000
TEST_PROFILE = Profile(min_bidding_period=0, opening_grace=1800, seal_window=300, min_bidders=3)


@dataclass
class Holder:
    account: object
    x25519: object

    @property
    def key(self) -> HolderKey:
        return HolderKey(self.account.address, public_bytes(self.x25519))


@dataclass
class Bidder:
    bidder_id: bytes
    key: object
    file: bytes
    observed: sealing.Observed = field(default_factory=sealing.Observed)


@dataclass
class Tender:
    rules: TenderSections
    admin: object
    centre: object
    holders: list[Holder]
    bidders: list[Bidder]
    signal_key: bytes = field(default_factory=lambda: os.urandom(32))
    section_id: bytes = b""
    box: SealedBox | None = None
    sealed: dict[int, sealing.SealedBid] = field(default_factory=dict)
    raw: dict[int, list[bytes]] = field(default_factory=dict)
    receipts: dict[int, BoxReceipt] = field(default_factory=dict)

    @property
    def chain(self):
        return self.rules.chain

    def open(self, deadline_in: int = 3600, threshold: int = 2, profile: str = "test") -> bytes:
        deadline = max(self.chain.block_time(), int(__import__("time").time())) + deadline_in
        self.section_id = self.rules.open_section(self.centre, REGION, "P-2026-7", f"S{os.urandom(3).hex()}", profile,
                                                  deadline, [h.key for h in self.holders], threshold)
        self.box = SealedBox(self.section_id, self.rules.domain())
        return self.section_id

    def submit(self, bidder: Bidder, cipher: str = "aes-128-gcm") -> int:
        info = self.rules.section(self.section_id)
        bid = sealing.seal(bidder.file, self.section_id, bidder.bidder_id, [h.key for h in self.holders],
                           info.threshold, cipher)
        sealing.sign(bid, bidder.key, self.rules.domain())
        signals = sealing.keyed_signals(sealing.raw_signals(bidder.file, bidder.observed), self.signal_key)
        entry = BoxEntry(self.section_id, bid.pseudonym, bid.cipher_hash, bid.clear_commitment, bid.seal_hash,
                         sealing.signals_hash_of(signals), self.chain.block_time())
        index = len(self.box)
        self.receipts[index] = self.box.add(entry, self.centre)
        self.sealed[index] = bid
        self.raw[index] = signals
        return index

    def at_deadline(self) -> None:
        self.chain.set_next_block_time(self.rules.section(self.section_id).deadline)

    def seal(self) -> str:
        return self.rules.seal_box(self.centre, self.section_id, len(self.box), self.box.root())

    def release(self, holder: Holder) -> list[bytes]:
        pairs = [(self.box.entries[i].pseudonym, self.sealed[i].shares.get(holder.account.address))
                 for i in range(len(self.box))]
        shares = open_my_shares(holder.x25519, holder.account.address, self.section_id, pairs,
                                self.sealed[0].cipher if self.sealed else "aes-128-gcm")
        self.rules.release_shares(holder.account, self.section_id, release_digest(shares))
        return shares

    def identity_of(self, index: int) -> Identity:
        bid = self.sealed[index]
        return Identity(bid.bidder_id, bid.pseudonym_salt, bid.signature, bid.shares_hash, bid.version)

    def opening_of(self, index: int, file_key: bytes, clear_hash: bytes | None = None) -> Opening:
        bid = self.sealed[index]
        return Opening(self.identity_of(index), file_key, clear_hash if clear_hash is not None else bid.clear_hash,
                       bid.clear_salt, tuple(self.raw[index]))

    def mark_undecryptable(self, index: int) -> str:
        return self.rules.mark_undecryptable(self.centre, self.section_id, index, self.box.entries[index],
                                             self.box.inclusion(index), self.identity_of(index),
                                             self.sealed[index].file_key_hash)

    def open_bid(self, index: int, released: list[list[bytes]], opener=None) -> str:
        bid, info = self.sealed[index], self.rules.section(self.section_id)
        decrypted = decrypt_entry(bid.ciphertext, self.section_id, bid.cipher, [r[index] for r in released],
                                  info.threshold)
        opening = self.opening_of(index, decrypted.file_key, hashlib.sha256(decrypted.clear).digest())
        return self.rules.open_bid(opener or self.centre, self.section_id, index, self.box.entries[index],
                                   self.box.inclusion(index), opening)


def register_holder(rules: TenderSections, admin, holder: Holder) -> None:
    rules.grant_holder(admin, holder.account.address)
    key = public_bytes(holder.x25519)
    rules.set_holder_key(admin, holder.account.address, key, rules.sign_holder_key(holder.account, key))


def deploy_tender(chain, funded, n_bidders: int = 4, n_holders: int = 3, notary=None, journal=None) -> Tender:
    admin, centre = funded(), funded()
    rules = TenderSections.deploy(chain, admin, notary, journal, profiles={})
    rules.set_profile(admin, "test", TEST_PROFILE)
    rules.set_profile(admin, "engineering", Profile(20 * DAY, 1800, 300, 3))
    rules.grant_centre(admin, REGION, centre.address)
    holders = [Holder(funded(), new_holder_key()) for _ in range(n_holders)]
    for h in holders:  # named by the rules admin, each registering its own key
        register_holder(rules, admin, h)
    bidders = []
    for i in range(n_bidders):
        key = Account.create()
        bidder_id = hashlib.sha256(f"91370000MA{i:08d}".encode()).digest()
        rules.register_bidder(centre, REGION, bidder_id, hashlib.sha256(b"CA cert " + bytes([i])).digest(),
                              key.address)
        bidders.append(Bidder(bidder_id, key, b"%PDF-1.4 bid of bidder " + bytes([i]) + os.urandom(64)))
    return Tender(rules, admin, centre, holders, bidders)
