"""Assemble a running notary from settings: keys, store, chain, registry, log, worker.

On first start this creates the keys (0600) and, on a chain where it may, deploys the
EvidenceRegistry, binds its own account to its region and registers its checkpoint key.
On later starts it checks that the data dir, the chain and the registry still agree.
"""
from __future__ import annotations

import gc
import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from lianzheng.chain_node import Chain, ChainContract, open_chain
from lianzheng.chain_node.accounts import load_or_create_account, load_or_create_ed25519
from lianzheng.notary.errors import SetupError
from lianzheng.notary.services.anchoring import AnchorWorker
from lianzheng.notary.services.election import Election, SequencerLock
from lianzheng.notary.services.keys import KeyCache
from lianzheng.notary.services.log import NotaryLog
from lianzheng.notary.services.ratelimit import RateLimiter
from lianzheng.notary.services.tender_desk import TenderDesk, load_or_create_holder_key
from lianzheng.notary.services.witness import Witness
from lianzheng.notary.settings import Settings
from lianzheng.notary.store import SqlStore
from lianzheng.notary.tender_store import TenderStore
from lianzheng.rules.experts.draw import ExpertDraw
from lianzheng.rules.journal import SqliteJournal, StepJournal
from lianzheng.rules.tender.sections import TenderSections, load_profiles
from lianzheng.sdk.contract import CallReverted
from lianzheng.sdk.event_types import RULES_ENGINE
from lianzheng.sdk.merkle import hash_id, hasher

log = logging.getLogger("lianzheng.setup")

if TYPE_CHECKING:
    from lianzheng.chain_node.replica import ReplicaPool



@dataclass
class Notary:
    """The assembled notary: what it is made of, started and closed together. Routes and services
    never get this whole object: ``notary.api.deps`` hands each one the part it uses."""

    settings: Settings
    store: SqlStore
    chain: Chain
    account: LocalAccount
    registry: ChainContract
    log: NotaryLog
    worker: AnchorWorker
    keys: KeyCache
    rate: RateLimiter
    tender: TenderSections
    experts: ExpertDraw
    public_rpc: ReplicaPool | None = None  # /chain/rpc of the embedded chain
    witness: Witness = field(init=False)
    desk: TenderDesk = field(init=False)
    election: Election = field(init=False)

    def __post_init__(self) -> None:
        self.witness = Witness(self.log, self.store, lambda: self.worker.signer)
        self.desk = TenderDesk(self.tender, self.account, int(self.settings.region), TenderStore(self.store),
                               load_or_create_holder_key(self.settings.data_dir / "keys" / "holder.x25519.pem"),
                               "sm4-gcm" if self.settings.hash == "sm3" else "aes-128-gcm")
        self.desk.enrol()
        self.election = Election(SequencerLock(self.store.engine, self.settings.region), self._sequence,
                                 self.worker.stop)
        self.worker.fence = self.election.check

    def _sequence(self) -> None:
        """Elected: settle what a previous sequencer left open, then anchor."""
        self.worker.reconcile()
        self.worker.start()

    @property
    def checkpoint_key(self) -> Ed25519PrivateKey:
        """The key that signs checkpoints now (it rotates: ``notary.services.rotation``)."""
        return self.worker.signer

    def status(self) -> dict[str, Any]:
        """Liveness and anchoring state (``/healthz``)."""
        return {
            "status": "ok" if self.worker.last_error is None else "degraded",
            "region": self.log.region, "origin": self.log.origin, "hash": self.log.hasher.name,
            "tree_size": max(len(self.log), self.store.size()), "anchored_size": self.log.anchored_size(),
            "sequencer": self.election.elected,
            "chain": {"kind": self.chain.kind, "chain_id": self.chain.chain_id, "registry": self.registry.address,
                      "tender_rules": self.tender.address, "expert_draw": self.experts.address},
            "anchor_error": self.worker.last_error,
        }

    def public_config(self, base_url: str) -> dict[str, Any]:
        """What the witness page needs: the log, the chain, the registry and a JSON-RPC URL to read it."""
        rpc = self.settings.public_rpc_url or (base_url.rstrip("/") + "/chain/rpc" if self.public_rpc is not None
                                               else self.settings.rpc_url)
        return {"region": self.log.region, "origin": self.log.origin, "hash": self.log.hasher.name,
                "chain_id": self.chain.chain_id, "registry": self.registry.address, "rpc_url": rpc}

    def start(self) -> None:
        self.election.start()  # the only process on its log is elected at once, before serving
        if self.public_rpc is not None:
            self.public_rpc.start()

    def close(self) -> None:
        self.worker.stop()
        self.election.stop()
        if self.public_rpc is not None:
            self.public_rpc.close()
        self.chain.close()
        self.store.close()


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _fixed(store: SqlStore, key: str, value: str, what: str) -> None:
    """Record ``value`` on first start; refuse to start if it later differs."""
    known = store.meta(key)
    if known is None:
        store.set_meta(key, value)
    elif known != value:
        raise SetupError(f"this data dir's log has {what} {known}, settings say {value}")


def _registry(settings: Settings, store: SqlStore, chain: Chain, account: LocalAccount) -> ChainContract:
    _fixed(store, "chain_id", str(chain.chain_id), "chain id")
    address = settings.registry or store.meta("registry")
    if address is None:
        address = chain.deploy(account, "EvidenceRegistry", account.address)
    address = to_checksum_address(address)
    if not chain.code_at(address):
        raise SetupError(f"no contract at registry address {address} on chain {chain.chain_id}")
    _fixed(store, "registry", address, "registry")
    return chain.contract("EvidenceRegistry", address)


