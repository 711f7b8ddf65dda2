"""Verifier.verify_many: each receipt answered as ``verify`` answers it alone, the chain read once
per checkpoint the receipts lead to."""
from __future__ import annotations

import copy
from collections import Counter

import pytest

from lianzheng.sdk.checkpoint import Checkpoint, SignedNote, TlogProof, sign_checkpoint
from lianzheng.sdk.errors import AnchorError, VerificationError
from lianzheng.sdk.receipt import parse_receipt
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.verifier import Verified, Verifier
from tests.helpers import make_event
from tests.sdk.test_verifier import _flip_signature

READS = ("log_of", "checkpoint_key_at", "checkpoint_at", "anchor_tx")


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    """One notary for the module: evt-0..4 anchored at size 5, evt-5..104 at size 105, evt-105 pending."""
    from lianzheng.notary.services.setup import open_notary
    from lianzheng.notary.settings import Settings

    notary = open_notary(Settings(data_dir=tmp_path_factory.mktemp("verify-many") / "data"))
    try:
        notary.log.submit([make_event(i) for i in range(5)], "ts")
        first = notary.worker.anchor_once()
        notary.log.submit([make_event(i) for i in range(5, 105)], "ts")
        second = notary.worker.anchor_once()
        notary.log.submit([make_event(105)], "ts")
        assert (first.tree_size, second.tree_size) == (5, 105)
        yield notary, first, second
    finally:
        notary.close()


class CountingView:
    """A RegistryView that counts the calls of each of its methods."""

    def __init__(self, inner, fail: str | None = None) -> None:
        self.inner, self.fail = inner, fail
        self.chain_id, self.address = inner.chain_id, inner.address
        self.calls: Counter[str] = Counter()

    def _call(self, name, *args):
        self.calls[name] += 1
        if name == self.fail:
            raise VerificationError(f"cannot read the chain: {name} timed out")
        return getattr(self.inner, name)(*args)

    def log_of(self, region):
        return self._call("log_of", region)

    def checkpoint_key_at(self, region, tree_size):
        return self._call("checkpoint_key_at", region, tree_size)

    def checkpoint_at(self, region, tree_size):
        return self._call("checkpoint_at", region, tree_size)

    def anchor_tx(self, tx_hash):
        return self._call("anchor_tx", tx_hash)


@pytest.fixture
def view(logged):
    notary, _, _ = logged
    return CountingView(RegistryReader(notary.chain.rpc, notary.registry.address))


def _receipt(notary, i):
    return notary.log.receipt(f"evt-{i}")


def _mutate(receipt, fn):
    data = copy.deepcopy(receipt.model_dump(mode="json"))
    fn(data)
    return parse_receipt(data)


def _flip_proof_hash(d):
    proof = TlogProof.parse(d["proof"])
    hashes = list(proof.hashes)
    hashes[-1] = bytes([hashes[-1][0] ^ 1]) + hashes[-1][1:]
    d["proof"] = TlogProof(proof.index, tuple(hashes), proof.checkpoint_note).text()


def _unanchored(notary, receipt, size=7):
    """The receipt with a real checkpoint of ``size``, signed by the notary, that was never anchored."""
    tree = notary.log.tree
    note = sign_checkpoint(Checkpoint(receipt.log.origin, size, tree.root(size)), notary.checkpoint_key)
    proof = TlogProof(receipt.index, tuple(tree.inclusion_proof(receipt.index, size)), note).text()
    return _mutate(receipt, lambda d: (d.update(proof=proof), d["anchor"].update(tree_size=size)))


def _alone(verifier, receipt, event=None, document=None):
    try:
        return verifier.verify(receipt, event=event, document_sha256=document)
    except VerificationError as exc:
        return exc


