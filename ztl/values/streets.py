"""Street names and house numbers as the street register compares them.

Street names are compared by a key: accents, case, punctuation and extra spaces removed, and the
usual abbreviations expanded ("V. Ricasoli" and "via  ricasoli" are the same street). House numbers
may carry a suffix ("12/A", "12 bis"); the number alone decides the zone.
"""

from __future__ import annotations

import re
import unicodedata

from ztl.values import InvalidValue

_ABBREVIATIONS = {
    "V": "VIA",
    "VLE": "VIALE",
    "VL": "VIALE",
    "PZA": "PIAZZA",
    "PZZA": "PIAZZA",
    "PIAZ": "PIAZZA",
    "P": "PIAZZA",
    "PTTA": "PIAZZETTA",
    "CSO": "CORSO",
    "LGO": "LARGO",
    "VIC": "VICOLO",
    "VCO": "VICOLO",
}
_NON_WORD = re.compile(r"[^A-Z0-9]+")
_HOUSE_NUMBER = re.compile(r"\s*(\d{1,5})\s*(?:[/\-]?\s*[A-Za-z]{1,4}|\s+bis|\s+ter)?\s*", re.I)


def street_key(raw: str) -> str:
    """The comparison key of a street name; refuses names with no letters or digits."""
    decomposed = unicodedata.normalize("NFKD", raw or "")
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    # Abbreviations are written with a dot ("V.le", "P.zza"): join the parts around inner dots first.
    ascii_text = re.sub(r"(?<=[A-Z])\.(?=[A-Z])", "", ascii_text)
    words = [w for w in _NON_WORD.split(ascii_text) if w]
    if not words:
        raise InvalidValue(f"nome della via non valido / invalid street name: {raw!r}")
    words[0] = _ABBREVIATIONS.get(words[0], words[0])
    return " ".join(words)


def house_number(raw: str) -> int:
    """The number of a house number with an optional suffix ("12/A" -> 12, "7 bis" -> 7)."""
    match = _HOUSE_NUMBER.fullmatch(raw or "")
    if not match:
        raise InvalidValue(f"numero civico non valido / invalid house number: {raw!r}")
    number = int(match.group(1))
    if number <= 0:
        raise InvalidValue(f"numero civico non valido / invalid house number: {raw!r}")
    return number
