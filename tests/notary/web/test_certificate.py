"""Witness certificates (PDF) and archive checks, from the command line, against the live notary."""
from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import httpx
import pikepdf
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter

from lianzheng.notary.errors import SetupError
from lianzheng.notary.services import certificate_pdf
from lianzheng.sdk.certificate import (
    ATTACHMENT,
    extract_evidence,
    signed_body,
    verify_certificate,
)
from lianzheng.sdk.checkpoint import sign_note
from lianzheng.sdk.errors import EventMismatchError, SignatureError
from lianzheng.sdk.registry import RegistryReader
from lianzheng.sdk.times import utc_iso
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


def _pdffonts(pdf: Path) -> list[dict[str, str]]:
    """``pdffonts`` rows by column name, columns cut where the header's dashes say (a type can be two words)."""
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()
    header, dashes = lines[0], lines[1]
    spans, start = [], 0
    for dash in dashes.split(" "):
        spans.append((start, start + len(dash)))
        start += len(dash) + 1
    names = [header[a:b].strip() for a, b in spans]
    return [{n: line[a:b].strip() for n, (a, b) in zip(names, spans, strict=True)} for line in lines[2:]]


def test_every_font_is_embedded_and_one_draws_chinese(certificate):
    fonts = _pdffonts(certificate)
    assert fonts and all(f["emb"] == "yes" for f in fonts), fonts
    assert any("DroidSansFallback" in f["name"] for f in fonts), fonts
    assert not any(f["name"] in ("Helvetica", "Courier", "STSong-Light") for f in fonts)


def _render_page_1(pdf: Path, out: Path, fonts_conf: Path | None) -> tuple[Image.Image, str]:
    env = dict(os.environ, FONTCONFIG_FILE=str(fonts_conf)) if fonts_conf else None
    result = subprocess.run(["pdftoppm", "-r", "72", "-f", "1", "-l", "1", "-singlefile", "-png", str(pdf), str(out)],
                            capture_output=True, text=True, env=env, check=True)
    return Image.open(out.with_suffix(".png")).convert("RGB"), result.stderr


def test_certificate_reads_the_same_on_a_machine_without_fonts(certificate, tmp_path):
    (tmp_path / "no-fonts").mkdir()
    fonts_conf = tmp_path / "fonts.conf"  # fontconfig that knows no font at all
    fonts_conf.write_text(f'<?xml version="1.0"?>\n<fontconfig><dir>{tmp_path / "no-fonts"}</dir>'
                          f'<cachedir>{tmp_path / "cache"}</cachedir></fontconfig>\n')
    bare, complaints = _render_page_1(certificate, tmp_path / "bare", fonts_conf)
    assert "Couldn't find a font" not in complaints and "Syntax Error" not in complaints, complaints
    usual, _ = _render_page_1(certificate, tmp_path / "usual", None)
    assert ImageChops.difference(bare, usual).getbbox() is None  # every glyph came from the PDF itself
    assert bare.convert("L").getextrema()[0] < 64  # and there is something drawn
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(certificate), "-"], capture_output=True, text=True,
                          env=dict(os.environ, FONTCONFIG_FILE=str(fonts_conf)), check=True).stdout
    assert "电子见证证书" in text


