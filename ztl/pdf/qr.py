"""The seal's QR code: alphanumeric mode, error correction M, version 11 or lower (seal-format.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import segno

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
