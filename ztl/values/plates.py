"""Vehicle plates: normalisation and the Italian formats.

Normalised form: upper case, no spaces, dashes or dots ("ab 123-cd" -> "AB123CD").
Italian formats recognised: current cars (AA000AA, since 1994), motorcycles (AA00000, since 1999),
mopeds (six characters, letters and digits), and the old provincial plates (province code + 5 or 6
characters, "PO 123456", "ROMA A1234"). Foreign plates are only normalised: their format is the
issuing country's business, and the country travels beside the plate.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ztl.values import InvalidValue

_SEPARATORS = re.compile(r"[\s\-.·]+")
_ALNUM = re.compile(r"[A-Z0-9]+")
# Letters used on current plates: no I, O, Q, U.
_L = "A-HJ-NPR-TV-Z"
_CAR = re.compile(rf"[{_L}]{{2}}[0-9]{{3}}[{_L}]{{2}}")
_MOTORCYCLE = re.compile(rf"[{_L}]{{2}}[0-9]{{5}}")
_MOPED = re.compile(rf"[{_L}0-9]{{6}}")
PROVINCES = frozenset(
    [
        "AG",
        "AL",
        "AN",
        "AO",
        "AP",
        "AQ",
        "AR",
        "AT",
        "AV",
        "BA",
        "BG",
        "BI",
        "BL",
        "BN",
        "BO",
        "BR",
        "BS",
        "BT",
        "BZ",
        "CA",
        "CB",
        "CE",
        "CH",
        "CI",
        "CL",
        "CN",
        "CO",
        "CR",
        "CS",
        "CT",
        "CZ",
        "EN",
        "FC",
        "FE",
        "FG",
        "FI",
        "FM",
        "FO",
        "FR",
        "GE",
        "GO",
        "GR",
        "IM",
        "IS",
        "KR",
        "LC",
        "LE",
        "LI",
        "LO",
        "LT",
        "LU",
        "MB",
        "MC",
        "ME",
        "MI",
        "MN",
        "MO",
        "MS",
        "MT",
        "NA",
        "NO",
        "NU",
        "OG",
        "OR",
        "OT",
        "PA",
        "PC",
        "PD",
        "PE",
        "PG",
        "PI",
        "PN",
        "PO",
        "PR",
        "PS",
        "PT",
        "PU",
        "PV",
        "PZ",
        "RA",
        "RC",
        "RE",
        "RG",
        "RI",
        "RM",
        "RN",
        "RO",
        "SA",
        "SI",
        "SO",
        "SP",
        "SR",
        "SS",
        "SU",
        "SV",
        "TA",
        "TE",
        "TN",
        "TO",
        "TP",
        "TR",
        "TS",
        "TV",
        "UD",
        "VA",
        "VB",
        "VC",
        "VE",
        "VI",
        "VR",
        "VS",
        "VT",
        "VV",
        "ROMA",
    ]
)
_PROVINCIAL = re.compile(r"(ROMA|[A-Z]{2})([0-9A-Z]{5,6})")
MAX_LENGTH = 12


class PlateKind(StrEnum):
    CAR = "car"
    MOTORCYCLE = "motorcycle"
    MOPED = "moped"
    PROVINCIAL = "provincial"
    FOREIGN = "foreign"


def normalise_plate(raw: str) -> str:
    """Upper case, separators removed; refuses empty, too long, or non-alphanumeric plates."""
    if raw is None:
        raise InvalidValue("targa mancante / plate missing")
    plate = _SEPARATORS.sub("", raw.strip().upper())
    if not plate:
        raise InvalidValue("targa mancante / plate missing")
    if len(plate) > MAX_LENGTH or not _ALNUM.fullmatch(plate):
        raise InvalidValue(f"targa non valida / invalid plate: {raw.strip()[:20]!r}")
    return plate


def italian_plate_kind(plate: str) -> PlateKind | None:
    """The Italian format a normalised plate has, or None when it has none."""
    if _CAR.fullmatch(plate):
        return PlateKind.CAR
    if _MOTORCYCLE.fullmatch(plate):
        return PlateKind.MOTORCYCLE
    provincial = _PROVINCIAL.fullmatch(plate)
    if provincial and provincial.group(1) in PROVINCES and any(c.isdigit() for c in plate):
        return PlateKind.PROVINCIAL
    if (
        _MOPED.fullmatch(plate)
        and any(c.isdigit() for c in plate)
        and any(c.isalpha() for c in plate)
    ):
        return PlateKind.MOPED
    return None


def parse_italian_plate(raw: str) -> str:
    """Normalise and require one of the Italian formats (the vehicle register holds only these)."""
    plate = normalise_plate(raw)
    if italian_plate_kind(plate) is None:
        raise InvalidValue(f"targa italiana non riconosciuta / not an Italian plate: {plate}")
    return plate


class PlateProblem(InvalidValue):
    """Why a plate with its country cannot be taken; `code` is the error catalogue's
    ("plate_invalid", "country_invalid", "plate_not_italian")."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def checked_plate(plate: str, country: str | None = "IT") -> tuple[str, str]:
    """A plate and its country as every form, file and API takes them: (normalised plate, country).

    The one rule: the country is two letters A-Z (Italy when none is given); an Italian plate must
    have one of the Italian formats, since the vehicle register holds only those; a foreign
    plate's format is its country's business.
    """
    try:
        normalised = normalise_plate(plate)
    except InvalidValue as exc:
        raise PlateProblem(str(exc), "plate_invalid") from exc
    code = (country or "IT").strip().upper()
    if len(code) != 2 or not (code.isascii() and code.isalpha()):
        raise PlateProblem(f"country must be two letters, got {country!r}", "country_invalid")
    if code == "IT" and italian_plate_kind(normalised) is None:
        raise PlateProblem(
            f"{normalised} is not an Italian plate (car AA000AA, motorcycle AA00000, moped, "
            "provincial PO123456); for a foreign plate give its country",
            "plate_not_italian",
        )
    return normalised, code


def plate_and_country(text: str) -> tuple[str, str]:
    """A plate typed in one field: "AB 123 CD" (Italian) or "DE:B MW 1234" (the country's two
    letters and a colon first), checked by `checked_plate`."""
    given, sep, plate = (text or "").strip().partition(":")
    if not sep:
        return checked_plate(given, "IT")
    if not given.strip():
        raise PlateProblem("the country's two letters go before the colon", "country_invalid")
    return checked_plate(plate, given)
