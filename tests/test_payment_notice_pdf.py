"""The printed pagoPA notice: the QR a banking app scans and the figures a person reads agree.

The QR is read back the way a payer's phone or an ATM reads it: the page is rasterised with
pypdfium2 and decoded with zxing-cpp (an independent reader, not segno, which drew it), then
parsed with ztl.payments' own QrText, which checks the notice number's check digits.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from PIL import Image

from ztl.payments.notice_numbers import QrText, grouped, iuv_of, new_iuv, notice_number
from ztl.pdf.payment_notice import (
    BadNoticeDocument,
    NoticeLine,
    PaymentNoticeDocument,
    render_payment_notice,
)
from ztl.values.display import date_text, money_text

DPI = 200
CREDITOR = "00337360978"
CHECKOUT = "https://checkout.pagopa.it/pay/4b1f2c9e-77d0-4a57-9b8e-1f0c2d3e4a5b"


def notice(
    lines: tuple[NoticeLine, ...] = (
        NoticeLine("Tariffa permesso ZTL", 4_500),
        NoticeLine("Imposta di bollo (domanda)", 1_600),
    ),
    reason: str = "Permesso ZTL residenti, targa AA000AA",
    checkout_url: str | None = CHECKOUT,
) -> PaymentNoticeDocument:
    number = notice_number(new_iuv("01"))
    total = sum(line.amount_cents for line in lines)
    return PaymentNoticeDocument(
        creditor_name="Comune di Prato",
        creditor_fiscal_code=CREDITOR,
        creditor_address="Piazza del Comune 2, 59100 Prato (PO)",
        payer_name="Maria Bianchi",
        payer_tax_code="BNCMRA80A41G999Z",
        reason=reason,
        lines=lines,
        amount_cents=total,
        expires_on=dt.date(2026, 12, 31),
        notice_number=number,
        qr_text=QrText(number, CREDITOR, total).text(),
        checkout_url=checkout_url,
    )


@contextmanager
def opened(pdf: bytes) -> Iterator[pdfium.PdfDocument]:
    document = pdfium.PdfDocument(pdf)
    try:
        yield document
    finally:
        document.close()


def scanned(pdf: bytes) -> tuple[Image.Image, list[Any]]:
    """The first page at 200 dpi and the QR codes zxing-cpp finds on it."""
    with opened(pdf) as document:
        assert len(document) == 1, "the notice is one page"
        image = document[0].render(scale=DPI / 72).to_pil()
    codes = [
        code
        for code in zxingcpp.read_barcodes(image)
        if code.format == zxingcpp.BarcodeFormat.QRCode
    ]
    return image, codes


def page_text(pdf: bytes) -> str:
    with opened(pdf) as document:
        return " ".join(document[0].get_textpage().get_text_range().split())


def test_the_scanned_qr_and_the_printed_figures_are_the_notice() -> None:
    document = notice()
    pdf = render_payment_notice(document)

    image, codes = scanned(pdf)
    assert len(codes) == 1
    code = codes[0]
    parsed = QrText.parse(code.text)  # refuses a wrong prefix, creditor or check digits
    assert parsed == QrText(document.notice_number, CREDITOR, 6_100)
    assert iuv_of(parsed.notice_number) == document.notice_number[1:]
    assert code.ec_level == "M"

    # At least 3 cm wide with its quiet zone, and the quiet zone (4 modules) is blank paper.
    modules = 17 + 4 * int(code.extra["Version"])
    corners = [code.position.top_left, code.position.top_right]
    corners += [code.position.bottom_right, code.position.bottom_left]
    left, right = min(p.x for p in corners), max(p.x for p in corners)
    top, bottom = min(p.y for p in corners), max(p.y for p in corners)
    module = (right - left) / modules
    assert (modules + 8) * module / DPI * 25.4 >= 30
    quiet = round(4 * module) - 1
    ring = image.convert("L").crop((left - quiet, top - quiet, right + quiet, bottom + quiet))
    ring.paste(255, (quiet, quiet, quiet + right - left, quiet + bottom - top))
    darkest, _lightest = ring.getextrema()
    assert isinstance(darkest, int) and darkest > 200

    text = page_text(pdf)
    for needle in (
        "AVVISO DI PAGAMENTO",
        "ENTE CREDITORE",
        "DESTINATARIO AVVISO",
        "QUANTO E QUANDO PAGARE?",
        "DOVE PAGARE?",
        "BANCHE E ALTRI CANALI",
        grouped(document.notice_number),
        money_text(6_100),
        f"entro il {date_text(dt.date(2026, 12, 31))}",
        f"Tariffa permesso ZTL {money_text(4_500)}",
        f"Imposta di bollo (domanda) {money_text(1_600)}",
        CREDITOR,
        "BNCMRA80A41G999Z",
        "Permesso ZTL residenti, targa AA000AA",
        "Paga online",
    ):
        assert needle in text, needle
    assert "CBILL" not in text

    with opened(pdf) as opened_document:
        metadata = opened_document.get_metadata_dict()
    assert metadata["Title"] == f"Avviso di pagamento pagoPA {document.notice_number}"


def test_the_paga_online_label_is_a_link_to_checkout() -> None:
    pdf = render_payment_notice(notice())
    with opened(pdf) as document:
        page = document[0]
        textpage = page.get_textpage()
        found = textpage.search("Paga online ›").get_next()
        assert found is not None
        left, bottom, right, top = textpage.get_charbox(found[0] + found[1] // 2)
        link = pdfium_c.FPDFLink_GetLinkAtPoint(page.raw, (left + right) / 2, (bottom + top) / 2)
        assert link, "the label is clickable"
        action = pdfium_c.FPDFLink_GetAction(link)
        size = pdfium_c.FPDFAction_GetURIPath(document.raw, action, None, 0)
        buffer = ctypes.create_string_buffer(size)
        pdfium_c.FPDFAction_GetURIPath(document.raw, action, buffer, size)
        assert buffer.value.decode("ascii") == CHECKOUT


def test_without_a_checkout_url_there_is_no_link() -> None:
    pdf = render_payment_notice(notice(checkout_url=None))
    text = page_text(pdf)
    assert "Paga online ›" not in text
    assert "home banking" in text  # the other online channels are still named
    assert b"/URI" not in pdf


def test_a_long_reason_and_three_lines_still_fit_one_page_and_scan() -> None:
    reason = (
        "Permesso ZTL residenti categoria 1, targhe AA000AA e BB111BB, zone A e B, "
        "validità un anno, rinnovo del permesso PO-2026-000123 richiesto online"
    )
    reason = (reason + " " + "x" * 140)[:140]
    lines = (
        NoticeLine("Tariffa permesso ZTL", 9_000),
        NoticeLine("Imposta di bollo (domanda)", 1_600),
        NoticeLine("Imposta di bollo (permesso)", 1_600),
    )
    document = notice(lines=lines, reason=reason, checkout_url=None)
    pdf = render_payment_notice(document)

    _image, codes = scanned(pdf)  # one page, asserted there
    assert [QrText.parse(code.text) for code in codes] == [
        QrText(document.notice_number, CREDITOR, 12_200)
    ]
    text = page_text(pdf)
    assert money_text(12_200) in text
    assert f"Imposta di bollo (permesso) {money_text(1_600)}" in text
    assert grouped(document.notice_number) in text
    assert "validità un anno" in text


def test_the_same_notice_renders_to_the_same_bytes() -> None:
    document = notice()
    assert render_payment_notice(document) == render_payment_notice(document)


@pytest.mark.parametrize(
    "change",
    [
        {"amount_cents": 6_000},  # not the sum of the lines
        {"qr_text": QrText("301000000000000000", CREDITOR, 6_100).text()},  # another number
        {"reason": "x" * 141},
        {"reason": "  "},
        {"lines": ()},
        {"notice_number": "3012"},
        {"creditor_fiscal_code": "0033736097A"},
    ],
    ids=["total", "qr", "long-reason", "blank-reason", "no-lines", "number", "creditor"],
)
def test_a_notice_whose_parts_disagree_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(BadNoticeDocument):
        dataclasses.replace(notice(), **change)