def test_times_and_digests_are_never_split(certificate):
    lines = subprocess.run(["pdftotext", str(certificate), "-"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    evidence = extract_evidence(certificate.read_bytes())

    def on_one_line(value: str) -> bool:
        return any(value in line for line in lines)

    for receipt in evidence["receipts"]:
        assert on_one_line(utc_iso(receipt["anchor"]["block_time"])), receipt["anchor"]
        assert on_one_line(str(receipt["event"]["occurred_at"]))
        assert on_one_line(f"event {receipt['event_digest']}")
        for document in receipt["event"].get("documents", []):
            assert on_one_line(document["sha256"])
    assert on_one_line(evidence["chain"]["registry"]) and on_one_line(evidence["issued_at"])


def test_certificate_is_pdf_a3_with_the_evidence_as_associated_file(certificate):
    with pikepdf.open(certificate) as pdf:
        (spec,) = pdf.Root.AF
        assert spec.AFRelationship == pikepdf.Name.Data and str(spec.F) == str(spec.UF) == ATTACHMENT
        assert spec.EF.F.Subtype == pikepdf.Name("/application/json")
        names = pdf.Root.Names.EmbeddedFiles.Names
        assert str(names[0]) == ATTACHMENT and names[1].objgen == spec.objgen  # the same file, listed twice
        assert spec.EF.F.read_bytes() == PdfReader(certificate).attachments[ATTACHMENT][0]
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == pikepdf.Name.GTS_PDFA1 and intent.DestOutputProfile.N == 3
        assert intent.DestOutputProfile.read_bytes()[12:20] == b"mntrRGB "  # an RGB monitor profile
        xmp = pdf.open_metadata()
        assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "B")
        assert str(pdf.docinfo.Title) == xmp["dc:title"]


def test_a_missing_font_file_names_the_debian_package(monkeypatch):
    monkeypatch.setitem(certificate_pdf.ASSETS, certificate_pdf.CJK,
                        ("/nonexistent/DroidSansFallbackFull.ttf", "fonts-droid-fallback"))
    with pytest.raises(SetupError, match="apt-get install fonts-droid-fallback$") as caught:
        certificate_pdf.asset_files()
    assert caught.value.evidence == {"missing": ["/nonexistent/DroidSansFallbackFull.ttf"],
                                     "packages": ["fonts-droid-fallback"]}


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
    with pikepdf.open(io.BytesIO(pdf)) as doc:  # a byte of the evidence as stored (compressed), not of a font
        stored = doc.attachments[ATTACHMENT].obj.EF.F.read_raw_bytes()
    raw[pdf.index(stored) + len(stored) // 2] ^= 0xFF
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


def test_a_certificate_is_complete_up_to_a_checkpoint_and_cannot_leave_an_event_out(site):
    """Even the notary's own key cannot sign a certificate that drops an event of the section (the events
    link one to the next) or states a compliance its events do not show."""
    notary = site.notary
    evidence = notary.witness.certificate_evidence(PROJECT, SECTION, site.url)
    reader = RegistryReader(notary.chain.rpc, notary.registry.address)
    through = evidence["complete_through"]["tree_size"]
    assert max(r["index"] for r in evidence["receipts"]) < through <= evidence["tree_size"]
    assert verify_certificate(evidence, reader).complete_through == through
    assert "complete through log size" in verify_certificate(evidence, reader).summary()
    elements = {e["id"]: e["status"] for e in evidence["compliance"]["elements"]}
    assert evidence["compliance"]["trading_type"] == "engineering" and elements["at_least_three_bidders"] == "met"

    def resigned(changed: dict) -> dict:
        changed["signature"] = sign_note(signed_body(changed), notary.log.origin, notary.checkpoint_key)
        return changed

    for dropped in (0, 3):  # the section's first event, and one in the middle
        short = json.loads(json.dumps(evidence))
        del short["receipts"][dropped], short["outcomes"][dropped]
        with pytest.raises(EventMismatchError, match="incomplete"):
            verify_certificate(resigned(short), reader)
    claimed = json.loads(json.dumps(evidence))
    claimed["compliance"]["elements"][0]["status"] = "met"
    assert evidence["compliance"]["elements"][0]["status"] != "met"  # no announcement event in this section
    with pytest.raises(EventMismatchError, match="procedural compliance"):
        verify_certificate(resigned(claimed), reader)


def test_rule_events_in_a_certificate_count_only_when_the_chain_backs_them(site):
    """verify_certificate checks each rule event as the page does (sdk.rule_check) and asks the
    region's bound rule contracts for every event about the section."""
    from lianzheng.sdk.rule_check import RuleChecker, RuleUnbacked

    notary = site.notary
    reader = RegistryReader(notary.chain.rpc, notary.registry.address)
    evidence = notary.witness.certificate_evidence(PROJECT, SECTION, site.url)
    events = [r["event"] for r in evidence["receipts"]]
    checker = RuleChecker(reader.chain, reader)
    flag = next(e for e in events if e["type"] == "tender.flag.shared_signal")
    assert checker.missing_logs(370000, PROJECT, [SECTION], events) == []
    missing = checker.missing_logs(370000, PROJECT, [SECTION], [e for e in events if e is not flag])
    assert [name for name, _ in missing] == ["SharedSignal"] and missing[0][1] == flag["public"]["tx_hash"]

    closed = next(e for e in events if e["type"] == "tender.opening_closed")
    notary.log.submit([{"id": "cert-forged-close", "type": "tender.opening_closed", "region": "370000",
                        "project": "FORGED-9", "section": "F9", "occurred_at": closed["occurred_at"],
                        "actor": closed["actor"], "public": {**closed["public"], "valid_bids": 9}}],
                      "rules-engine", rules=True)
    site.wait_anchored("cert-forged-close")
    forged = notary.witness.certificate_evidence("FORGED-9", "F9", site.url)  # signed by the notary's key
    with pytest.raises(RuleUnbacked, match="is not about the section it names"):
        verify_certificate(forged, reader)
