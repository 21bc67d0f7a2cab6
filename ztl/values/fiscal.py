"""Codice fiscale (with omocodia) and partita IVA, validated by python-stdnum.

Omocodia: when two people would get the same codice fiscale, the Agenzia delle Entrate replaces
digits, from the right, with letters (0->L ... 9->V) and recomputes the check character. All the
variants belong to one person, so the system compares a canonical key: letters turned back to digits.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

from stdnum.it import codicefiscale, iva

from ztl.values import InvalidValue

# Positions (0-based) of the digits that omocodia may replace with letters.
_OMOCODIA_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
_OMOCODIA_LETTERS = "LMNPQRSTUV"
_TO_DIGIT = {letter: str(digit) for digit, letter in enumerate(_OMOCODIA_LETTERS)}


# stdnum's format of a personal codice fiscale (stdnum.it.codicefiscale._code_re), omocodia included.
_NORMAL_SPELLING = re.compile(
    r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]"
)


def is_valid_normal_codice_fiscale(value: str) -> bool:
    """True when value is a valid codice fiscale already in the normal spelling (16 upper-case
    characters, no separators).

    Why: the registers hold millions of codici fiscali in this spelling, and stdnum's validate()
    compacts the value three times (about 6 of its 9 µs); for the normal spelling compacting changes
    nothing, so the same three checks (format, check character, real birth date) are made once here
    with stdnum's own functions. False means "not shown valid here": ask parse_codice_fiscale.
    """
    if not _NORMAL_SPELLING.fullmatch(value) or (
        codicefiscale.calc_check_digit(value[:15]) != value[15]
    ):
        return False
    try:
        codicefiscale.get_birth_date(value)
    except Exception:  # stdnum's InvalidComponent: no such birth date
        return False
    return True


def parse_codice_fiscale(raw: str) -> str:
    """A valid personal codice fiscale, compacted and upper case."""
    if is_valid_normal_codice_fiscale(raw or ""):
        return raw
    value = codicefiscale.compact(raw or "")
    if len(value) != 16:
        raise InvalidValue(f"codice fiscale non valido / invalid codice fiscale: {raw!r}")
    try:
        return str(codicefiscale.validate(value))
    except Exception as exc:  # stdnum raises its own ValidationError subclasses
        raise InvalidValue(f"codice fiscale non valido / invalid codice fiscale: {raw!r}") from exc


def person_key(codice_fiscale: str) -> str:
    """The canonical codice fiscale: omocodic letters back to digits, check character recomputed."""
    chars = list(codice_fiscale)
    changed = False
    for position in _OMOCODIA_POSITIONS:
        digit = _TO_DIGIT.get(chars[position])
        if digit is not None:
            chars[position] = digit
            changed = True
    if not changed:
        return codice_fiscale
    body = "".join(chars[:15])
    return body + str(codicefiscale.calc_check_digit(body))


@lru_cache(maxsize=4096)
def omocodic_variants(codice_fiscale: str) -> frozenset[str]:
    """Every spelling of one person's codice fiscale: each omocodia position as its digit or its
    letter, check character recomputed (128 values, the canonical one among them).

    Why: a stored codice fiscale may be whichever variant somebody typed, and a database query
    cannot undo omocodia; to find every record of one person it compares with this set, which
    holds exactly the values whose `person_key` is the person's.
    """
    if len(codice_fiscale) != 16:
        return frozenset({codice_fiscale})
    key = person_key(codice_fiscale)
    if not all(key[p].isdigit() for p in _OMOCODIA_POSITIONS):
        return frozenset({key})
    variants = set()
    for letters in itertools.product((False, True), repeat=len(_OMOCODIA_POSITIONS)):
        chars = list(key)
        for position, letter in zip(_OMOCODIA_POSITIONS, letters, strict=True):
            if letter:
                chars[position] = _OMOCODIA_LETTERS[int(chars[position])]
        body = "".join(chars[:15])
        variants.add(body + str(codicefiscale.calc_check_digit(body)))
    return frozenset(variants)


def parse_partita_iva(raw: str) -> str:
    """A valid partita IVA (11 digits with its check digit)."""
    value = iva.compact(raw or "")
    try:
        return str(iva.validate(value))
    except Exception as exc:
        raise InvalidValue(f"partita IVA non valida / invalid partita IVA: {raw!r}") from exc


def parse_subject_id(raw: str) -> str:
    """A codice fiscale of a person (16 characters) or of a firm / partita IVA (11 digits)."""
    compact = (raw or "").strip().replace(" ", "").upper()
    if len(compact) == 11:
        return parse_partita_iva(compact)
    return parse_codice_fiscale(compact)


def subject_key(subject_id: str) -> str:
    """The comparison key of a subject: canonical codice fiscale, or the partita IVA itself."""
    return person_key(subject_id) if len(subject_id) == 16 else subject_id
