"""The witness certificate as a PDF (reportlab), with its signed evidence attached (pypdf).

Chinese text uses the standard Adobe CID font STSong-Light (no font file shipped; viewers
substitute a Song typeface). The PDF shows what the evidence says; the evidence itself is
the attachment ``lianzheng-evidence.json``, which is what ``lianzheng verify --certificate``
checks. A QR code opens the verification page for the section.
"""
from __future__ import annotations

import io
from typing import Any

import orjson
from pypdf import PdfReader, PdfWriter
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from lianzheng.sdk.certificate import ATTACHMENT, evidence_digest
from lianzheng.sdk.times import utc_iso
from lianzheng.sdk.witness import label, outcome

FONT = "STSong-Light"
_LEVEL_COLOURS = {"warning": colors.HexColor("#b00020"), "notice": colors.HexColor("#8a5a00")}


def _styles() -> dict[str, ParagraphStyle]:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12)
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=1),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=14, alignment=1),
        "h": ParagraphStyle("h", parent=base, fontSize=11, leading=16, spaceBefore=6),
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontName="Courier", fontSize=6.2, leading=7.5),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9.5),
        "warn": ParagraphStyle("warn", parent=base, textColor=_LEVEL_COLOURS["warning"]),
    }


def _qr(value: str, size: float = 32 * mm) -> Drawing:
    widget = QrCodeWidget(value, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(evidence: dict[str, Any]) -> bytes:
    """The certificate PDF for signed ``evidence``, the evidence attached byte for byte."""
    s = _styles()
    receipts = evidence["receipts"]
    digest = evidence_digest(evidence)
    where = f"{_esc(evidence['project'])} / {_esc(evidence['section'])}"
    story: list[Any] = [
        Paragraph("电子见证证书", s["title"]),
        Paragraph("Electronic Witness Certificate", s["subtitle"]),
        Spacer(1, 4 * mm),
    ]
    facts = [
        ("项目 / 标段  Project / section", where),
        ("区域  Region", _esc(evidence["log"]["region"])),
        ("公证日志  Notary log", f"{_esc(evidence['log']['origin'])} ({evidence['log']['hash']})"),
        ("区块链  Chain", f"chain id {evidence['chain']['chain_id']}, registry {evidence['chain']['registry']}"),
        ("出具时间  Issued", _esc(evidence["issued_at"])),
        ("事件数  Events", f"{len(receipts)} (log size {evidence['tree_size']})"),
    ]
    info = Table([[Paragraph(k, s["body"]), Paragraph(v, s["body"])] for k, v in facts], colWidths=[48 * mm, 80 * mm])
    info.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(Table([[info, _qr(evidence["verify_url"])]], colWidths=[130 * mm, 40 * mm],
                       style=TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")])))
    story += [
        Paragraph(f"扫码或打开 {_esc(evidence['verify_url'])} 在线核验 / scan to verify online", s["body"]),
        Paragraph("离线核验 / verify offline: lianzheng verify --certificate THIS.pdf --rpc CHAIN_RPC", s["body"]),
        Paragraph(f"证据摘要 Evidence SHA-256: <font name='Courier' size='7'>{digest}</font>", s["body"]),
    ]
    warnings = [(r, outcome(r["event"])) for r in receipts]
    flagged = [(r, o) for r, o in warnings if o.level == "warning"]
    story.append(Paragraph(f"规则结果与风险预警 Rule outcomes and warnings ({len(flagged)})", s["h"]))
    for r, o in flagged or []:
        story.append(Paragraph(f"【预警 warning】{_esc(o.zh)} / {_esc(o.en)} — {_esc(r['event_id'])}", s["warn"]))
    if not flagged:
        story.append(Paragraph("无风险预警 / no warnings", s["body"]))
    story.append(Paragraph("证据清单 Evidence list", s["h"]))
    rows = [[Paragraph(h, s["cell"]) for h in ("#", "时间 / 事件  Time / event", "结果 Outcome",
                                               "哈希 Hashes", "锚定 Anchor")]]
    styles = [("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
              ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]
    for n, (r, o) in enumerate(warnings, start=1):
        ev, anchor = r["event"], r["anchor"]
        names = label(ev["type"])
        hashes = [f"event {r['event_digest']}"] + [f"file {d['sha256']}" for d in ev.get("documents", [])]
        rows.append([
            Paragraph(str(r["index"]), s["cell"]),
            Paragraph(f"{_esc(ev['occurred_at'])}<br/>{_esc(names['zh'])}<br/>{_esc(names['en'])}", s["cell"]),
            Paragraph(f"{_esc(o.zh)}<br/>{_esc(o.en)}", s["cell"]),
            Paragraph("<br/>".join(hashes), s["small"]),
            Paragraph(f"block {anchor['block_number']}<br/>{utc_iso(anchor['block_time'])}<br/>"
                      f"size {anchor['tree_size']}", s["cell"]),
        ])
        if o.level in _LEVEL_COLOURS:
            styles.append(("TEXTCOLOR", (2, n), (2, n), _LEVEL_COLOURS[o.level]))
    story.append(Table(rows, colWidths=[9 * mm, 36 * mm, 42 * mm, 62 * mm, 25 * mm], repeatRows=1,
                       style=TableStyle(styles)))
    story += [
        Paragraph("公证机构签名 Notary signature (Ed25519, key registered on chain)", s["h"]),
        Paragraph("<br/>".join(_esc(line) for line in evidence["signature"].splitlines()), s["small"]),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"电子见证证书 {evidence['project']} {evidence['section']}",
                            author=evidence["log"]["origin"], subject=digest)
    doc.build(story)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(out.getvalue())))
    writer.add_attachment(ATTACHMENT, orjson.dumps(evidence, option=orjson.OPT_INDENT_2))
    final = io.BytesIO()
    writer.write(final)
    return final.getvalue()
