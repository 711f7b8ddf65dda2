"""The notary's tender desk: its region's centre on the tender contract, and the sealed boxes.

Trading systems of the region drive tenders over HTTP; the desk acts on chain with the
notary's account (the region's centre on the contract it serves). A section belongs to the
writer key that opened it: only that key acts on it over HTTP (the contract, in turn, lets only
the notary's account act on it on chain). Before the deadline bids go into the section's
sealed box here, nothing reaches the chain or the public log (``rules.tender.box``); the
bidder gets the notary-signed receipt of its entry at once. The notary is one of the key
holders: it releases its shares itself when the box is sealed.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from lianzheng.notary.errors import Forbidden, InvalidEvent, NotaryError, NotFound, WrongState
from lianzheng.notary.tender_store import TenderStore
from lianzheng.rules.errors import RuleRejected
from lianzheng.rules.tender import sealing
from lianzheng.rules.tender.box import SealedBox
from lianzheng.rules.tender.crypto import CIPHERS, SealError, open_share, public_bytes
from lianzheng.rules.tender.crypto import decrypt as crypto_decrypt
from lianzheng.rules.tender.opening import decrypt_entry, open_my_shares, release_digest
from lianzheng.rules.tender.sealing import BoxEntry
from lianzheng.rules.tender.sections import Identity, Opening, TenderSections


class BidRefused(NotaryError):
    """The desk refused a bid submission (recorded, and published with the box at the seal)."""

    code = "bid_refused"


class NotYet(WrongState):
    """The step's time has not come (the deadline, the seal)."""

    code = "not_yet"


def load_or_create_holder_key(path: Path) -> X25519PrivateKey:
    """The notary's X25519 key as a holder of bid-file key shares (0600 PEM, made on first start)."""
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), None)  # type: ignore[return-value]
    key = X25519PrivateKey.generate()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise InvalidEvent(f"{what} is not base64", field=what) from exc


def _hex32(text: str, what: str) -> bytes:
    try:
        value = bytes.fromhex(str(text).removeprefix("0x"))
    except ValueError:
        value = b""
    if len(value) != 32:
        raise InvalidEvent(f"{what} must be 32 bytes of hex", field=what)
    return value


