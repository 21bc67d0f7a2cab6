"""The permit as a one-page PDF: a windscreen card to cut out, and the holder's part.

The card goes behind the windscreen, in view of anyone on the street: it carries the municipality,
the number, the category code, the plates, zones, windows, validity and the QR seal, and nothing
about the person (no name, no address, no word of a disability: category H shows only its code).
The holder's part, kept at home, carries the name, address, conditions and the fee paid.
Text is Italian with English beside it. Drawn on the canvas directly (no platypus): a renewal
campaign renders tens of thousands of these, and the layout is fixed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from zoneinfo import ZoneInfo

from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from ztl.pdf.qr import draw_qr, qr_matrix
from ztl.values import display

BLUE = Color(0, 0.4, 0.8)  # Bootstrap Italia primary, #0066CC
GREY = Color(0.35, 0.35, 0.35)
QR_WIDTH = 42 * mm  # "printed about 40 mm wide", quiet zone included
CARD_WIDTH, CARD_HEIGHT = 170 * mm, 100 * mm


@dataclass(frozen=True)
class PermitDocument:
    municipality: str
    number: str
    category_code: str
    category_name_it: str
    category_name_en: str
    plates: tuple[str, ...]
    zones: tuple[str, ...]
    windows: tuple[str, ...]  # "HH:MM-HH:MM" in the municipality's time; empty: always
    valid_from: dt.datetime
    valid_to: dt.datetime
    issued_at: dt.datetime
    seal: str
    holder_name: str
    holder_id: str
    holder_address: str
    fee_cents: int
    stamp_duty_cents: int
    # The municipality's name and time zone come from its rules file (no default: a document
    # must never carry another city's identity or clock).
    timezone: str
    conditions: tuple[tuple[str, str], ...] = ()  # (Italian, English)


def render_permit(document: PermitDocument) -> bytes:
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=False)
    canvas.setTitle(f"Permesso ZTL {document.number}")
    canvas.setAuthor(document.municipality)
    canvas.setSubject("Permesso di accesso alla ZTL / Limited traffic zone permit")
    canvas.setCreator("ztl")
    zone = ZoneInfo(document.timezone)
    _width, height = A4
    top = height - 15 * mm
    canvas.setFont("Helvetica-Bold", 14)
    canvas.setFillColor(BLUE)
    canvas.drawString(20 * mm, top, document.municipality)
    canvas.setFillColor(black)
    canvas.setFont("Helvetica", 10)
    canvas.drawString(
        20 * mm, top - 6 * mm, "Permesso di accesso alla ZTL · Limited traffic zone permit"
    )
    card_top = top - 12 * mm
    _card(canvas, document, zone, 20 * mm, card_top - CARD_HEIGHT)
    _holder_part(canvas, document, zone, card_top - CARD_HEIGHT - 16 * mm)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _card(canvas: Canvas, doc: PermitDocument, zone: ZoneInfo, x: float, y: float) -> None:
    canvas.saveState()
    canvas.setDash(3, 3)
    canvas.setStrokeColor(GREY)
    canvas.rect(x - 3 * mm, y - 3 * mm, CARD_WIDTH + 6 * mm, CARD_HEIGHT + 6 * mm)
    canvas.restoreState()
    canvas.setFillColor(GREY)
    canvas.setFont("Helvetica", 7)
    canvas.drawString(
        x - 3 * mm, y - 7 * mm, "Ritagliare ed esporre sul parabrezza · Cut out and display"
    )
    canvas.setStrokeColor(BLUE)
    canvas.setLineWidth(1.5)
    canvas.roundRect(x, y, CARD_WIDTH, CARD_HEIGHT, 4 * mm)
    canvas.setFillColor(BLUE)
    canvas.roundRect(x, y + CARD_HEIGHT - 14 * mm, CARD_WIDTH, 14 * mm, 4 * mm, stroke=0, fill=1)
    canvas.rect(x, y + CARD_HEIGHT - 14 * mm, CARD_WIDTH, 6 * mm, stroke=0, fill=1)
    canvas.setFillColor(white)
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(x + 5 * mm, y + CARD_HEIGHT - 9.5 * mm, f"{doc.municipality} · ZTL")
    canvas.drawRightString(
        x + CARD_WIDTH - 5 * mm, y + CARD_HEIGHT - 9.5 * mm, f"Cat. {doc.category_code}"
    )
    canvas.setFillColor(black)
    left = x + 5 * mm
    line = y + CARD_HEIGHT - 22 * mm
    rows: Sequence[tuple[str, str, str, int]] = (
        ("Permesso n. · Permit no.", doc.number, "Helvetica-Bold", 13),
        ("Targhe · Plates", "  ".join(doc.plates), "Helvetica-Bold", 18),
        ("Zone · Zones", ", ".join(doc.zones), "Helvetica-Bold", 12),
        (
            "Fasce orarie · Hours",
            ", ".join(doc.windows) if doc.windows else "sempre · always",
            "Helvetica",
            11,
        ),
        (
            "Valido dal · Valid from",
            display.validity_start_both(doc.valid_from, zone),
            "Helvetica",
            11,
        ),
        (
            "Valido fino al · Valid until",
            display.validity_end_both(doc.valid_to, zone),
            "Helvetica-Bold",
            11,
        ),
    )
    for label, value, font, size in rows:
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(GREY)
        canvas.drawString(left, line + size * 0.95, label)
        canvas.setFillColor(black)
        canvas.setFont(font, size)
        canvas.drawString(left, line, value)
        line -= size * 0.35 * mm + 7.5 * mm
    draw_qr(canvas, qr_matrix(doc.seal), x + CARD_WIDTH - QR_WIDTH - 4 * mm, y + 8 * mm, QR_WIDTH)
    canvas.setFont("Helvetica", 6.5)
    canvas.setFillColor(GREY)
    canvas.drawCentredString(
        x + CARD_WIDTH - QR_WIDTH / 2 - 4 * mm, y + 5 * mm, "Ora locale · Local time"
    )
    canvas.setFillColor(black)


def _holder_part(canvas: Canvas, doc: PermitDocument, zone: ZoneInfo, top: float) -> None:
    x = 20 * mm
    canvas.setFont("Helvetica-Bold", 12)
    canvas.setFillColor(BLUE)
    canvas.drawString(x, top, "Parte per il titolare · Holder's copy")
    canvas.setFillColor(black)
    line = top - 9 * mm
    total = doc.fee_cents + doc.stamp_duty_cents
    paid = display.money_text(total)
    if doc.stamp_duty_cents:
        paid += f" (di cui bollo · stamp duty {display.money_text(doc.stamp_duty_cents)})"
    rows = (
        ("Titolare · Holder", doc.holder_name),
        ("Codice fiscale / Partita IVA · Tax code", doc.holder_id),
        ("Indirizzo · Address", doc.holder_address or "—"),
        (
            "Categoria · Category",
            f"{doc.category_code} · {doc.category_name_it} · {doc.category_name_en}",
        ),
        ("Permesso n. · Permit no.", doc.number),
        ("Importo pagato · Fee paid", paid),
        ("Rilasciato il · Issued on", display.datetime_text(doc.issued_at, zone)),
    )
    for label, value in rows:
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(GREY)
        canvas.drawString(x, line, label)
        canvas.setFillColor(black)
        canvas.setFont("Helvetica", 10.5)
        canvas.drawString(x + 62 * mm, line, value[:90])
        line -= 7 * mm
    line -= 3 * mm
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(x, line, "Condizioni · Conditions")
    line -= 6 * mm
    conditions = (*doc.conditions, *_STANDARD_CONDITIONS)
    size = _conditions_size(conditions, line - FOOTER_TOP)
    for italian, english in conditions:
        for text, font in ((italian, "Helvetica"), (english, "Helvetica-Oblique")):
            for part in simpleSplit(text, font, size, 170 * mm):
                canvas.setFont(font, size)
                canvas.drawString(x, line, part)
                line -= size * 0.49 * mm
        line -= 1.5 * mm
    canvas.setFont("Helvetica", 7.5)
    canvas.setFillColor(GREY)
    canvas.drawString(
        x,
        12 * mm,
        "Documento firmato digitalmente dal Comune (PAdES); ogni modifica invalida la firma. "
        "Digitally signed (PAdES): any change breaks the signature.",
    )


FOOTER_TOP = 18 * mm  # the signature notice's line and a margin above it


def _conditions_size(conditions: Sequence[tuple[str, str]], room: float) -> float:
    """The largest font size (9 down to 6 points) at which every condition fits above the
    footer: a city whose zones have long calendars (Firenze's summer nights) must not push the
    conditions over the signature notice."""
    size = 9.0
    while size > 6:
        height = (
            sum(
                len(simpleSplit(text, font, size, 170 * mm)) * size * 0.49 * mm
                for pair in conditions
                for text, font in zip(pair, ("Helvetica", "Helvetica-Oblique"), strict=True)
            )
            + len(conditions) * 1.5 * mm
        )
        if height <= room:
            break
        size -= 0.5
    return size


_STANDARD_CONDITIONS: tuple[tuple[str, str], ...] = (
    (
        "Il permesso vale solo per i veicoli, le zone, le fasce orarie e il periodo indicati, "
        "ed è verificato dalla Polizia municipale leggendo il codice QR o la targa.",
        "The permit is valid only for the vehicles, zones, hours and period shown; the municipal "
        "police check it by reading the QR code or the plate.",
    ),
    (
        "Il contrassegno va esposto in modo visibile. Cambi di targa, rinunce e rinnovi si "
        "chiedono online; il permesso sostituito non è più valido.",
        "Display the card where it can be seen. Plate changes, surrenders and renewals are asked "
        "for online; a replaced permit is no longer valid.",
    ),
)