def test_each_receipt_gets_what_verify_alone_gives_it(logged, view):
    notary, first, _ = logged
    good = [_receipt(notary, i) for i in (0, 3, 4, 5, 6, 50, 104)]
    mix = [  # (receipt, held event, document sha256, what verify says)
        *((r, None, None, "Verified") for r in good),
        (_receipt(notary, 3), make_event(3), None, "Verified"),
        (_receipt(notary, 4), make_event(4, actor="bidder-X"), None, "EventMismatchError"),
        (_receipt(notary, 60).public(), None, f"{60:064x}", "Verified"),
        (_receipt(notary, 61), None, f"{62:064x}", "EventMismatchError"),
        (_receipt(notary, 7).to_json(), None, None, "Verified"),
        (_mutate(_receipt(notary, 8), _flip_proof_hash), None, None, "RootMismatchError"),
        (_mutate(_receipt(notary, 9), lambda d: d["event"].update(actor="bidder-X")), None, None,
         "EventMismatchError"),
        (_receipt(notary, 105), None, None, "PendingError"),
        (_mutate(_receipt(notary, 14), _flip_signature), None, None, "SignatureError"),
        (_mutate(_receipt(notary, 10), lambda d: d["anchor"].update(block_number=d["anchor"]["block_number"] - 1)),
         None, None, "AnchorError"),
        (_mutate(_receipt(notary, 11), lambda d: d["anchor"].update(block_time=d["anchor"]["block_time"] + 1)),
         None, None, "AnchorError"),
        (_mutate(_receipt(notary, 12), lambda d: d["anchor"].update(tx_hash=first.tx_hash)), None, None,
         "AnchorError"),
        (_mutate(_receipt(notary, 13), lambda d: d["anchor"].update(chain_id=31337)), None, None, "AnchorError"),
        (_unanchored(notary, _receipt(notary, 1)), None, None, "AnchorError"),
        (_unanchored(notary, _receipt(notary, 2)), None, None, "AnchorError"),
        ({"format": "lianzheng-receipt/1", "status": "anchored"}, None, None, "MalformedError"),
        (_receipt(notary, 104), None, None, "Verified"),
    ]
    receipts, events, documents, _ = map(list, zip(*mix))
    results = Verifier(view).verify_many(receipts, events=events, documents=documents)
    assert len(results) == len(mix)
    verifier = Verifier(RegistryReader(notary.chain.rpc, notary.registry.address))
    for (receipt, event, document, kind), got in zip(mix, results):
        alone = _alone(verifier, receipt, event, document)
        assert type(alone).__name__ == kind  # the mix is what it claims to be
        if isinstance(alone, Verified):
            assert got == alone
        else:
            assert type(got) is type(alone) and str(got) == str(alone)
    # Three checkpoints asked about (sizes 5, 105 and the unanchored 7), each once; two anchor
    # transactions (the two honest ones); the key and log read once per question.
    assert view.calls == Counter(log_of=1, checkpoint_key_at=3, checkpoint_at=3, anchor_tx=2)


def test_a_hundred_receipts_under_one_checkpoint_read_the_chain_once(logged, view, monkeypatch):
    notary, _, second = logged
    checks = Counter()
    real_verify = SignedNote.verify

    def counted(self, name, public_key):
        checks["signature"] += 1
        return real_verify(self, name, public_key)

    monkeypatch.setattr(SignedNote, "verify", counted)
    receipts = [_receipt(notary, i) for i in range(5, 105)]
    results = Verifier(view).verify_many(receipts)
    assert [r.index for r in results] == list(range(5, 105))
    assert all(isinstance(r, Verified) and r.tree_size == 105 and r.tx_hash == second.tx_hash for r in results)
    assert view.calls == Counter({name: 1 for name in READS})
    assert checks == Counter(signature=1)


def test_a_chain_read_that_fails_fails_its_group_once_and_spares_the_others(logged):
    notary, _, _ = logged
    view = CountingView(RegistryReader(notary.chain.rpc, notary.registry.address), fail="anchor_tx")
    receipts = [_receipt(notary, i) for i in (20, 21, 22)] + [_receipt(notary, 105)]
    results = Verifier(view).verify_many(receipts)
    assert [type(r).__name__ for r in results] == ["VerificationError"] * 3 + ["PendingError"]
    assert all("anchor_tx timed out" in str(r) for r in results[:3])
    assert view.calls["anchor_tx"] == 1


