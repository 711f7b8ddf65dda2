"""Witness certificates (PDF) and archive checks, from the command line, against the live notary."""
from __future__ import annotations

import io
import json
import subprocess

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader, PdfWriter

from lianzheng.sdk.certificate import (
    ATTACHMENT,
    extract_evidence,
    signed_body,
    verify_certificate,
)
from lianzheng.sdk.checkpoint import sign_note
from lianzheng.sdk.errors import EventMismatchError, SignatureError
from lianzheng.sdk.registry import RegistryReader
from tests.helpers import cli
from tests.notary.web.conftest import PROJECT, SECTION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def certificate(site, tmp_path_factory):
    path = tmp_path_factory.mktemp("cert") / "cert.pdf"
    result = cli("certificate", "--section", SECTION, "--url", site.url, "-o", str(path), check=True)
    assert result.stdout.startswith(f"{path}: evidence sha256 ")
    return path


def _reembed(pdf: bytes, evidence_bytes: bytes) -> bytes:
    """The same PDF with its evidence attachment replaced (a forger's edit, keeping a valid PDF)."""
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter()
    for p in reader.pages:
        writer.add_page(p)
    writer.add_attachment(ATTACHMENT, evidence_bytes)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_certificate_renders_with_the_evidence_and_a_qr_code_to_the_page(certificate, site, tmp_path):
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(certificate), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages and pages[0].stat().st_size > 20_000
    text = subprocess.run(["pdftotext", str(certificate), "-"], capture_output=True, text=True, check=True).stdout
    evidence = extract_evidence(certificate.read_bytes())
    assert "电子见证证书" in text and f"{PROJECT} / {SECTION}" in text and "围标串标预警" in text
    for receipt in evidence["receipts"]:  # the evidence list: every event digest is printed
        assert receipt["event_digest"][:32] in text.replace("\n", "")
    qr = subprocess.run(["zbarimg", "--quiet", "--raw", str(pages[0])], capture_output=True, text=True, check=True)
    assert qr.stdout.strip() == f"{site.url}/?project={PROJECT}&section={SECTION}"
    assert httpx.get(qr.stdout.strip()).status_code == 200


def test_certificate_verifies_offline_and_one_changed_byte_fails(certificate, site, tmp_path):
    ok = cli("verify", "--certificate", str(certificate), "--rpc", site.rpc)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"verified certificate: project {PROJECT} section {SECTION}")
    assert "1 warnings" in ok.stdout and "collusion warning" in ok.stdout

    pdf = certificate.read_bytes()
    blob = PdfReader(io.BytesIO(pdf)).attachments[ATTACHMENT][0]
    at = blob.index(b'"event_digest": "') + len(b'"event_digest": "')
    changed = blob[:at] + (b"0" if blob[at:at + 1] != b"0" else b"1") + blob[at + 1:]
    assert len(changed) == len(blob) and sum(a != b for a, b in zip(changed, blob)) == 1
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(_reembed(pdf, changed))
    bad = cli("verify", "--certificate", str(tampered), "--rpc", site.rpc)
    assert bad.returncode == 1 and "FAILED (signature_invalid): the evidence was changed" in bad.stderr

    raw = bytearray(pdf)
    raw[len(raw) // 2] ^= 0xFF
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(bytes(raw))
    result = cli("verify", "--certificate", str(broken), "--rpc", site.rpc)
    assert result.returncode == 1 and result.stderr.startswith("FAILED") and "Traceback" not in result.stderr
    untouched = _reembed(pdf, blob)  # re-embedding the same bytes changes nothing that matters
    (tmp_path / "same.pdf").write_bytes(untouched)
    assert cli("verify", "--certificate", str(tmp_path / "same.pdf"), "--rpc", site.rpc).returncode == 0


def test_outcomes_are_recomputed_not_trusted(site):
    notary = site.notary
    evidence = notary.witness.certificate_evidence(PROJECT, SECTION, site.url)
    reader = RegistryReader(notary.chain.rpc, notary.registry.address)
    assert len(verify_certificate(evidence, reader).warnings) == 1
    hidden = json.loads(json.dumps(evidence))
    flagged = next(o for o in hidden["outcomes"] if o["level"] == "warning")
    flagged.update(level="info", code="recorded")  # a notary hiding the collusion flag, and signing it
    hidden["signature"] = sign_note(signed_body(hidden), notary.log.origin, notary.checkpoint_key)
    with pytest.raises(EventMismatchError, match="is not what its event shows"):
        verify_certificate(hidden, reader)
    other = json.loads(json.dumps(evidence))
    other["signature"] = sign_note(signed_body(other), notary.log.origin, Ed25519PrivateKey.generate())
    with pytest.raises(SignatureError):
        verify_certificate(other, reader)


def test_certificate_errors_are_clear(site, tmp_path):
    missing = cli("certificate", "--section", "NOPE", "--url", site.url, "-o", str(tmp_path / "x.pdf"))
    assert missing.returncode == 1 and "no event names section 'NOPE'" in missing.stderr
    assert httpx.get(f"{site.url}/v1/certificates/bad%20id").json()["code"] == "invalid_request"
    not_pdf = tmp_path / "receipt.pdf"
    not_pdf.write_text("{}")
    result = cli("verify", "--certificate", str(not_pdf), "--rpc", site.rpc)
    assert result.returncode == 1 and "not a PDF file" in result.stderr


def test_archive_check_tells_when_and_where_and_that_the_file_is_unchanged(site):
    ok = cli("archive", "check", str(site.files["contract"]), "--url", site.url)
    assert ok.returncode == 0, ok.stderr
    block = site.receipts["archive-1"]["anchor"]["block_number"]
    assert ok.stdout.startswith("archived: 2026-11-23T10:00:00+08:00 as archive.filed archive-1 (region 370000, "
                                f"project {PROJECT}, section {SECTION}, archive Shandong archive room 3); "
                                f"anchored in block {block} at ")
    assert "file unchanged" in ok.stdout
    changed = cli("archive", "check", str(site.files["changed"]), "--url", site.url)
    assert changed.returncode == 1 and changed.stderr.startswith("not found: no notarized event references")
    wrong_chain = cli("archive", "check", str(site.files["contract"]), "--url", site.url,
                      "--registry", "0x" + "11" * 20)
    assert wrong_chain.returncode == 1 and "FAILED" in wrong_chain.stdout
