"""Reading the seal back from a permit PDF, the way an officer's phone does: render, then scan.

Why render instead of reading the text out of the file: what counts on the street is the printed
QR code, so `ztl verify FILE.pdf` checks that very code (and the PAdES signature over the file).
"""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp

from ztl.signing.seal import PREFIX

DPI = 200


class SealNotFound(ValueError):
    """No readable seal QR on the first page."""


def read_seal(pdf: bytes, dpi: int = DPI) -> str:
    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise SealNotFound(f"not a readable PDF: {exc}") from exc
    try:
        if len(document) == 0:
            raise SealNotFound("the PDF has no pages")
        image = document[0].render(scale=dpi / 72).to_pil()
    finally:
        document.close()
    for barcode in zxingcpp.read_barcodes(image):
        if barcode.format == zxingcpp.BarcodeFormat.QRCode and barcode.text.startswith(PREFIX):
            return barcode.text
    raise SealNotFound("no QR code with a ZTL seal on the first page")
