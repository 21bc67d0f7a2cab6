"""The seal's QR code: alphanumeric mode, error correction M, version 11 or lower (seal-format.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import segno
from reportlab.lib.colors import black, white
from reportlab.pdfgen.canvas import Canvas

MAX_VERSION = 11
QUIET_ZONE = 4  # modules of white border the spec asks for


class QrTooLarge(ValueError):
    """The seal does not fit a version-11 QR: too many plates or zones for a scannable code."""


@dataclass(frozen=True)
class QrMatrix:
    version: int
    size: int  # modules per side, without the quiet zone
    rows: tuple[tuple[bool, ...], ...]  # True is a dark module


@lru_cache(maxsize=64)
def qr_matrix(text: str) -> QrMatrix:
    """Cached: issuance checks the size first and the renderer draws the same code right after."""
    code = segno.make(text, error="m", boost_error=False, micro=False)
    if code.error != "M" or code.mode != "alphanumeric":
        raise QrTooLarge(f"the seal must encode alphanumeric at level M, got {code.mode}")
    if not isinstance(code.version, int) or code.version > MAX_VERSION:
        raise QrTooLarge(f"the seal needs QR version {code.version}, more than {MAX_VERSION}")
    rows = tuple(tuple(bool(cell & 1) for cell in row) for row in code.matrix)
    return QrMatrix(code.version, len(rows), rows)


def any_qr_matrix(text: str) -> QrMatrix:
    """Error correction M in whatever mode the text needs (the pagoPA notice's "PAGOPA|002|..."
    is byte mode), without the seal's version limit."""
    code = segno.make(text, error="m", boost_error=False, micro=False)
    rows = tuple(tuple(bool(cell & 1) for cell in row) for row in code.matrix)
    return QrMatrix(int(code.version), len(rows), rows)


def draw_qr(canvas: Canvas, matrix: QrMatrix, x: float, y: float, width: float) -> None:
    """Vector modules on a white square that includes the quiet zone, one rectangle per run of
    dark modules in a row: crisp at any printer. (x, y) is the square's lower left corner."""
    unit = width / (matrix.size + 2 * QUIET_ZONE)
    canvas.setFillColor(white)
    canvas.rect(x, y, width, width, stroke=0, fill=1)
    canvas.setFillColor(black)
    path = canvas.beginPath()
    for r, row in enumerate(matrix.rows):
        c = 0
        top = y + width - (QUIET_ZONE + r + 1) * unit
        while c < matrix.size:
            if row[c]:
                start = c
                while c < matrix.size and row[c]:
                    c += 1
                path.rect(x + (QUIET_ZONE + start) * unit, top, (c - start) * unit, unit)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)
