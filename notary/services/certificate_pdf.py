"""The witness certificate as a PDF/A-3 (reportlab draws it, pikepdf makes it an archive file).

The PDF shows what the evidence says; the evidence itself is the attachment
``lianzheng-evidence.json``, which is what ``lianzheng verify --certificate`` checks. A QR code
opens the verification page for the section.

Readable anywhere: every font is embedded as a TrueType subset, so a machine without CJK fonts
draws the same page. DejaVu Sans (Latin) and DejaVu Sans Mono (times, numbers, hashes) come from
Debian's fonts-dejavu-core, Droid Sans Fallback (Chinese; it has no Latin glyphs, so runs of
Chinese are switched to it character by character) from fonts-droid-fallback. No time, block
number or hash breaks mid-digit: reportlab splits a word only when it is wider than a whole line,
and each is set in the mono font at a size that fits a line of its column; each hash (64 hex) has
a line of its own, whole.

PDF/A-3B (ISO 19005-3), what is done for it: XMP metadata with ``pdfaid:part`` 3 and
``pdfaid:conformance`` B, its Dublin Core / xmp / pdf entries taken from the document info (and
``/Trapped``, which has no XMP twin here, dropped); an OutputIntent ``/GTS_PDFA1`` with an
embedded sRGB ICC monitor profile (colord's sRGB.icc, Debian colord-data) for the DeviceRGB
colours; every font embedded; no encryption, JavaScript, transparency or annotations; the
evidence embedded as an associated file: file spec with ``/F`` and ``/UF``, ``/AFRelationship
/Data``, stream ``/Subtype /application#2Fjson`` with ``/Params /ModDate``, listed both in the
catalog's ``/AF`` array and in the ``/EmbeddedFiles`` name tree. The output has NOT been validated
with veraPDF (none on these machines); in particular the cmap tables inside reportlab's TrueType
subsets and the width arrays against the font programs are unchecked.
"""
from __future__ import annotations

import functools
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pikepdf
from pikepdf import Array, AttachedFileSpec, Dictionary, Name
from pikepdf.models.metadata import encode_pdf_date
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lianzheng.notary.errors import SetupError
from lianzheng.sdk.certificate import ATTACHMENT, evidence_digest
from lianzheng.sdk.times import utc_iso
from lianzheng.sdk.witness import Outcome, label, outcome

SANS, MONO, CJK = "LianzhengSans", "LianzhengMono", "LianzhengCJK"
# Where Debian puts each file the certificate embeds, and the package that puts it there.
ASSETS: dict[str, tuple[str, str]] = {
    SANS: ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
    MONO: ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", "fonts-dejavu-core"),
    CJK: ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", "fonts-droid-fallback"),
    "sRGB": ("/usr/share/color/icc/colord/sRGB.icc", "colord-data"),
}
_LEVEL_COLOURS = {"warning": colors.HexColor("#b00020"), "notice": colors.HexColor("#8a5a00")}
_PAGE_WIDTH = A4[0] - 28 * mm
_PAD = 3  # points of cell padding on each side
_NUMBER_SIZE = 7.0  # largest size for times and numbers; smaller only when a column needs it


def asset_files() -> dict[str, Path]:
    """The font and colour-profile files the certificate embeds; ``SetupError`` naming the Debian
    packages to install when any is missing."""
    found = {role: Path(path) for role, (path, _) in ASSETS.items()}
    missing = sorted({(path, package) for role, (path, package) in ASSETS.items() if not found[role].is_file()})
    if missing:
        packages = sorted({package for _, package in missing})
        raise SetupError(f"certificate PDFs need {', '.join(path for path, _ in missing)}: "
                         f"apt-get install {' '.join(packages)}", missing=[p for p, _ in missing], packages=packages)
    return found


@functools.cache
def _latin() -> frozenset[int]:
    """Code points the Latin font draws; anything else is set in the CJK font."""
    files = asset_files()
    for name in (SANS, MONO, CJK):
        pdfmetrics.registerFont(TTFont(name, str(files[name])))
    return frozenset(pdfmetrics.getFont(SANS).face.charToGlyph)


