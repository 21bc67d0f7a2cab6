"""Prato's demo city as data: the street register the demo generates registers from.

Zones, their calendars, gates and the permit categories are the municipality's rules and live in
ztl/rules/municipalities/prato.toml, the single source for them.

The street names are real streets of Prato's historic centre, inside the walls. The house-number
ranges and the split between zones A and B are illustrative demo values, not the municipality's
official stradario: a municipality imports its own street register with `ztl registry import streets`.
"""

from __future__ import annotations

from dataclasses import dataclass

CADASTRAL_CODE = "G999"  # Prato's codice catastale, the birthplace part of a codice fiscale


@dataclass(frozen=True)
class StreetData:
    street: str
    from_number: int
    to_number: int
    parity: str
    zone: str


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
