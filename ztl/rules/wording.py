"""Names, in Italian and English, of the register values and documents the checks write about.

The rules engine writes each check's explanation in both languages itself (it imports nothing
outside the standard library), so the words it needs for a register's codes live here, as pairs:
a resident "emigrato", not "emigrated"; a "gasolio" Euro 4, not "(diesel)"; "Atto o contratto del
posto auto", not `garage_deed_or_lease`. The pages' label catalogue (`ztl.labels`) takes the same
pairs for the same codes, so a clerk's evidence and the applicant's explanation name a thing
alike. An unknown code reads as itself: a register may grow a value before this table does, and
tests/test_no_internal_codes.py fails until it has its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple


class Pair(NamedTuple):
    """A name in Italian and in English."""

    it: str
    en: str

    def said_in(self, language: str) -> str:
        return self.en if language == "en" else self.it


RESIDENT_STATUS: Mapping[str, Pair] = {
    "resident": Pair("residente", "resident"),
    "emigrated": Pair("emigrato", "emigrated"),
    "deceased": Pair("deceduto", "deceased"),
}

VEHICLE_STATUS: Mapping[str, Pair] = {
    "active": Pair("in circolazione", "on the road"),
    "deregistered": Pair("radiato", "deregistered"),
    "stolen": Pair("rubato", "stolen"),
}

VEHICLE_USAGE: Mapping[str, Pair] = {
    "owned": Pair("proprietà", "owned"),
    "leasing": Pair("leasing", "leasing"),
    "rental": Pair("noleggio a lungo termine", "long-term rental"),
    "company": Pair("veicolo aziendale", "company vehicle"),
}

BUSINESS_STATUS: Mapping[str, Pair] = {
    "active": Pair("attiva", "active"),
    "ceased": Pair("cessata", "ceased trading"),
}

FUELS: Mapping[str, Pair] = {
    "petrol": Pair("benzina", "petrol"),
    "diesel": Pair("gasolio", "diesel"),
    "lpg": Pair("GPL", "LPG"),
    "cng": Pair("metano", "natural gas"),
    "hybrid": Pair("ibrido", "hybrid"),
    "electric": Pair("elettrico", "electric"),
    "hydrogen": Pair("idrogeno", "hydrogen"),
}

# The documents a rules file may require (`documents = [...]`) or an applicant may attach.
DOCUMENT_KINDS: Mapping[str, Pair] = {
    "lease_or_deed": Pair(
        "Contratto di locazione o atto di proprietà", "Tenancy agreement or title deed"
    ),
    "garage_deed_or_lease": Pair(
        "Atto o contratto del posto auto", "Deed or contract for the parking space"
    ),
    "medical_registration": Pair(
        "Iscrizione all'albo dei medici", "Registration with the medical professional register"
    ),
    "works_contract": Pair("Contratto di lavori o servizio", "Works or service contract"),
    "identity_document": Pair("Documento di identità", "Identity document"),
    "other": Pair("Altro documento", "Other document"),
    "delegation_form": Pair("Delega firmata", "Signed delegation"),
}


def name_of(names: Mapping[str, Pair], code: str, language: str) -> str:
    """A code's name in a language; the code itself when the table has none yet."""
    pair = names.get(code)
    return pair.said_in(language) if pair is not None else code


def names_of(names: Mapping[str, Pair], codes: Iterable[str], language: str) -> str:
    """Several codes' names, comma-separated, in the order given."""
    return ", ".join(name_of(names, code, language) for code in codes)
