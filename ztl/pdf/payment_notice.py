"""The pagoPA payment notice (avviso di pagamento) as a one-page A4 PDF, in Italian.

Laid out the way residents know the notice from every other Italian public body: who asks for
the money and from whom, what for, how much and by when, where to pay, and at the bottom the
"BANCHE E ALTRI CANALI" box with the QR code that banking apps, ATMs and tobacconists scan, and
beside it the notice code and the creditor's fiscal code to type when the code does not scan.
The CBILL code is left out: the municipality has none.

The document receives the QR text ready-made (`PAGOPA|002|...`): ztl.pdf may not import
ztl.payments, which owns notice numbers and that text; the document only checks that the text
carries the same number, creditor and amount it prints, so the code scanned and the figures read
can never disagree. Drawn on the canvas directly like the permit (ztl/pdf/render.py), with the
same fonts, colours and vector QR modules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO

from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ztl.pdf.qr import any_qr_matrix, draw_qr
from ztl.values import display

BLUE = Color(0, 0.4, 0.8)  # Bootstrap Italia primary, #0066CC, as on the permit
GREY = Color(0.35, 0.35, 0.35)
RULE = Color(0.8, 0.84, 0.9)
QR_WIDTH = 36 * mm  # quiet zone included; banking apps ask for at least 3 cm
LEFT, RIGHT = 15 * mm, A4[0] - 15 * mm
WIDTH = RIGHT - LEFT
COLUMN = 110 * mm  # where the right-hand column starts (destinatario, dove pagare)
REASON_LENGTH = 140  # pagoPA's limit for the causale
MAX_LINES = 5  # itemised lines that fit the "QUANTO E QUANDO PAGARE?" block
NOTICE_DIGITS = 18
FISCAL_CODE_DIGITS = 11


class BadNoticeDocument(ValueError):
    """A notice that must not be printed: the message says which figure disagrees or is wrong."""


@dataclass(frozen=True)
class NoticeLine:
    """One item of the amount, e.g. "Tariffa permesso ZTL" or "Imposta di bollo (domanda)"."""

    label: str
    amount_cents: int


@dataclass(frozen=True)
class PaymentNoticeDocument:
    """Everything printed on the notice, already decided by the caller (ztl.payments)."""

    creditor_name: str  # "Comune di Prato"
    creditor_fiscal_code: str  # 11 digits
    creditor_address: str | None
    payer_name: str
    payer_tax_code: str  # codice fiscale or partita IVA
    reason: str  # the causale, at most 140 characters
    lines: tuple[NoticeLine, ...]
    amount_cents: int  # the total, the sum of the lines
    expires_on: dt.date
    notice_number: str  # 18 digits
    qr_text: str  # PAGOPA|002|<notice number>|<creditor's fiscal code>|<amount in cents>
    checkout_url: str | None  # the "Paga online" link, clickable on screen

    def __post_init__(self) -> None:
        """Refuse a notice whose parts disagree: a payer who reads one amount and is charged
        another by the scanned code, or a code that names another number, is worse than none."""
        if len(self.notice_number) != NOTICE_DIGITS or not _digits(self.notice_number):
            raise BadNoticeDocument(f"the notice number is {NOTICE_DIGITS} digits")
        if len(self.creditor_fiscal_code) != FISCAL_CODE_DIGITS or not _digits(
            self.creditor_fiscal_code
        ):
            raise BadNoticeDocument(f"the creditor's fiscal code is {FISCAL_CODE_DIGITS} digits")
        if not self.reason.strip() or len(self.reason) > REASON_LENGTH:
            raise BadNoticeDocument(f"the reason is 1 to {REASON_LENGTH} characters")
        if not 1 <= len(self.lines) <= MAX_LINES:
            raise BadNoticeDocument(f"a notice has 1 to {MAX_LINES} lines")
        if self.amount_cents <= 0 or any(line.amount_cents < 0 for line in self.lines):
            raise BadNoticeDocument("the total is positive and no line is negative")
        if sum(line.amount_cents for line in self.lines) != self.amount_cents:
            raise BadNoticeDocument("the total is not the sum of the lines")
        fields = self.qr_text.split("|")[-3:]
        if fields != [self.notice_number, self.creditor_fiscal_code, str(self.amount_cents)]:
            raise BadNoticeDocument(
                "the QR text does not carry the notice's number, creditor and amount"
            )


def render_payment_notice(document: PaymentNoticeDocument) -> bytes:
    """The notice as PDF bytes. Invariant: the same notice gives the same bytes (no creation
    date nor random file id), so a notice printed again is the very same file; unlike the
    permit, it is not signed, and nothing in it has to be unique per rendering."""
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=True, lang="it-IT")
    canvas.setTitle(f"Avviso di pagamento pagoPA {document.notice_number}")
    canvas.setAuthor(document.creditor_name)
    canvas.setSubject("Avviso di pagamento pagoPA")
    canvas.setCreator("ztl")
    top = _header(canvas, document, A4[1] - 18 * mm)
    top = _parties(canvas, document, top - 6 * mm)
    _how_much(canvas, document, top - 8 * mm)
    _where(canvas, document, top - 8 * mm)
    _bank_box(canvas, document, 110 * mm)
    canvas.setFont("Helvetica", 7)
    canvas.setFillColor(GREY)
    canvas.drawString(
        LEFT,
        12 * mm,
        "Conserva la ricevuta: è la prova del pagamento. "
        "L'elenco dei canali di pagamento è su www.pagopa.gov.it.",
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _header(canvas: Canvas, doc: PaymentNoticeDocument, top: float) -> float:
    """Title, creditor and the object of payment; returns the height reached."""
    canvas.setFillColor(BLUE)
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(LEFT, top, "AVVISO DI PAGAMENTO")
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawRightString(RIGHT, top, "pagoPA")
    canvas.setFillColor(black)
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(LEFT, top - 7 * mm, _fit(doc.creditor_name, "Helvetica-Bold", 12, WIDTH))
    line = _label(canvas, "OGGETTO DEL PAGAMENTO", LEFT, top - 13.5 * mm)
    canvas.setFont("Helvetica", 10)
    for part in _wrap(doc.reason, "Helvetica", 10, WIDTH, 3):
        canvas.drawString(LEFT, line, part)
        line -= 4.5 * mm
    _rule(canvas, line)
    return line


def _parties(canvas: Canvas, doc: PaymentNoticeDocument, top: float) -> float:
    """ENTE CREDITORE on the left, DESTINATARIO AVVISO on the right."""
    width = COLUMN - LEFT - 8 * mm
    left = _party(
        canvas,
        "ENTE CREDITORE",
        doc.creditor_name,
        f"Cod. Fiscale {doc.creditor_fiscal_code}",
        doc.creditor_address,
        LEFT,
        top,
        width,
    )
    right = _party(
        canvas,
        "DESTINATARIO AVVISO",
        doc.payer_name,
        f"Cod. Fiscale {doc.payer_tax_code}",
        None,
        COLUMN,
        top,
        RIGHT - COLUMN,
    )
    bottom = min(left, right)
    _rule(canvas, bottom)
    return bottom


def _party(
    canvas: Canvas,
    title: str,
    name: str,
    code: str,
    address: str | None,
    x: float,
    top: float,
    width: float,
) -> float:
    canvas.setFillColor(BLUE)
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(x, top, title)
    canvas.setFillColor(black)
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(x, top - 5.5 * mm, _fit(name, "Helvetica-Bold", 11, width))
    canvas.setFont("Helvetica", 9)
    canvas.drawString(x, top - 10.5 * mm, code)
    line = top - 15 * mm
    for part in _wrap(address or "", "Helvetica", 9, width, 2):
        canvas.drawString(x, line, part)
        line -= 4 * mm
    return line - 2 * mm


def _how_much(canvas: Canvas, doc: PaymentNoticeDocument, top: float) -> None:
    """The total and its deadline in large type, then each line: what the resident pays for."""
    width = COLUMN - LEFT - 8 * mm
    canvas.setFillColor(BLUE)
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(LEFT, top, "QUANTO E QUANDO PAGARE?")
    canvas.setFillColor(black)
    canvas.setFont("Helvetica-Bold", 15)
    canvas.drawString(LEFT, top - 8 * mm, display.money_text(doc.amount_cents))
    canvas.setFont("Helvetica", 11)
    canvas.drawString(LEFT, top - 13.5 * mm, f"entro il {display.date_text(doc.expires_on)}")
    line = _label(canvas, "DETTAGLIO DELL'IMPORTO", LEFT, top - 21 * mm)
    money_width = 28 * mm
    for item in doc.lines:
        canvas.setFont("Helvetica", 9)
        canvas.drawString(LEFT, line, _fit(item.label, "Helvetica", 9, width - money_width))
        canvas.drawRightString(LEFT + width, line, display.money_text(item.amount_cents))
        line -= 4.5 * mm
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.5)
    canvas.line(LEFT, line + 3 * mm, LEFT + width, line + 3 * mm)
    line -= 1 * mm
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(LEFT, line, "Totale")
    canvas.drawRightString(LEFT + width, line, display.money_text(doc.amount_cents))


def _where(canvas: Canvas, doc: PaymentNoticeDocument, top: float) -> None:
    """Any pagoPA channel takes the notice; online first, with the link when there is one."""
    width = RIGHT - COLUMN
    canvas.setFillColor(BLUE)
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(COLUMN, top, "DOVE PAGARE?")
    line = top - 7 * mm
    online = (
        "con il link «Paga online» qui sotto, oppure con l'app o l'home banking della tua banca "
        "o di un altro prestatore aderente a pagoPA: con carta, conto corrente o app."
        if doc.checkout_url
        else "con l'app o l'home banking della tua banca o di un altro prestatore aderente a "
        "pagoPA: con carta, conto corrente o app."
    )
    line = _paragraph(canvas, "PAGA ONLINE", online, line, width)
    if doc.checkout_url:
        canvas.setFillColor(BLUE)
        canvas.setFont("Helvetica-Bold", 11)
        text = "Paga online ›"
        canvas.drawString(COLUMN, line, text)
        canvas.linkURL(
            doc.checkout_url,
            (
                COLUMN,
                line - 1.5 * mm,
                COLUMN + stringWidth(text, "Helvetica-Bold", 11),
                line + 4 * mm,
            ),
            relative=0,
            thickness=0,
        )
        line -= 4 * mm
        canvas.setFillColor(GREY)
        canvas.setFont("Helvetica", 7)
        for part in _wrap(doc.checkout_url, "Helvetica", 7, width, 2):
            canvas.drawString(COLUMN, line, part)
            line -= 3 * mm
        line -= 3 * mm
    _paragraph(
        canvas,
        "PAGA SUL TERRITORIO",
        "negli Uffici Postali, in banca e agli sportelli ATM abilitati, dai tabaccai e nelle "
        "ricevitorie aderenti a pagoPA: in contanti, con carta o conto corrente. "
        "Porta con te questo avviso.",
        line,
        width,
    )


def _paragraph(canvas: Canvas, title: str, text: str, top: float, width: float) -> float:
    canvas.setFillColor(black)
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawString(COLUMN, top, title)
    line = top - 4.5 * mm
    canvas.setFont("Helvetica", 8.5)
    for part in _wrap(text, "Helvetica", 8.5, width, 5):
        canvas.drawString(COLUMN, line, part)
        line -= 4 * mm
    return line - 3 * mm


def _bank_box(canvas: Canvas, doc: PaymentNoticeDocument, top: float) -> None:
    """The part banks, ATMs and tobacconists use: the QR, and beside it what to type when the
    code will not scan (the notice code and the creditor's fiscal code)."""
    height = 78 * mm
    bottom = top - height
    canvas.setFillColor(GREY)
    canvas.setFont("Helvetica", 7.5)
    canvas.drawString(
        LEFT,
        top + 4 * mm,
        "Utilizza la porzione di avviso relativa al canale di pagamento che preferisci.",
    )
    canvas.setStrokeColor(BLUE)
    canvas.setLineWidth(1)
    canvas.rect(LEFT, bottom, WIDTH, height)
    canvas.setFillColor(BLUE)
    canvas.rect(LEFT, top - 9 * mm, WIDTH, 9 * mm, stroke=0, fill=1)
    canvas.setFillColor(white)
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(LEFT + 5 * mm, top - 6.2 * mm, "BANCHE E ALTRI CANALI")
    qr_y = top - 14 * mm - QR_WIDTH
    draw_qr(canvas, any_qr_matrix(doc.qr_text), LEFT + 4 * mm, qr_y, QR_WIDTH)
    x = LEFT + 8 * mm + QR_WIDTH
    width = RIGHT - 5 * mm - x
    canvas.setFillColor(black)
    canvas.setFont("Helvetica", 8)
    line = top - 15 * mm
    for part in _wrap(
        "Qui accanto trovi il codice QR: inquadralo con l'app della tua banca o di un altro "
        "prestatore aderente a pagoPA, o fallo leggere allo sportello. Se il codice non si "
        "legge, indica il Codice Avviso e il Codice Fiscale dell'Ente Creditore.",
        "Helvetica",
        8,
        width,
        4,
    ):
        canvas.drawString(x, line, part)
        line -= 3.6 * mm
    line -= 3 * mm
    half = width / 2
    rows = (
        (("Destinatario", doc.payer_name), ("Importo", display.money_text(doc.amount_cents))),
        (
            ("Ente Creditore", doc.creditor_name),
            ("Scadenza", f"entro il {display.date_text(doc.expires_on)}"),
        ),
    )
    for pair in rows:
        for (label, value), column in zip(pair, (x, x + half), strict=True):
            _field(canvas, label, value, column, line, half - 4 * mm, 10)
        line -= 10 * mm
    _label(canvas, "Oggetto del pagamento", x, line)
    canvas.setFont("Helvetica", 8.5)
    line -= 4 * mm
    for part in _wrap(doc.reason, "Helvetica", 8.5, width, 3):
        canvas.drawString(x, line, part)
        line -= 3.8 * mm
    line -= 3 * mm
    _field(canvas, "Codice Avviso", _grouped(doc.notice_number), x, line, half - 4 * mm, 12)
    _field(
        canvas,
        "Cod. Fiscale Ente Creditore",
        doc.creditor_fiscal_code,
        x + half,
        line,
        half - 4 * mm,
        12,
    )


def _field(
    canvas: Canvas, label: str, value: str, x: float, top: float, width: float, size: float
) -> None:
    line = _label(canvas, label, x, top)
    canvas.setFont("Helvetica-Bold", size)
    canvas.drawString(x, line, _fit(value, "Helvetica-Bold", size, width))


def _label(canvas: Canvas, text: str, x: float, top: float) -> float:
    """A small grey caption; returns the baseline of the value under it."""
    canvas.setFillColor(GREY)
    canvas.setFont("Helvetica", 7.5)
    canvas.drawString(x, top, text)
    canvas.setFillColor(black)
    return top - 4.5 * mm


def _rule(canvas: Canvas, y: float) -> None:
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.8)
    canvas.line(LEFT, y, RIGHT, y)


def _grouped(number: str) -> str:
    """The notice number in groups of four, as ztl.payments.notice_numbers.grouped writes it
    (restated here: ztl.pdf may not import ztl.payments; the tests hold the two together)."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _fit(text: str, font: str, size: float, width: float) -> str:
    """The text on one line, cut with an ellipsis if too wide: a long company name must not run
    into the next column."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, font: str, size: float, width: float, most: int) -> list[str]:
    """Lines no wider than width, at most `most` of them (the last cut with an ellipsis). Words
    wider than a line (a URL, a reason without spaces) are broken between characters, as
    simpleSplit leaves them whole."""
    lines: list[str] = []
    for part in simpleSplit(text, font, size, width) if text else []:
        while stringWidth(part, font, size) > width:
            cut = len(part) - 1
            while cut > 1 and stringWidth(part[:cut], font, size) > width:
                cut -= 1
            lines.append(part[:cut])
            part = part[cut:]
        lines.append(part)
    if len(lines) > most:
        lines = [*lines[: most - 1], _fit(lines[most - 1] + "…", font, size, width)]
    return lines