def _text(value: Any) -> str:
    """Paragraph markup for plain text: escaped, runs the Latin font lacks switched to the CJK font."""
    latin, out, run = _latin(), [], []
    for ch in str(value):
        if ord(ch) in latin or ch == "\n":
            if run:
                out.append(f"<font name='{CJK}'>{''.join(run)}</font>")
                run = []
            out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;"}.get(ch, ch))
        else:
            run.append(ch)
    if run:
        out.append(f"<font name='{CJK}'>{''.join(run)}</font>")
    return "".join(out)


def _mono(value: Any, size: float | None = None) -> str:
    """Markup setting ``value`` (a time, number, hash or address: ASCII) in the mono font."""
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<font name='{MONO}'{f' size={size:.2f}' if size else ''}>{text}</font>"


def _fitting(texts: list[str], width: float, largest: float = _NUMBER_SIZE) -> float:
    """The mono font size (at most ``largest``) at which the longest of ``texts`` fits ``width``."""
    widest = max((pdfmetrics.stringWidth(t, MONO, 1) for t in texts), default=0)
    return min(largest, (width - 2 * _PAD) / widest) if widest else largest


def _styles() -> dict[str, ParagraphStyle]:
    _latin()
    # reportlab splits a word only when it is wider than a whole line. Running text keeps that (a run
    # of Chinese has no space to break at); every time, number and hash is set at a size that fits a
    # line of its column, and where only such values stand, splitting is off altogether.
    base = ParagraphStyle("base", fontName=SANS, fontSize=8.5, leading=12)
    whole = {"splitLongWords": 0}
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=1),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=14, alignment=1),
        "h": ParagraphStyle("h", parent=base, fontSize=10.5, leading=16, spaceBefore=6),
        "body": base,
        "whole": ParagraphStyle("whole", parent=base, **whole),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
        "numbers": ParagraphStyle("numbers", parent=base, fontSize=7.5, leading=9.5, **whole),
        "hashes": ParagraphStyle("hashes", parent=base, fontName=MONO, fontSize=6.5, leading=8, **whole),
        "signature": ParagraphStyle("signature", parent=base, fontName=MONO, fontSize=6.2, leading=7.5, **whole),
        "warn": ParagraphStyle("warn", parent=base, textColor=_LEVEL_COLOURS["warning"]),
    }