def test_no_receipts_read_nothing_and_events_must_match_receipts(logged, view):
    notary, _, _ = logged
    assert Verifier(view).verify_many([]) == []
    assert sum(view.calls.values()) == 0
    with pytest.raises(ValueError, match="2 events for 1 receipts"):
        Verifier(view).verify_many([_receipt(notary, 0)], events=[None, None])


def test_a_receipt_under_another_registry_fails_alone(logged, view):
    notary, _, _ = logged
    other = _mutate(_receipt(notary, 30), lambda d: d["anchor"].update(registry="0x" + "12" * 20))
    results = Verifier(view).verify_many([other, _receipt(notary, 31)])
    assert isinstance(results[0], AnchorError) and "names registry" in str(results[0])
    assert isinstance(results[1], Verified)


def _cli(monkeypatch, notary, *args):
    """``lianzheng verify`` in this process, its chain reads going to the notary's embedded chain."""
    from typer.testing import CliRunner

    from lianzheng.sdk.cli import app
    from lianzheng.sdk.cli import verify as verify_cli

    monkeypatch.setattr(verify_cli, "RegistryReader", lambda rpc, address: RegistryReader(notary.chain.rpc, address))
    return CliRunner().invoke(app, ["verify", *args])


def test_cli_verifies_a_directory_of_receipts_one_line_each(logged, tmp_path, monkeypatch):
    notary, _, _ = logged
    folder = tmp_path / "receipts"
    folder.mkdir()
    for i in (40, 41, 42):
        (folder / f"r{i}.json").write_text(_receipt(notary, i).to_json())
    (folder / "notes.txt").write_text("not a receipt, not *.json")
    done = _cli(monkeypatch, notary, "--receipts", str(folder), "--rpc", "http://chain.invalid")
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [str(folder / f"r{i}.json") for i in (40, 41, 42)]
    assert all(": verified: region 370000, index " in line for line in lines)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a-tampered.json").write_text(_mutate(_receipt(notary, 43), _flip_proof_hash).to_json())
    (bad / "b-pending.json").write_text(_receipt(notary, 105).to_json())
    (bad / "c-garbage.json").write_text("{not json")
    single = tmp_path / "d-good.json"
    single.write_text(_receipt(notary, 44).to_json())
    done = _cli(monkeypatch, notary, "--receipts", str(bad), "--receipts", str(single), "--rpc", "http://x.invalid")
    assert done.exit_code == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    assert "a-tampered.json: FAILED (root_mismatch)" in lines[0]
    assert "b-pending.json: FAILED (pending)" in lines[1]
    assert "c-garbage.json: FAILED (malformed)" in lines[2]
    assert lines[3].startswith(f"{single}: verified: ")


def test_cli_receipts_takes_only_rpc_and_registry(logged, tmp_path, monkeypatch):
    notary, _, _ = logged
    one = tmp_path / "r.json"
    one.write_text(_receipt(notary, 45).to_json())
    for extra in (["--event", str(one)], ["--receipt", str(one)], []):
        args = ["--receipts", str(one), *extra] + (["--rpc", "http://x.invalid"] if extra else [])
        done = _cli(monkeypatch, notary, *args)
        assert done.exit_code == 2, (extra, done.output)
    done = _cli(monkeypatch, notary, "--receipts", str(tmp_path / "missing"), "--rpc", "http://x.invalid")
    assert done.exit_code == 2 and "cannot read" in done.output
    pinned = _cli(monkeypatch, notary, "--receipts", str(one), "--rpc", "http://x.invalid",
                  "--registry", "0x" + "12" * 20)
    assert pinned.exit_code == 1 and "you pinned" in pinned.stdout