def _enrol(settings: Settings, chain: Chain, registry: ChainContract, account: LocalAccount,
           key: Ed25519PrivateKey) -> None:
    region = int(settings.region)
    bound = registry.read("regionOf", account.address)
    if bound == 0:
        if not registry.read("hasRole", registry.read("REGISTRAR_ROLE"), account.address):
            raise SetupError(f"account {account.address} is not bound to region {region}: "
                             f"ask the registry's registrar to call bindNotary({account.address}, {region}) "
                             f"(lianzheng registry bind --account {account.address} --region {region} …)")
        chain.transact(account, registry.tx("bindNotary", account.address, region))
    elif bound != region:
        raise SetupError(f"account {account.address} is bound to region {bound}, not {region}")
    _, registered, alg, origin, _ = registry.read("logOf", region)
    public = _public_bytes(key)
    if not any(registered):
        chain.transact(account, registry.tx("registerCheckpointKey", public, hash_id(settings.hash),
                                            settings.log_origin))
    elif bytes(registered) != public or origin != settings.log_origin or alg != hash_id(settings.hash):
        raise SetupError(f"region {region} is registered with another checkpoint key, origin or hash")


def _bind_rules(settings: Settings, registry: ChainContract, chain: Chain, account: LocalAccount,
                tender: str, draw: str) -> None:
    """Have the registry name this notary's rule contracts for its region: witnesses count rule
    outcomes from no others. A notary that is its own registrar (the embedded default, a province)
    binds them itself; a city notary logs what its registrar must run."""
    region = int(settings.region)
    try:
        bound = registry.read("rulesOf", region)
    except CallReverted:  # a registry deployed before rule bindings existed
        log.warning("registry %s predates rule bindings (no rulesOf): witnesses cannot count rule outcomes of "
                    "region %s until the region moves to a current registry", registry.address, region)
        return
    if any((t, d) == (tender, draw) for t, d in bound):
        return
    if registry.read("hasRole", registry.read("REGISTRAR_ROLE"), account.address):
        chain.transact(account, registry.tx("bindRules", region, tender, draw))
    else:
        log.warning("the rule contracts of region %s are not bound in registry %s: witnesses will not count "
                    "their outcomes until the registrar runs `lianzheng registry bind-rules --region %s "
                    "--tender %s --draw %s`", region, registry.address, region, tender, draw)


class LogSink:
    """Lets the rules engine notarize its steps straight into this notary's log."""

    def __init__(self, notary_log: NotaryLog, writer: str) -> None:
        self.log, self.writer = notary_log, writer

    def notarize(self, event: dict) -> None:
        self.log.submit([event], self.writer, rules=True)


def _rules(settings: Settings, store: SqlStore, chain: Chain, account: LocalAccount, sink: LogSink,
           cls: type[TenderSections] | type[ExpertDraw], configured: str | None, meta: str,
           journal: StepJournal, **deploy: Any):
    """A rules contract this notary serves; on first start deployed, with this notary's account
    as admin and as the centre of its region (it relays for the region's trading systems).
    Steps a crash left unrecorded are finished (``rules.journal``)."""
    address = configured or store.meta(meta)
    rules = cls(chain, address, sink, journal) if address else cls.deploy(chain, account, sink, journal, **deploy)
    _fixed(store, meta, rules.address, meta.replace("_", " "))
    rules.roll_forward()
    contract, region = rules.contract, int(settings.region)
    if not contract.read("hasRole", contract.read("centreRole", region), account.address) and contract.read(
            "hasRole", contract.read("DEFAULT_ADMIN_ROLE"), account.address):
        rules.grant_centre(account, region, account.address)
    return rules


def open_notary(settings: Settings) -> Notary:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    store = SqlStore(settings.db_url)
    try:
        _fixed(store, "region", settings.region, "region")
        _fixed(store, "hash", settings.hash, "hash algorithm")
        _fixed(store, "origin", settings.log_origin, "origin")
        account = load_or_create_account(settings.chain_key_path)
        key = load_or_create_ed25519(settings.checkpoint_key_path)
        chain = open_chain(settings.rpc_url, data_dir / "chain")
        # Processes on one store (serve --workers, several machines on PostgreSQL) share the account:
        # they take turns from signing to sending, or their nonces would collide.
        chain.share_senders(lambda: store.process_lock("sender"))
        chain.ensure_gas_money(account.address)
        registry = _registry(settings, store, chain, account)
        _enrol(settings, chain, registry, account, key)
        notary_log = NotaryLog(store, hasher(settings.hash), settings.region, settings.log_origin)
        worker = AnchorWorker(notary_log, store, chain, account, registry, key,
                              settings.anchor_interval, settings.anchor_every)
        sink = LogSink(notary_log, RULES_ENGINE)
        journal = SqliteJournal(data_dir / "rule-steps.db")
        profiles = load_profiles()
        tender = _rules(settings, store, chain, account, sink, TenderSections, settings.tender_contract,
                        "tender_contract_v2", journal, profiles={n: profiles[n] for n in settings.tender_profiles})
        experts = _rules(settings, store, chain, account, sink, ExpertDraw, settings.expert_draw_contract,
                         "expert_draw_contract_v2", journal, tender=tender.address)
        _bind_rules(settings, registry, chain, account, tender.address, experts.address)
    except Exception:
        store.close()
        raise
    # The tree and start-up objects live as long as the process: keep them out of the
    # cyclic collector's way (measured: ~25% more events/s on the hot path).
    gc.freeze()
    return Notary(settings, store, chain, account, registry, notary_log, worker, KeyCache(store),
                  RateLimiter.share(settings.rate_limit, workers=settings.workers), tender, experts,
                  chain.public_reads(settings.rpc_gas_cap, settings.rpc_workers, settings.rpc_timeout))
