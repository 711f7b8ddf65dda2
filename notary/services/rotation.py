"""Rotating the notary's checkpoint key (a key feared leaked, or a scheduled change).

The registry keeps each key with the first tree size it signs, and verifiers choose a
checkpoint's key by its size: receipts issued before the rotation keep verifying under the old
key, and a checkpoint the old key signs for a later size is refused. The new key takes over from
the size after the anchored head (the head is anchored first, under the anchoring worker's
lock). A certificate issued while the two transactions are under way may have to be issued
again: it names a log size and was signed by the key of that moment.

The new key is written beside the old one first (``<key file>.next``), registered on chain, then
moved into place; the old key is kept as ``<key file>.retired-<from size>``. A crash between two
steps leaves both files for the operator and the data dir refuses to start until they agree
with the chain (setup compares the key file with the newest key registered).
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from lianzheng.chain_node.accounts import load_or_create_ed25519
from lianzheng.notary.services.setup import Notary


def rotate_checkpoint_key(notary: Notary, key_file: Path | None = None) -> int:
    """Give the notary a new checkpoint key; returns the first tree size it signs.

    ``key_file``: the PEM key file the notary was started with (default: its settings').
    """
    path = key_file or notary.settings.checkpoint_key_path
    staged = path.with_name(path.name + ".next")
    new_key = load_or_create_ed25519(staged)  # created 0600 unless an interrupted rotation left one
    public = new_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def register(from_size: int) -> None:
        notary.chain.transact(notary.account, notary.registry.tx("rotateCheckpointKey", public, from_size))

    from_size = notary.worker.switch_signer(new_key, register)
    os.replace(path, path.with_name(f"{path.name}.retired-{from_size}"))
    os.replace(staged, path)
    return from_size
