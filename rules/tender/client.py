"""The bidder's and the holder's side of a tender over HTTP: what the CLI and tests send.

- ``bid_submission``: seal a clear file for a section (from its public view: holders' X25519
  keys, threshold, the contract's EIP-712 domain), sign it, and build the body of
  ``POST /v1/tender/sections/{id}/bids``; the bidder keeps ``SealedBid`` (its file key and salts:
  it can always open its own bid, and check its receipt against the sealed box). Who bids and
  the collusion signals are sealed to the notary's key: nobody relaying the bid reads them.
- ``holder_release``: open the shares sealed to a holder and sign the release the desk relays
  on chain (``POST .../releases``).
"""
from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account.signers.local import LocalAccount

from lianzheng.rules.tender import crypto, sealing
from lianzheng.rules.tender.crypto import HolderKey, public_bytes
from lianzheng.rules.tender.opening import open_my_shares, release_digest

SHARE_RELEASE_TYPES = {"ShareRelease": [{"name": "sectionId", "type": "bytes32"},
                                        {"name": "digest", "type": "bytes32"}]}


def bid_submission(view: dict[str, Any], clear: bytes, bidder_id: bytes, bidder_key: LocalAccount,
                   observed: sealing.Observed, cipher: str | None = None) -> tuple[sealing.SealedBid, dict[str, Any]]:
    section_id = bytes.fromhex(view["section_id"].removeprefix("0x"))
    cipher = cipher or view.get("cipher", "aes-128-gcm")
    holders = [HolderKey(h["account"], bytes.fromhex(h["x25519"])) for h in view["holders"]]
    bid = sealing.seal(clear, section_id, bidder_id, holders, view["threshold"], cipher)
    sealing.sign(bid, bidder_key, view["domain"])
    notary = next((h for h in holders if h.account == view["owner"]), None)
    if notary is None:
        raise ValueError("the section's notary is not among its key holders: it could not check the bid")
    # Who bids, and the signals, travel sealed to the notary: a trading system that relays the bid
    # (or anyone reading the request) learns nothing of the bidder (招标投标法 Art. 22).
    identity = {**bid.opening(), "signature": bid.signature.hex(), "signals": sealing.raw_signals(clear, observed)}
    sealed = crypto.seal_share(json.dumps(identity).encode(), notary.public_key,
                               sealing.identity_context(section_id), cipher)
    body = {"ciphertext": base64.b64encode(bid.ciphertext).decode(), "cipher": cipher,
            "shares": {account: base64.b64encode(blob).decode() for account, blob in bid.shares.items()},
            "sealed_identity": base64.b64encode(sealed).decode()}
    return bid, body


def holder_release(section_id: bytes, handed: dict[str, Any], account: LocalAccount, x25519: X25519PrivateKey,
                   domain: dict[str, Any]) -> dict[str, Any]:
    """The body of a holder's release from what ``GET .../shares?holder=`` handed it."""
    pairs = [(bytes.fromhex(s["pseudonym"]), base64.b64decode(s["sealed"]) if s["sealed"] else None)
             for s in handed["shares"]]
    shares = open_my_shares(x25519, account.address, section_id, pairs, handed["cipher"])
    digest = release_digest(shares)
    signature = account.sign_typed_data(domain, SHARE_RELEASE_TYPES, {"sectionId": section_id, "digest": digest})
    return {"holder": account.address, "shares": [s.hex() for s in shares],
            "signature": bytes(signature.signature).hex()}


def holder_registration(domain: dict[str, Any], account: LocalAccount, x25519: X25519PrivateKey) -> dict[str, Any]:
    """What the operator sends to name a key holder: the holder's X25519 key under its own signature."""
    key = public_bytes(x25519)
    signed = account.sign_typed_data(domain, {"HolderKey": [{"name": "key", "type": "bytes32"}]}, {"key": key})
    return {"account": account.address, "x25519": key.hex(), "signature": bytes(signed.signature).hex()}
