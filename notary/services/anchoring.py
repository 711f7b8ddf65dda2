"""The anchoring worker: puts the current tree head on chain, exactly once per size.

Each anchor is an intent recorded in the store *before* its transaction is sent: the
signed checkpoint and the signed raw transaction (its hash and nonce fixed). After a
crash, ``reconcile`` settles every open intent from what the chain says: mined → confirmed;
unknown → the same raw transaction is sent again (same nonce, so it can land at most
once); nonce taken by something else → failed, and a fresh intent follows. The registry
itself refuses a size that does not grow, so no size can be anchored twice, and (SHA-256 logs)
a root whose consistency proof from the last anchored checkpoint fails, so a forked log is
never anchored.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount

from lianzheng.chain_node import Chain, ChainError, SignedTx
from lianzheng.notary.errors import AnchorRefused, NotSequencer
from lianzheng.notary.models import AnchorIntent
from lianzheng.notary.services.log import NotaryLog
from lianzheng.notary.store import AnchorStore
from lianzheng.sdk.checkpoint import Checkpoint, sign_checkpoint

log = logging.getLogger("lianzheng.anchor")
# anchor() costs ~80,000 gas plus ~2,300 per consistency-proof hash (about log2 of the size:
# ~98,000 at 10^6 leaves, ~110,000 at 10^9; scripts/bench registry). A limit computed from the
# proof's length spares an eth_estimateGas call per anchor.
ANCHOR_BASE_GAS = 150_000
ANCHOR_GAS_PER_PROOF_HASH = 4_000


MAX_BACKOFF = 60.0  # seconds between attempts after repeated failures (a refused anchor costs gas)


def anchor_gas(proof_length: int) -> int:
    """The gas limit of an anchor carrying ``proof_length`` consistency-proof hashes."""
    return ANCHOR_BASE_GAS + ANCHOR_GAS_PER_PROOF_HASH * proof_length


class AnchorWorker:
    def __init__(self, notary_log: NotaryLog, store: AnchorStore, chain: Chain, account: LocalAccount,
                 registry, signer: Ed25519PrivateKey, interval: float, every: int) -> None:
        self.log, self.store, self.chain, self.account = notary_log, store, chain, account
        self.registry, self.signer = registry, signer
        self.interval, self.every = interval, every
        self.region = int(notary_log.region)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()
        self.fence: Callable[[], bool] = lambda: True  # still the sequencer? (checked before each round)
        # Told of each confirmed anchor's gas and each failed round (the API's /metrics counts them).
        self.anchored: Callable[[int], None] = lambda gas_used: None
        self.failed: Callable[[], None] = lambda: None
        self.last_error: str | None = None
        last = store.latest_anchor()
        self._anchoring_size = last.tree_size if last else 0  # size of the newest intent
        notary_log.add_listener(self._appended)

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="anchor-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _appended(self, size: int) -> None:
        # Called on the submit path: compares with the size in memory, no database read.
        if size - self._anchoring_size >= self.every:
            self._wake.set()

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            if not self.fence():  # another process is the sequencer now (this one stood down)
                break
            try:
                self.anchor_once()
                self.last_error, failures = None, 0
            except Exception as exc:  # noqa: BLE001 - keep anchoring; the next round retries
                failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.failed()
                # Back off: a chain that is down, or a registry that refuses the anchor (each
                # refusal is a mined transaction that costs gas), is not retried every second.
                wait = min(self.interval * 2 ** min(failures, 10), MAX_BACKOFF)
                log.warning("anchoring failed (%d in a row), retrying in %.1f s: %s", failures, wait, self.last_error)
                self._stop.wait(wait)

    # --- anchoring ---------------------------------------------------------------

    def anchor_once(self) -> AnchorIntent | None:
        """Anchor the current tree head if it grew since the last anchor; return the intent."""
        with self._run_lock:
            return self._anchor_head()

    def _anchor_head(self) -> AnchorIntent | None:
        self.log.refresh()  # other processes may have appended to the log
        for open_intent in self.store.open_intents():
            self._settle(open_intent, resend=True)
        with self.chain.sender(self.account.address):  # nonce order shared with other senders
            intent = self.prepare()
            if intent is not None:
                self._send_recorded(intent)
        if intent is not None:
            self._settle(intent, resend=True)  # a send that failed above is retried here
        return intent

    def switch_signer(self, new_key: Ed25519PrivateKey, register: Callable[[int], None]) -> int:
        """Anchor the head, then ``register(from_size)`` (the new key on chain, from the size
        after the last anchored one) and sign every later checkpoint with ``new_key``.

        All under the anchoring lock: no checkpoint signed by the old key can be sent for a size
        the new key owns, nor one signed by the new key for a size the old key owns.
        """
        with self._run_lock:
            if not self.fence():
                raise NotSequencer("this process is not the log's sequencer: rotate the key on the one that is "
                                   "(its /healthz says sequencer: true)")
            self._anchor_head()
            confirmed = self.store.latest_anchor("confirmed")
            from_size = (confirmed.tree_size if confirmed else 0) + 1
            register(from_size)
            self.signer = new_key
            return from_size

    def _send_recorded(self, intent: AnchorIntent) -> None:
        try:
            self.chain.send_raw(SignedTx(intent.raw_tx, intent.tx_hash, intent.nonce, self.account.address))
        except ChainError:
            log.warning("sending anchor of size %d failed; it stays recorded and is retried", intent.tree_size)

    def prepare(self) -> AnchorIntent | None:
        """Sign the checkpoint and the transaction for the current size and record the intent.

        Nothing has left the process when this returns: a crash right after it is settled
        by ``reconcile``, which sends the recorded transaction. The consistency proof runs from
        the last confirmed anchor, which is the chain's latest: ``anchor_once`` settles every
        open intent before preparing the next, and only this notary anchors its region.
        """
        size = len(self.log)
        last = self.store.latest_anchor()
        if size == 0 or (last is not None and last.tree_size >= size):
            return None
        root = self.log.root(size)
        confirmed = self.store.latest_anchor("confirmed")
        last_size = confirmed.tree_size if confirmed else 0
        proof = self.log.consistency_proof(last_size, size) if last_size else []
        note = sign_checkpoint(Checkpoint(self.log.origin, size, root), self.signer)
        call = self.registry.tx("anchor", self.region, size, root, proof)
        signed = self.chain.sign(self.account, call, gas=anchor_gas(len(proof)))
        intent = AnchorIntent(tree_size=size, root=root, checkpoint=note, status="intent",
                              chain_id=self.chain.chain_id, registry_address=self.registry.address,
                              tx_hash=signed.hash, raw_tx=signed.raw, nonce=signed.nonce, created_at=time.time())
        self.store.add_intent(intent)
        self._anchoring_size = size
        return intent

    def reconcile(self) -> None:
        """Settle intents left open by a crash (called on start, before serving)."""
        with self._run_lock:
            for intent in self.store.open_intents():
                self._settle(intent, resend=True)

    def _settle(self, intent: AnchorIntent, resend: bool) -> None:
        outcome = self.chain.outcome(intent.tx_hash)
        if outcome is None and resend:
            try:
                self.chain.send_raw(SignedTx(intent.raw_tx, intent.tx_hash, intent.nonce, self.account.address))
            except ChainError:
                if self.chain.nonce_of(self.account.address) > intent.nonce:
                    outcome = self.chain.outcome(intent.tx_hash)
                    if outcome is None:  # our nonce was used by another transaction
                        self.store.update_anchor(intent.id, status="failed")
                        self.chain.release_nonce(self.account.address)
                        return
                else:
                    raise
        if outcome is None:
            outcome = self.chain.wait(intent.tx_hash, timeout=60)
        if outcome.status == 1:
            self.store.update_anchor(intent.id, status="confirmed", block_number=outcome.block_number,
                                     block_time=outcome.block_time, gas_used=outcome.gas_used)
            self.anchored(outcome.gas_used)
        else:
            self.store.update_anchor(intent.id, status="failed")
            raise AnchorRefused(f"the registry refused the anchor of size {intent.tree_size} (tx {intent.tx_hash}): "
                                f"this log may not extend what is anchored for region {self.region}")
