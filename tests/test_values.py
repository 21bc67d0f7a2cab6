"""Parsing at the edge: plates, street names, house numbers, codici fiscali, partite IVA."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.it import codicefiscale

from ztl.values import InvalidValue
from ztl.values.fiscal import (
    parse_codice_fiscale,
    parse_partita_iva,
    parse_subject_id,
    person_key,
    subject_key,
)
from ztl.values.plates import (
    PlateKind,
    PlateProblem,
    checked_plate,
    italian_plate_kind,
    normalise_plate,
    parse_italian_plate,
    plate_and_country,
)
from ztl.values.streets import house_number, street_key


@pytest.mark.parametrize(
    ("raw", "expected", "kind"),
    [
        ("ab 123-cd", "AB123CD", PlateKind.CAR),
        (" FG 456 HJ ", "FG456HJ", PlateKind.CAR),
        ("AB12345", "AB12345", PlateKind.MOTORCYCLE),
        ("X3B4CD", "X3B4CD", PlateKind.MOPED),
        ("PO 123456", "PO123456", PlateKind.PROVINCIAL),
        ("ROMA A1234", "ROMAA1234", PlateKind.PROVINCIAL),
        ("FI-A12345", "FIA12345", PlateKind.PROVINCIAL),
    ],
)
def test_italian_plates_normalised_and_classified(raw: str, expected: str, kind: PlateKind) -> None:
    assert parse_italian_plate(raw) == expected
    assert italian_plate_kind(expected) is kind


@pytest.mark.parametrize("raw", ["", "   ", "AB-12*CD", "ABCDEFGHIJKLM", "ÄB123CD"])
def test_malformed_plates_refused(raw: str) -> None:
    with pytest.raises(InvalidValue):
        normalise_plate(raw)


@pytest.mark.parametrize("raw", ["AI123BC", "ZZ123456", "ABCDEF", "1234567"])
def test_non_italian_formats_refused_by_register_parser(raw: str) -> None:
    # I is never used on current plates; ZZ is no province; no digits; no letters.
    with pytest.raises(InvalidValue):
        parse_italian_plate(raw)


def test_foreign_plate_is_only_normalised() -> None:
    assert normalise_plate("m-ab 1234") == "MAB1234"


@given(st.text(max_size=30))
def test_plate_normaliser_never_raises_anything_else(raw: str) -> None:
    try:
        plate = normalise_plate(raw)
    except InvalidValue:
        return
    assert plate == plate.upper() and plate.isalnum() and len(plate) <= 12
    assert normalise_plate(plate) == plate  # idempotent


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("V. Ricasoli", "Via Ricasoli"),
        ("via  ricasoli", "VIA RICASOLI"),
        ("P.zza del Comune", "Piazza del Comune"),
        ("Piazza Sant'Antonino", "PIAZZA SANT ANTONINO"),
        ("Via Santa Trìnita", "via santa trinita"),
        ("V.le Piave", "Viale Piave"),
        ("C.so Mazzoni", "Corso Mazzoni"),
    ],
)
def test_street_names_compare_normalised(a: str, b: str) -> None:
    assert street_key(a) == street_key(b)


def test_different_streets_stay_different() -> None:
    assert street_key("Via Ricasoli") != street_key("Viale Ricasoli")


@pytest.mark.parametrize(
    ("raw", "number"),
    [("12", 12), ("12/A", 12), ("12 bis", 12), ("7B", 7), (" 3 ", 3), ("15-c", 15)],
)
def test_house_numbers_with_suffixes(raw: str, number: int) -> None:
    assert house_number(raw) == number


@pytest.mark.parametrize("raw", ["", "snc", "0", "A12", "12/ABCDE"])
def test_bad_house_numbers(raw: str) -> None:
    with pytest.raises(InvalidValue):
        house_number(raw)


def test_codice_fiscale_valid_and_compacted() -> None:
    assert parse_codice_fiscale("rss mra 85t10 a562s") == "RSSMRA85T10A562S"
    with pytest.raises(InvalidValue):
        parse_codice_fiscale("RSSMRA85T10A562X")
    with pytest.raises(InvalidValue):
        parse_codice_fiscale("RSSMRA85T10")


_OMOCODIA = "LMNPQRSTUV"
_POSITIONS = (6, 7, 9, 10, 12, 13, 14)


@given(
    year=st.integers(0, 99),
    month=st.sampled_from("ABCDEHLMPRST"),
    day=st.integers(1, 68).filter(lambda d: d <= 28 or d >= 41),  # +40: women
    place=st.integers(100, 999),
    substitutions=st.integers(1, 7),
)
def test_omocodic_variants_are_the_same_person(
    year: int, month: str, day: int, place: int, substitutions: int
) -> None:
    body = f"RSSMRA{year:02d}{month}{day:02d}H{place:03d}"
    original = body + codicefiscale.calc_check_digit(body)
    chars = list(original[:15])
    # Omocodia replaces digits from the right.
    for position in reversed(_POSITIONS[-substitutions:]):
        chars[position] = _OMOCODIA[int(chars[position])]
    variant_body = "".join(chars)
    variant = variant_body + codicefiscale.calc_check_digit(variant_body)
    assert parse_codice_fiscale(variant) == variant
    assert person_key(variant) == person_key(original) == original


def test_partita_iva() -> None:
    body = "0123456048"  # digits 8-10: the tax office (001-100)
    valid = body + luhn.calc_check_digit(body)
    assert parse_partita_iva(valid) == valid
    wrong = body + str((int(valid[-1]) + 1) % 10)
    with pytest.raises(InvalidValue):
        parse_partita_iva(wrong)


def test_subject_ids_are_persons_or_firms() -> None:
    body = "0123456048"  # digits 8-10: the tax office (001-100)
    piva = body + luhn.calc_check_digit(body)
    assert parse_subject_id(piva) == piva
    assert subject_key(piva) == piva
    assert parse_subject_id("RSSMRA85T10A562S") == "RSSMRA85T10A562S"
    with pytest.raises(InvalidValue):
        parse_subject_id("not an id")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ab 123 cd", ("AB123CD", "IT")),
        ("IT:AB123CD", ("AB123CD", "IT")),
        ("de:b mw 1234", ("BMW1234", "DE")),
        (" CH : ZH 12345 ", ("ZH12345", "CH")),
    ],
)
def test_a_plate_typed_with_its_country(text: str, expected: tuple[str, str]) -> None:
    assert plate_and_country(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "plate_invalid"),
        ("DE:", "plate_invalid"),
        ("DE:B-MW/1234!", "plate_invalid"),
        (":AB", "country_invalid"),
        ("DEU:B MW 1234", "country_invalid"),
        ("ÄÖ:123", "country_invalid"),  # letters, but not a country code
        ("1234567", "plate_not_italian"),
        ("IT:XYZ", "plate_not_italian"),
    ],
)
def test_a_plate_it_cannot_take_says_why(text: str, code: str) -> None:
    with pytest.raises(PlateProblem) as refused:
        plate_and_country(text)
    assert refused.value.code == code


def test_the_country_given_apart_is_checked_alike() -> None:
    assert checked_plate("b mw 1234", "de") == ("BMW1234", "DE")
    assert checked_plate("AB123CD", None) == ("AB123CD", "IT")
    with pytest.raises(PlateProblem) as refused:
        checked_plate("AB123CD", "I")
    assert refused.value.code == "country_invalid"
