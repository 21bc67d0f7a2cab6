"""Prato as data: zones, gates, permit categories (shared/spec/permit-catalogue.md), street register.

The street names are real streets of Prato's historic centre, inside the walls. The house-number
ranges and the split between zones A and B are illustrative demo values, not the municipality's
official stradario: a municipality imports its own street register with `ztl registry import streets`.
"""

from __future__ import annotations

from dataclasses import dataclass

MUNICIPALITY_CODE = "IT-PO"
CADASTRAL_CODE = "G999"  # Prato's codice catastale, the birthplace part of a codice fiscale


@dataclass(frozen=True)
class ZoneData:
    code: str
    name: str
    windows: tuple[str, ...]  # "HH:MM-HH:MM" in Europe/Rome, every day


@dataclass(frozen=True)
class GateData:
    code: str
    name: str
    zone: str


@dataclass(frozen=True)
class CategoryData:
    code: str
    name_it: str
    name_en: str
    fee_cents: int
    stamp_duty_exempt: bool
    decided_by: str
    max_plates: int
    validity: str  # ISO 8601 duration
    zones: tuple[str, ...]
    windows: tuple[str, ...] = ()  # none: always


@dataclass(frozen=True)
class StreetData:
    street: str
    from_number: int
    to_number: int
    parity: str
    zone: str


ZONES = (
    ZoneData("A", "ZTL A, centro storico", ("00:00-24:00",)),
    ZoneData("B", "ZTL B", ("07:30-18:30",)),
)

GATES = (
    GateData("A1", "Piazza Sant'Antonino", "A"),
    GateData("A2", "Via Ricasoli", "A"),
    GateData("A3", "Via Guizzelmi", "A"),
    GateData("A4", "Via Bartolini", "A"),
    GateData("A5", "Via San Jacopo", "A"),
    GateData("A6", "Via dei Tintori", "A"),
)

BOTH = ("A", "B")
CATEGORIES = (
    CategoryData("1", "Residenti", "Residents", 1500, False, "automatic", 2, "P1Y", BOTH),
    CategoryData("15", "Domiciliati", "Domiciled", 8000, False, "clerk", 1, "P1Y", BOTH),
    CategoryData("6", "Autorimesse", "Garages", 3000, False, "clerk", 1, "P2Y", BOTH),
    CategoryData(
        "H",
        "Contrassegno disabili (CUDE)",
        "Disabled badge (CUDE)",
        0,
        True,
        "automatic_if_registered",
        2,
        "P5Y",
        BOTH,
    ),
    CategoryData(
        "4",
        "Aziende in ZTL",
        "Businesses in the ZTL",
        3000,
        False,
        "clerk",
        3,
        "P1Y",
        BOTH,
        ("07:00-10:00", "12:30-15:30"),
    ),
    CategoryData(
        "63",
        "Artigiani e negozi",
        "Craftsmen and shops",
        5000,
        False,
        "clerk",
        3,
        "P1Y",
        BOTH,
        ("20:00-10:00",),
    ),
    CategoryData("13", "Medici", "Doctors", 9000, False, "clerk", 1, "P2Y", BOTH),
    CategoryData("3", "Pubblica utilità", "Public utility", 0, False, "clerk", 3, "P1Y", BOTH),
    CategoryData(
        "8A",
        "Ospiti albergo",
        "Hotel guests",
        4500,
        False,
        "automatic_if_registered",
        1,
        "P7D",
        ("A",),
    ),
    CategoryData(
        "G/A", "Giornaliero ZTL A", "Daily ZTL A", 1000, False, "automatic", 1, "P1D", ("A",)
    ),
    CategoryData(
        "G/B",
        "Giornaliero ZTL B",
        "Daily ZTL B",
        800,
        False,
        "automatic",
        1,
        "P1D",
        ("B",),
        ("07:30-18:30",),
    ),
    CategoryData("T", "Due ore", "Two hours", 300, False, "automatic", 1, "PT2H", BOTH),
)

# Streets of the historic centre (inside the walls). Zone B: the stretches near the walls.
STREETS = (
    StreetData("Piazza del Comune", 1, 20, "all", "A"),
    StreetData("Piazza del Duomo", 1, 30, "all", "A"),
    StreetData("Piazza Sant'Antonino", 1, 20, "all", "A"),
    StreetData("Piazza San Francesco", 1, 30, "all", "A"),
    StreetData("Piazza delle Carceri", 1, 20, "all", "A"),
    StreetData("Via Ricasoli", 1, 60, "all", "A"),
    StreetData("Via Guizzelmi", 1, 40, "all", "A"),
    StreetData("Via Bartolini", 1, 40, "all", "A"),
    StreetData("Via San Jacopo", 1, 50, "all", "A"),
    StreetData("Via dei Tintori", 1, 80, "all", "A"),
    StreetData("Via Mazzoni", 1, 60, "all", "A"),
    StreetData("Via Garibaldi", 1, 120, "all", "A"),
    StreetData("Via Cairoli", 1, 50, "all", "A"),
    StreetData("Via Pugliesi", 1, 40, "all", "A"),
    StreetData("Via Convenevole", 1, 40, "all", "A"),
    StreetData("Via Muzzi", 1, 60, "all", "A"),
    StreetData("Via Cesare Guasti", 1, 60, "all", "A"),
    StreetData("Via Santo Stefano", 1, 40, "all", "A"),
    StreetData("Via Magnolfi", 1, 50, "odd", "A"),
    StreetData("Via Magnolfi", 2, 50, "even", "B"),
    StreetData("Via Magnolfi", 51, 120, "all", "B"),
    StreetData("Via Settesoldi", 1, 40, "all", "B"),
    StreetData("Via del Carmine", 1, 40, "all", "B"),
    StreetData("Via Santa Trinita", 1, 90, "all", "B"),
    StreetData("Via Firenzuola", 1, 40, "all", "B"),
    StreetData("Via Pomeria", 1, 120, "all", "B"),
    StreetData("Piazza Mercatale", 1, 150, "all", "B"),
)

# Streets outside every ZTL, for people who live elsewhere in Prato (not in the street register).
OUTSIDE_STREETS = (
    "Viale Piave",
    "Viale della Repubblica",
    "Viale Montegrappa",
    "Via Roma",
    "Via Bologna",
    "Viale Vittorio Veneto",
)