def _qr(value: str, size: float = 32 * mm) -> Drawing:
    widget = QrCodeWidget(value, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.initialFontName = SANS  # the renderer's default, Helvetica, would be an unembedded font
    drawing.add(widget)
    return drawing


def _table(rows: list[list[Any]], widths: list[float], *commands: tuple, **kw: Any) -> Table:
    # A cell's own font defaults to Helvetica (never embedded), set even when only Paragraphs are in it.
    return Table(rows, colWidths=widths, style=TableStyle([("FONT", (0, 0), (-1, -1), SANS, 8),
                                                           ("VALIGN", (0, 0), (-1, -1), "TOP"), *commands]), **kw)


def _facts(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """The head table, (label, value markup) per row: a new evidence field is one more row here."""
    log, chain = evidence["log"], evidence["chain"]
    facts = [
        ("项目 / 标段  Project / section", f"{_text(evidence['project'])} / {_text(evidence['section'])}"),
        ("区域  Region", _mono(log["region"])),
        ("公证日志  Notary log", f"{_mono(log['origin'])} ({_text(log['hash'])})"),
        ("区块链  Chain", f"chain id {_mono(chain['chain_id'])}<br/>registry {_mono(chain['registry'], 7.5)}"),
        ("出具时间  Issued", _mono(evidence["issued_at"])),
        ("事件数  Events", f"{_mono(len(evidence['receipts']))} (log size {_mono(evidence['tree_size'])})"),
    ]
    through = evidence.get("complete_through")
    if through:
        facts.append(("完整性  Complete",
                      f"{_text('截至检查点 through checkpoint')} {_mono(through['tree_size'])}<br/>"
                      f"{_text('标段事件逐条相链 each event links to the one before')}"))
    return facts


# The evidence list: # | time / event | outcome | anchor, then a full-width row of hashes.
_COLUMNS = {"#": 9 * mm, "time": 43 * mm, "anchor": 35 * mm}
_COLUMNS["outcome"] = _PAGE_WIDTH - sum(_COLUMNS.values())
_ORDER = ("#", "time", "outcome", "anchor")


def _evidence_list(receipts: list[dict[str, Any]], outcomes: list[Outcome],
                   s: dict[str, ParagraphStyle]) -> Table:
    occurred = [str(r["event"]["occurred_at"]) for r in receipts]
    anchored = [utc_iso(r["anchor"]["block_time"]) for r in receipts]
    time_size, anchor_size = _fitting(occurred, _COLUMNS["time"]), _fitting(anchored, _COLUMNS["anchor"])
    head = {"#": "#", "time": "时间 / 事件  Time / event", "outcome": "结果  Outcome", "anchor": "锚定  Anchor"}
    rows = [[Paragraph(_text(head[c]), s["cell"]) for c in _ORDER]]
    styles: list[tuple] = [("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                           ("LEFTPADDING", (0, 0), (-1, -1), _PAD), ("RIGHTPADDING", (0, 0), (-1, -1), _PAD)]
    for r, o, when, anchored_at in zip(receipts, outcomes, occurred, anchored, strict=True):
        ev, anchor = r["event"], r["anchor"]
        names = label(ev["type"])
        hashes = [f"event {r['event_digest']}"] + [f"file\u00a0 {d['sha256']}" for d in ev.get("documents", [])]
        cells = {
            "#": Paragraph(_mono(r["index"]), s["numbers"]),
            "time": Paragraph(f"{_mono(when, time_size)}<br/>{_text(names['zh'])}<br/>{_text(names['en'])}",
                              s["cell"]),
            "outcome": Paragraph(f"{_text(o.zh)}<br/>{_text(o.en)}", s["cell"]),
            "anchor": Paragraph(f"block {_mono(anchor['block_number'])}<br/>{_mono(anchored_at, anchor_size)}<br/>"
                                f"size {_mono(anchor['tree_size'])}", s["numbers"]),
        }
        rows.append([cells[c] for c in _ORDER])
        rows.append(["", Paragraph("<br/>".join(_mono(h) for h in hashes), s["hashes"]), "", ""])
        top, below = len(rows) - 2, len(rows) - 1
        styles += [("SPAN", (1, below), (-1, below)), ("SPAN", (0, top), (0, below)),
                   ("LINEABOVE", (1, below), (-1, below), 0.3, colors.lightgrey)]
        if o.level in _LEVEL_COLOURS:
            styles.append(("TEXTCOLOR", (2, top), (2, top), _LEVEL_COLOURS[o.level]))
    return _table(rows, [_COLUMNS[c] for c in _ORDER], *styles, repeatRows=1)


_STATUS = {"met": ("符合", "met", None), "not_met": ("不符合", "not met", "warning"),
           "missing": ("缺少记录", "missing", "notice")}


def _compliance(compliance: dict[str, Any], s: dict[str, ParagraphStyle]) -> list[Any]:
    """The witness elements (见证要素) of the trading type, each with its status and legal source."""
    from lianzheng.sdk.compliance import catalogue

    kind = compliance["trading_type"]
    name = catalogue()["trading_types"].get(kind, {}).get("name", {"zh": kind, "en": kind})
    rows = [[Paragraph(_text(h), s["cell"]) for h in ("见证要素  Element", "结果  Status", "依据  Legal source")]]
    styles: list[tuple] = [("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                           ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]
    for n, element in enumerate(compliance["elements"], start=1):
        zh, en, level = _STATUS.get(element["status"], (element["status"], element["status"], "notice"))
        sources = "<br/>".join(_text(f"{src['law']} {src['article']}") for src in element["sources"])
        rows.append([Paragraph(f"{_text(element['name']['zh'])}<br/>{_text(element['name']['en'])}", s["cell"]),
                     Paragraph(f"{_text(zh + ' / ' + en)}<br/>{_text(element['detail']['zh'])}<br/>"
                               f"{_text(element['detail']['en'])}", s["cell"]),
                     Paragraph(sources, s["cell"])])
        if level:
            styles.append(("TEXTCOLOR", (1, n), (1, n), _LEVEL_COLOURS[level]))
    return [Paragraph(_text(f"程序合规 Procedural compliance — {name['zh']} / {name['en']}"), s["h"]),
            _table(rows, [55 * mm, _PAGE_WIDTH - 110 * mm, 55 * mm], *styles, repeatRows=1)]


def _story(evidence: dict[str, Any], digest: str) -> list[Any]:
    s = _styles()
    receipts = evidence["receipts"]
    outcomes = [outcome(r["event"]) for r in receipts]
    info = _table([[Paragraph(_text(k), s["body"]), Paragraph(v, s["body"])] for k, v in _facts(evidence)],
                  [48 * mm, 82 * mm])
    story: list[Any] = [
        Paragraph(_text("电子见证证书"), s["title"]),
        Paragraph("Electronic Witness Certificate", s["subtitle"]),
        Spacer(1, 4 * mm),
        _table([[info, _qr(evidence["verify_url"])]], [132 * mm, _PAGE_WIDTH - 132 * mm]),
        Paragraph(_text(f"扫码或打开 {evidence['verify_url']} 在线核验 / scan to verify online"), s["body"]),
        Paragraph(_text("离线核验 / verify offline: lianzheng verify --certificate THIS.pdf --rpc CHAIN_RPC"),
                  s["body"]),
        Paragraph(f"{_text('证据摘要 Evidence SHA-256:')} {_mono(digest)}", s["whole"]),
    ]
    flagged = [(r, o) for r, o in zip(receipts, outcomes, strict=True) if o.level == "warning"]
    story.append(Paragraph(_text(f"规则结果与风险预警 Rule outcomes and warnings ({len(flagged)})"), s["h"]))
    for r, o in flagged:
        story.append(Paragraph(f"{_text(f'【预警 warning】{o.zh} / {o.en} —')} {_mono(r['event_id'])}", s["warn"]))
    if not flagged:
        story.append(Paragraph(_text("无风险预警 / no warnings"), s["body"]))
    if evidence.get("compliance"):
        story += _compliance(evidence["compliance"], s)
    story += [
        Paragraph(_text("证据清单 Evidence list"), s["h"]),
        _evidence_list(receipts, outcomes, s),
        Paragraph(_text("公证机构签名 Notary signature (Ed25519, key registered on chain)"), s["h"]),
        Paragraph("<br/>".join(_text(line) for line in evidence["signature"].splitlines()), s["signature"]),
    ]
    return story


def _pdfa3(pdf: bytes, evidence: dict[str, Any], attachment: bytes, icc: bytes) -> bytes:
    """``pdf`` as PDF/A-3B, with ``attachment`` embedded as its associated file (``/AF``)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        profile = doc.make_stream(icc, N=3)
        doc.Root.OutputIntents = Array([doc.make_indirect(Dictionary(
            Type=Name.OutputIntent, S=Name.GTS_PDFA1, OutputConditionIdentifier="sRGB IEC61966-2.1",
            RegistryName="http://www.color.org", Info="sRGB IEC61966-2.1", DestOutputProfile=profile))])
        issued = encode_pdf_date(datetime.fromisoformat(evidence["issued_at"]))
        doc.attachments[ATTACHMENT] = AttachedFileSpec(
            doc, attachment, filename=ATTACHMENT, mime_type="application/json", relationship=Name.Data,
            description="signed evidence: lianzheng verify --certificate", creation_date=issued, mod_date=issued)
        doc.Root.AF = Array([doc.attachments[ATTACHMENT].obj])
        if "/Trapped" in doc.docinfo:  # no XMP twin in pikepdf's mapping; PDF/A wants Info and XMP alike
            del doc.docinfo.Trapped
        with doc.open_metadata(set_pikepdf_as_editor=False) as xmp:
            xmp.load_from_docinfo(doc.docinfo)
            xmp["pdfaid:part"], xmp["pdfaid:conformance"] = "3", "B"
        out = io.BytesIO()
        doc.save(out, min_version="1.7", object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return out.getvalue()


def render(evidence: dict[str, Any]) -> bytes:
    """The certificate PDF for signed ``evidence``, the evidence attached byte for byte."""
    icc = asset_files()["sRGB"].read_bytes()
    digest = evidence_digest(evidence)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"电子见证证书 {evidence['project']} {evidence['section']}",
                            author=evidence["log"]["origin"], subject=digest,
                            initialFontName=SANS)  # else each page starts on Helvetica, never embedded
    doc.build(_story(evidence, digest))
    return _pdfa3(out.getvalue(), evidence, orjson.dumps(evidence, option=orjson.OPT_INDENT_2), icc)