@dataclass
class TenderDesk:
    rules: TenderSections
    centre: LocalAccount
    region: int
    store: TenderStore
    holder_key: X25519PrivateKey
    cipher: str = "aes-128-gcm"
    _boxes: dict[bytes, SealedBox] = field(default_factory=dict)

    # --- sections ----------------------------------------------------------------------------

    def _owned(self, writer: str, section_id: bytes) -> None:
        row = self.store.section(section_id.hex())
        if row is None:
            raise NotFound(f"no section 0x{section_id.hex()} at this desk")
        if row.owner != writer:
            raise Forbidden(f"section 0x{section_id.hex()} belongs to the key that opened it")

    def enrol(self) -> None:
        """The notary as a key holder: named (when it is the rules admin) and its key on chain."""
        mine = public_bytes(self.holder_key)
        if bytes(self.rules.contract.read("holderKeyOf", self.centre.address)) == mine:
            return
        try:
            self.register_holder(self.centre.address, mine, self.rules.sign_holder_key(self.centre, mine))
        except RuleRejected:
            pass  # not the rules admin: the notary holds no shares until the admin names it

    def register_holder(self, account: str, key: bytes, signature: bytes) -> None:
        """Name ``account`` a key holder and register the X25519 key it signed for."""
        self.rules.grant_holder(self.centre, account)
        self.rules.set_holder_key(self.centre, account, key, signature)

    def open_section(self, writer: str, project: str, section: str, profile: str, deadline: int,
                     holders: list[str], threshold: int) -> bytes:
        """Open a section owned by ``writer``; its holders' keys are the ones they registered on
        chain, and the notary is always one of them."""
        accounts = list(dict.fromkeys(to_checksum_address(a) for a in [*holders, self.centre.address]))
        keys = [self.rules.holder_key(a) for a in accounts]
        section_id = self.rules.section_id(self.region, project, section)
        if self.store.section(section_id.hex()) is None:  # recorded first: a retry finds the owner
            published = [{"account": h.account, "x25519": h.public_key.hex()} for h in keys]
            self.store.add_section(section_id.hex(), writer, os.urandom(32), json.dumps(published))
        else:
            self._owned(writer, section_id)
        self.rules.open_section(self.centre, self.region, project, section, profile, deadline, keys, threshold)
        return section_id

    def extend_deadline(self, writer: str, section_id: bytes, deadline: int, reason: str) -> dict[str, Any]:
        self._owned(writer, section_id)
        outcome = self.rules.extend_deadline(self.centre, section_id, deadline, reason)
        return {"deadline": deadline, "tx_hash": outcome.tx_hash}

    def register_bidder(self, bidder_id: bytes, ca_cert_hash: bytes, key: str) -> None:
        self.rules.register_bidder(self.centre, self.region, bidder_id, ca_cert_hash, key)

    def rotate_bidder_key(self, bidder_id: bytes, key: str) -> None:
        self.rules.rotate_bidder_key(self.centre, self.region, bidder_id, key)

    def revoke_bidder(self, bidder_id: bytes) -> None:
        self.rules.revoke_bidder(self.centre, self.region, bidder_id)

    def _in_state(self, section_id: bytes, state: str):
        info = self.rules.section(section_id)
        if info.state != state:
            raise WrongState(f"section 0x{section_id.hex()} is {info.state}, not {state}", state=info.state)
        return info

    def _box(self, section_id: bytes) -> SealedBox:
        box = self._boxes.get(section_id)
        if box is None:
            entries = [BoxEntry.from_json(json.loads(i.entry_json)) for i in self.store.entries(section_id.hex())]
            box = self._boxes[section_id] = SealedBox(section_id, self.rules.domain(), entries)
        return box

    # --- bids, before the deadline ---------------------------------------------------------------

    def submit(self, section_id: bytes, s: dict[str, Any]) -> dict[str, Any]:
        """A sealed bid into the box: checked, recorded, answered with the notary-signed receipt.
        The bidder's signature authenticates it: a bidder submits directly or through a trading
        system, which relays what it cannot read (who bids travels sealed to the notary)."""
        if self.store.section(section_id.hex()) is None:
            raise NotFound(f"no section 0x{section_id.hex()} at this desk")
        info = self.rules.section(section_id)
        if info.state != "bidding":
            raise BidRefused(f"section 0x{section_id.hex()} takes no bids ({info.state})")
        # On the chain's clock, which judges the deadline (a dev chain may run ahead of the wall's).
        received = max(int(time.time()), self.rules.chain.block_time())
        if received >= info.deadline:
            raise BidRefused(f"the bid deadline {info.deadline} has passed (received {received})",
                             error="BidDeadlinePassed")
        try:
            entry, private = self._checked(section_id, s, received)
        except (BidRefused, InvalidEvent) as exc:
            self.store.add_refusal(section_id.hex(), str(exc))
            raise
        box = self._box(section_id)
        index = len(box)
        self.store.add_entry(section_id.hex(), index, json.dumps(entry.to_json()), json.dumps(private))
        receipt = box.add(entry, self.centre)
        return {"receipt": receipt.to_json(), "entry": entry.to_json()}

    def _checked(self, section_id: bytes, body: dict[str, Any], received: int) -> tuple[BoxEntry, dict[str, Any]]:
        if body.get("cipher", self.cipher) != self.cipher:  # one cipher per notary: shares are opened box-wide
            raise InvalidEvent(f"this notary's sections take {self.cipher} (one of {CIPHERS})", field="cipher")
        try:
            opened = open_share(_unb64(body.get("sealed_identity", ""), "sealed_identity"), self.holder_key,
                                sealing.identity_context(section_id), self.cipher)
            s = {**body, **json.loads(opened)}
        except (SealError, ValueError) as exc:
            raise InvalidEvent("the bid's sealed identity does not open with this notary's key",
                               field="sealed_identity") from exc
        if not isinstance(s, dict):
            raise InvalidEvent("the sealed identity is a JSON object", field="sealed_identity")
        bidder_id = _hex32(s.get("bidder_id"), "bidder_id")
        salt = _hex32(s.get("pseudonym_salt"), "pseudonym_salt")
        clear_hash = _hex32(s.get("clear_file_hash"), "clear_file_hash")
        clear_salt = _hex32(s.get("clear_salt"), "clear_salt")
        ciphertext = _unb64(s.get("ciphertext", ""), "ciphertext")
        cipher = s.get("cipher", self.cipher)
        if cipher != self.cipher:  # one cipher per notary: shares are opened and released box-wide
            raise InvalidEvent(f"this notary's sections take {self.cipher} (one of {CIPHERS})", field="cipher")
        file_key_hash = _hex32(s.get("file_key_hash"), "file_key_hash")
        version = s.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < 2**64:
            raise InvalidEvent("version is the bid's version number (0 .. 2^64-1)", field="version")
        holders = self.rules.holders(section_id)
        shares = s.get("shares") or {}
        if not isinstance(shares, dict) or {to_checksum_address(h) for h in shares} != set(holders):
            raise BidRefused("a bid carries one sealed share for each key holder of the section")
        blobs = {to_checksum_address(h): _unb64(v, "shares") for h, v in shares.items()}
        shares_hash = sealing.shares_hash_of(blobs, holders)
        bid = sealing.SealedBid(section_id, bidder_id, salt, b"", cipher, ciphertext, clear_hash, clear_salt)
        if any(json.loads(i.entry_json)["cipher_hash"] == bid.cipher_hash.hex()
               for i in self.store.entries(section_id.hex())):
            raise BidRefused("this sealed bid is in the box already (a replay is not a change of bid)")
        seal_hash = sealing.seal_hash_of(file_key_hash, shares_hash, version)
        signature = bytes.fromhex(str(s.get("signature", "")).removeprefix("0x"))
        bidder = self.rules.bidder(self.region, bidder_id)
        if not bidder["keys"] or bidder["revoked"]:
            raise BidRefused("the bidder is not registered in this region, or revoked")
        message = {"sectionId": section_id, "pseudonym": bid.pseudonym, "cipherHash": bid.cipher_hash,
                   "clearCommitment": bid.clear_commitment, "sealHash": seal_hash}
        signer = Account.recover_message(encode_typed_data(self.rules.domain(), sealing.SEALED_BID_TYPES, message),
                                         signature=signature) if len(signature) == 65 else None
        if signer != bidder["keys"][-1]["key"]:
            raise BidRefused("the entry is not signed with the bidder's registered key")
        raw = s.get("signals") or {}
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise InvalidEvent("signals are named strings", field="signals")
        row = self.store.section(section_id.hex())
        keyed = sealing.keyed_signals({k: v for k, v in raw.items() if k in sealing.SIGNAL_KINDS}, row.signal_key)
        entry = BoxEntry(section_id, bid.pseudonym, bid.cipher_hash, bid.clear_commitment, seal_hash,
                         sealing.signals_hash_of(keyed), received)
        opening = {"bidder_id": bidder_id.hex(), "pseudonym_salt": salt.hex(), "clear_file_hash": clear_hash.hex(),
                   "clear_salt": clear_salt.hex(), "file_key_hash": file_key_hash.hex(), "version": version,
                   "shares_hash": shares_hash.hex()}
        private = {"ciphertext": _b64(ciphertext), "cipher": cipher, "signature": signature.hex(),
                   "shares": {to_checksum_address(h): v for h, v in shares.items()},
                   "opening": opening, "signals": [k.hex() for k in keyed]}
        return entry, private

    # --- at and after the deadline -----------------------------------------------------------------

    def seal(self, writer: str, section_id: bytes) -> dict[str, Any]:
        """Seal the box on chain; publish its entries and the refusals; release the notary's shares."""
        self._owned(writer, section_id)
        box = self._box(section_id)
        state = self.rules.seal_box(self.centre, section_id, len(box), box.root())
        self.store.mark_sealed(section_id.hex())
        self.rules.notarize_box(section_id, box.entries, [r.reason for r in self.store.refusals(section_id.hex())])
        if state == "sealed" and self.centre.address in self.rules.holders(section_id):
            shares = self._open_my_shares(section_id)
            self.accept_release(section_id, self.centre.address, shares,
                                self.rules.sign_release(self.centre, section_id, release_digest(shares)))
        return {"state": state, "box_size": len(box), "box_root": box.root().hex()}

    def _sealed_shares(self, section_id: bytes, holder: str) -> list[tuple[bytes, bytes | None]]:
        out = []
        for item in self.store.entries(section_id.hex()):
            entry, private = json.loads(item.entry_json), json.loads(item.private_json)
            blob = private["shares"].get(to_checksum_address(holder))
            out.append((bytes.fromhex(entry["pseudonym"]), base64.b64decode(blob) if blob else None))
        return out

    def _open_my_shares(self, section_id: bytes) -> list[bytes]:
        return open_my_shares(self.holder_key, self.centre.address, section_id,
                              self._sealed_shares(section_id, self.centre.address), self.cipher)

    def holder_shares(self, section_id: bytes, holder: str) -> dict[str, Any]:
        """The shares sealed to ``holder``, in box order: only once the box is sealed."""
        row = self.store.section(section_id.hex())
        if row is None or not row.sealed:
            raise NotYet("shares are handed out only once the box is sealed at the deadline")
        return {"cipher": self.cipher, "threshold": self.rules.section(section_id).threshold,
                "shares": [{"index": i, "pseudonym": p.hex(), "sealed": _b64(b) if b else None}
                           for i, (p, b) in enumerate(self._sealed_shares(section_id, holder))]}

    def accept_release(self, section_id: bytes, holder: str, shares: list[bytes], signature: bytes) -> dict[str, Any]:
        """Record a holder's release on chain (relayed, its signature) and keep the shares for opening."""
        holder = to_checksum_address(holder)
        if len(shares) != len(self._box(section_id)):
            raise InvalidEvent("a release holds one (possibly empty) share per box entry, in box order",
                               field="shares")
        digest = release_digest(shares)
        outcome = self.rules.release_shares_for(self.centre, section_id, holder, digest, signature)
        self.store.add_release(section_id.hex(), holder, json.dumps([s.hex() for s in shares]))
        return {"holder": holder, "digest": digest.hex(), "tx_hash": outcome.tx_hash}

    def open_bids(self, writer: str, section_id: bytes) -> list[dict[str, Any]]:
        """Open every entry the released shares decrypt; the others wait (a bidder may open its own,
        and in the second half of the window they are settled with their cause). An entry whose file
        does not match its commitment waits for the second half too: until then it is the bidder's
        to open (the contract refuses "inconsistent" earlier)."""
        self._owned(writer, section_id)
        info = self._in_state(section_id, "sealed")
        released = [[bytes.fromhex(x) for x in json.loads(r.shares_json)]
                    for r in self.store.releases(section_id.hex())]
        second_half = self.rules.chain.block_time() >= self._half_grace(info)
        results = []
        for item in self.store.entries(section_id.hex()):
            if item.settled or self.rules.bid(section_id, item.idx)["state"] != "none":
                continue
            private = json.loads(item.private_json)
            try:
                decrypted = decrypt_entry(base64.b64decode(private["ciphertext"]), section_id, private["cipher"],
                                          [r[item.idx] for r in released], info.threshold)
            except SealError as exc:
                results.append({"index": item.idx, "state": "waiting", "reason": str(exc)})
                continue
            o = private["opening"]
            if (sealing.clear_commitment_of(decrypted.clear_hash, bytes.fromhex(o["clear_salt"]))
                    != self._box(section_id).entries[item.idx].clear_commitment and not second_half):
                results.append({"index": item.idx, "state": "waiting",
                                "reason": "the file does not match its commitment; the bidder may open its own "
                                          "until the second half of the opening window"})
                continue
            results.append({"index": item.idx, "state": self._open(section_id, item.idx, private, decrypted.file_key,
                                                                    decrypted.clear_hash)})
        return results

    def _half_grace(self, info) -> int:
        grace = self.rules.contract.read("profileOf", info.profile_id)[1]
        return info.deadline + grace // 2

    def _open(self, section_id: bytes, index: int, private: dict[str, Any], file_key: bytes, clear_hash: bytes) -> str:
        o, box = private["opening"], self._box(section_id)
        opening = Opening(self._identity(private), file_key, clear_hash, bytes.fromhex(o["clear_salt"]),
                          tuple(bytes.fromhex(x) for x in private["signals"]))
        state = self.rules.open_bid(self.centre, section_id, index, box.entries[index], box.inclusion(index), opening)
        self.store.settle(section_id.hex(), index, state)
        return state

    @staticmethod
    def _identity(private: dict[str, Any]) -> Identity:
        o = private["opening"]
        return Identity(bytes.fromhex(o["bidder_id"]), bytes.fromhex(o["pseudonym_salt"]),
                        bytes.fromhex(private["signature"]), bytes.fromhex(o["shares_hash"]), int(o["version"]))

    def open_own(self, section_id: bytes, index: int, file_key: bytes) -> dict[str, Any]:
        """A bidder opens its own entry with its file key (不见面开标: no holder needed); the contract
        checks the key against what the bidder signed."""
        self._in_state(section_id, "sealed")
        items = {i.idx: i for i in self.store.entries(section_id.hex())}
        if index not in items:
            raise NotFound(f"no entry {index} in the box of section 0x{section_id.hex()}")
        private = json.loads(items[index].private_json)
        try:
            clear = crypto_decrypt(base64.b64decode(private["ciphertext"]), file_key, private["cipher"],
                                   aad=section_id)
        except SealError as exc:
            raise InvalidEvent(f"the file key does not open entry {index}: {exc}", field="file_key") from exc
        return {"index": index, "state": self._open(section_id, index, private, file_key,
                                                    hashlib.sha256(clear).digest())}

    def ciphertext(self, section_id: bytes, index: int) -> bytes:
        """An entry's encrypted file, public once the box is sealed (with the file key published at
        opening, anyone re-checks the outcome)."""
        row = self.store.section(section_id.hex())
        if row is None or not row.sealed:
            raise NotYet("the box is shown only once it is sealed at the deadline")
        items = {i.idx: i for i in self.store.entries(section_id.hex())}
        if index not in items:
            raise NotFound(f"no entry {index} in the box of section 0x{section_id.hex()}")
        return base64.b64decode(json.loads(items[index].private_json)["ciphertext"])

    def settle(self, writer: str, section_id: bytes) -> list[dict[str, Any]]:
        """Settle every entry still unopened as undecryptable; the contract names the cause."""
        self._owned(writer, section_id)
        self._in_state(section_id, "sealed")
        box, results = self._box(section_id), []
        for item in self.store.entries(section_id.hex()):
            if self.rules.bid(section_id, item.idx)["state"] != "none":
                continue
            private = json.loads(item.private_json)
            state = self.rules.mark_undecryptable(self.centre, section_id, item.idx, box.entries[item.idx],
                                                  box.inclusion(item.idx), self._identity(private),
                                                  bytes.fromhex(private["opening"]["file_key_hash"]))
            self.store.settle(section_id.hex(), item.idx, state)
            results.append({"index": item.idx, "state": state})
        return results

    def close(self, writer: str, section_id: bytes) -> dict[str, Any]:
        self._owned(writer, section_id)
        info = self.rules.close_opening(self.centre, section_id)
        return {"state": info.state, "valid_bids": info.valid, "bids": info.box_size}

    def set_committee(self, writer: str, section_id: bytes, members: list[str]) -> None:
        self._owned(writer, section_id)
        self.rules.set_committee(self.centre, section_id, members)

    def reject_all(self, writer: str, section_id: bytes, decision: str, signatures: list[bytes]) -> dict[str, Any]:
        self._owned(writer, section_id)
        outcome = self.rules.reject_all(self.centre, section_id, decision, signatures)
        return {"state": "rejected", "tx_hash": outcome.tx_hash}

    # --- reads --------------------------------------------------------------------------------------

    def view(self, section_id: bytes) -> dict[str, Any]:
        """The section as anyone sees it. Before the seal: its rules and holders, nothing of its bids
        (not even how many: 招标投标法 Art. 22); after: the sealed box and every outcome."""
        info = self.rules.section(section_id)
        if info.state == "none":
            raise NotFound(f"no section 0x{section_id.hex()}")
        opened = self.rules.contract.logs("SectionOpened", sectionId=section_id)[0].args
        view: dict[str, Any] = {
            "section_id": "0x" + section_id.hex(), "region": info.region, "project": opened["project"],
            "section": opened["section"], "owner": info.owner, "state": info.state, "deadline": info.deadline,
            "profile": self._profile_name(info.profile_id), "threshold": info.threshold,
            "holders": self._holder_keys(section_id), "cipher": self.cipher, "contract": self.rules.address,
            "domain": self.rules.domain()}
        if info.state == "bidding":
            return view
        view.update(fail_reason=info.fail_reason, box_size=info.box_size, box_root=info.box_root.hex(),
                    sealed_at=info.sealed_at, released=info.released, valid_bids=info.valid)
        items = self.store.entries(section_id.hex())
        view["bids"] = [{"index": i, **json.loads(item.entry_json), **{
            k: (v.hex() if isinstance(v, bytes) else v) for k, v in self.rules.bid(section_id, i).items()}}
            for i, item in enumerate(items)]
        return view

    def box(self, section_id: bytes) -> dict[str, Any]:
        """The sealed box's entries, in order (once sealed): a bidder checks its receipt against them."""
        row = self.store.section(section_id.hex())
        if row is None or not row.sealed:
            raise NotYet("the box is shown only once it is sealed at the deadline")
        box = self._box(section_id)
        return {"size": len(box), "root": box.root().hex(), "entries": [e.to_json() for e in box.entries]}

    def _holder_keys(self, section_id: bytes) -> list[dict[str, str]]:
        return [{"account": a, "x25519": bytes(self.rules.contract.read("holderKeyOf", a)).hex()}
                for a in self.rules.holders(section_id)]

    def _profile_name(self, pid: bytes) -> str:
        from lianzheng.rules.tender.sections import load_profiles, profile_id

        for name in load_profiles():
            if profile_id(name) == pid:
                return name
        return "0x" + pid.hex()
