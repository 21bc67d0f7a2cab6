"""Synthetic registry files at any scale, in the formats of shared/spec/registry-files.md.

Why index-based: a person's codice fiscale and a firm's partita IVA are pure functions of their
index, so vehicles and badges can refer to their owners without keeping millions of people in
memory; every file is written row by row and memory stays flat whatever the size. The same seed
gives the same files. Identities are synthetic: the letters of a codice fiscale encode the person's
index (unique up to 26^6 people) and do not derive from the name, but every code is valid
(check character computed by python-stdnum), and one person in 251 has an omocodic code.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from stdnum import luhn
from stdnum.it import codicefiscale

from ztl.demo.prato import CADASTRAL_CODE, OUTSIDE_STREETS, STREETS, StreetData

HEADERS = {
    "streets": ("street", "from_number", "to_number", "parity", "zone"),
    "residents": (
        "codice_fiscale",
        "family_name",
        "given_name",
        "birth_date",
        "street",
        "house_number",
        "household_id",
        "registered_since",
        "status",
    ),
    "vehicles": (
        "plate",
        "category",
        "fuel",
        "euro_class",
        "mass_kg",
        "owner_id",
        "holder_id",
        "usage",
        "status",
    ),
    "badges": ("badge_number", "holder_codice_fiscale", "valid_until", "issuer"),
    "businesses": (
        "partita_iva",
        "name",
        "street",
        "house_number",
        "status",
        "ateco",
        "legal_representatives",
    ),
}
FILE_ORDER = ("streets", "residents", "vehicles", "badges", "businesses")

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MONTHS = "ABCDEHLMPRST"
_OMOCODIA = "LMNPQRSTUV"
_PLATE_LETTERS = "ABCDEFGHJKLMNPRSTVWXYZ"  # no I, O, Q, U on Italian plates
_BIRTHPLACES = (CADASTRAL_CODE,) * 7 + ("D612", "H501", "F205")  # Prato, Firenze, Roma, Milano
_FAMILY = (
    "Rossi",
    "Bianchi",
    "Bardazzi",
    "Biagini",
    "Bini",
    "Cecchi",
    "Ciampi",
    "Gori",
    "Lenzi",
    "Magni",
    "Mazzoni",
    "Nesti",
    "Pacini",
    "Querci",
    "Risaliti",
    "Santi",
    "Tempestini",
    "Vannucchi",
    "Chen",
    "Hu",
    "Wang",
    "Lin",
    "Zhou",
    "Kaur",
    "Popescu",
    "Hoxha",
    "Ahmed",
    "Fabbri",
)
_GIVEN_M = ("Marco", "Luca", "Andrea", "Giovanni", "Lorenzo", "Matteo", "Paolo", "Wei", "Ion")
_GIVEN_F = ("Giulia", "Francesca", "Sara", "Chiara", "Elena", "Anna", "Martina", "Li", "Ana")
_BUSINESS_KINDS = ("Tessitura", "Lanificio", "Bar", "Farmacia", "Ottica", "Forno", "Studio")
# Each kind's main activity (ATECO); every fifth firm is a hotel (55.10), decided by its index so
# that the random draws, and with them every other generated value, stay as they were.
_ATECO = {
    "Tessitura": "13.20",
    "Lanificio": "13.10",
    "Bar": "56.30",
    "Farmacia": "47.73",
    "Ottica": "47.78",
    "Forno": "10.71",
    "Studio": "69.20",
}
HOTEL_EVERY = 5
# The demo resident (person 0) is a legal representative of the first firms, two hotels among
# them, so the demo's resident login acts for firms and hotels without a delegation.
DEMO_RESIDENT_REPRESENTS = HOTEL_EVERY + 1
_HOTEL_STREETS = tuple(s for s in STREETS if s.zone == "A" and s.parity == "all")
BADGE_ISSUER = "Comune di Prato"


@dataclass(frozen=True)
class CitySize:
    residents: int = 300
    vehicles: int = 260
    badges: int = 12
    businesses: int = 30

    def __post_init__(self) -> None:
        for name in ("residents", "vehicles", "badges", "businesses"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be zero or more")
        if self.vehicles and not self.residents:
            raise ValueError("vehicles need at least one resident to own them")
        if self.badges > self.residents:
            raise ValueError("there cannot be more badges than residents")


def codice_fiscale(index: int) -> str:
    """The codice fiscale of resident number `index` (0-based): valid, unique, stable."""
    letters = []
    value = index
    for _ in range(6):
        value, digit = divmod(value, 26)
        letters.append(_ALPHABET[digit])
    year = 1930 + (index * 7919) % 76
    month = _MONTHS[(index // 3) % 12]
    day = 1 + (index * 31) % 28 + (40 if index % 2 else 0)
    place = _BIRTHPLACES[index % len(_BIRTHPLACES)]
    body = f"{''.join(reversed(letters))}{year % 100:02d}{month}{day:02d}{place}"
    if index % 251 == 250:  # omocodia: the rightmost digit becomes its letter
        body = body[:14] + _OMOCODIA[int(body[14])]
    return body + codicefiscale.calc_check_digit(body)


def birth_date(index: int) -> dt.date:
    year = 1930 + (index * 7919) % 76
    month = (index // 3) % 12 + 1
    day = 1 + (index * 31) % 28
    return dt.date(year, month, day)


def partita_iva(index: int) -> str:
    """The partita IVA of firm number `index`: serial, tax office 048, Luhn check digit."""
    body = f"{index + 1:07d}048"
    return body + luhn.calc_check_digit(body)


def car_plate(index: int) -> str:
    """Current car format AA000AA; unique for 234 million indexes."""
    value, number = divmod(index, 1000)
    letters = []
    for _ in range(4):
        value, digit = divmod(value, len(_PLATE_LETTERS))
        letters.append(_PLATE_LETTERS[digit])
    return f"{letters[3]}{letters[2]}{number:03d}{letters[1]}{letters[0]}"


def motorcycle_plate(index: int) -> str:
    """Motorcycle format AA00000."""
    value, number = divmod(index, 100_000)
    first, second = divmod(value % (len(_PLATE_LETTERS) ** 2), len(_PLATE_LETTERS))
    return f"{_PLATE_LETTERS[first]}{_PLATE_LETTERS[second]}{number:05d}"


def _address(rng: random.Random, in_zone_share: float) -> tuple[str, str]:
    if rng.random() < in_zone_share:
        segment: StreetData = rng.choice(STREETS)
        number = rng.randint(segment.from_number, segment.to_number)
        if segment.parity == "odd" and number % 2 == 0:
            number = number + 1 if number < segment.to_number else number - 1
        if segment.parity == "even" and number % 2 == 1:
            number = number + 1 if number < segment.to_number else number - 1
        suffix = rng.choice(("",) * 8 + ("/A", " bis"))
        return segment.street, f"{number}{suffix}"
    return rng.choice(OUTSIDE_STREETS), str(rng.randint(1, 300))


def _streets() -> Iterator[tuple[object, ...]]:
    for s in STREETS:
        yield (s.street, s.from_number, s.to_number, s.parity, s.zone)


def _residents(size: CitySize, rng: random.Random) -> Iterator[tuple[object, ...]]:
    """Households of 1-5 people sharing an address; person 0 lives in zone A (the demo resident)."""
    index = household = 0
    while index < size.residents:
        members = min(rng.choice((1, 1, 2, 2, 2, 3, 3, 4, 5)), size.residents - index)
        if household == 0:
            street, number = "Via Ricasoli", "12"
        else:
            street, number = _address(rng, in_zone_share=0.6)
        family = rng.choice(_FAMILY)
        for _ in range(members):
            status = (
                "resident"
                if index == 0 or rng.random() < 0.97
                else rng.choice(("emigrated", "deceased"))
            )
            born = birth_date(index)
            since = born + dt.timedelta(days=rng.randint(0, 365 * 40))
            since = min(since, dt.date(2025, 12, 31))
            given = rng.choice(_GIVEN_F if index % 2 else _GIVEN_M)
            yield (
                codice_fiscale(index),
                family,
                given,
                born.isoformat(),
                street,
                number,
                f"H{household:09d}",
                since.isoformat(),
                status,
            )
            index += 1
        household += 1


def _vehicle_kind(rng: random.Random) -> tuple[str, str, int]:
    draw = rng.random()
    if draw < 0.85:
        return "M1", "car", rng.randint(850, 2400)
    if draw < 0.93:
        return "L3e", "motorcycle", rng.randint(120, 320)
    if draw < 0.98:
        return "N1", "car", rng.randint(1500, 3500)
    return "N2", "car", rng.randint(3600, 9000)


def _vehicles(size: CitySize, rng: random.Random) -> Iterator[tuple[object, ...]]:
    """Cars and motorcycles; vehicle 0 is the demo resident's own recent petrol car."""
    fuels = ("petrol",) * 9 + ("diesel",) * 6 + ("hybrid",) * 3 + ("lpg", "electric", "cng")
    cars = motorcycles = 0
    for i in range(size.vehicles):
        category, kind, mass = _vehicle_kind(rng)
        if i == 0:
            category, kind, mass = "M1", "car", 1150
        if kind == "car":
            plate = car_plate(cars + 5_000_000)
            cars += 1
        else:
            plate = motorcycle_plate(motorcycles + 100_000)
            motorcycles += 1
        person = codice_fiscale(
            i % size.residents if i < size.residents else rng.randrange(size.residents)
        )
        owner, holder, usage = person, "", "owned"
        if i > 0 and size.businesses:
            draw = rng.random()
            firm = partita_iva(rng.randrange(size.businesses))
            if draw < 0.08:
                owner, holder, usage = firm, person, "company"
            elif draw < 0.13:
                owner, holder, usage = firm, person, "leasing"
            elif draw < 0.15:
                owner, holder, usage = firm, "", "owned"
        fuel = "petrol" if i == 0 else rng.choice(fuels)
        euro = 6 if i == 0 or fuel == "electric" else rng.choice((0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6))
        status = (
            "active" if i == 0 or rng.random() < 0.97 else rng.choice(("deregistered", "stolen"))
        )
        yield (plate, category, fuel, euro, mass, owner, holder, usage, status)


def _badges(size: CitySize, rng: random.Random) -> Iterator[tuple[object, ...]]:
    """Badges for evenly spread residents; about one in four has expired."""
    if not size.badges:
        return
    step = max(1, size.residents // size.badges)
    for n in range(size.badges):
        holder = codice_fiscale(min(n * step + 1, size.residents - 1))
        expired = rng.random() < 0.25
        valid_until = dt.date(2026, 11, 1) + dt.timedelta(
            days=rng.randint(-900, -1) if expired else rng.randint(30, 1800)
        )
        yield (f"PO{n + 1:07d}", holder, valid_until.isoformat(), BADGE_ISSUER)


def representatives(k: int, residents: int) -> str:
    """The legal representatives of firm number `k`, as the file writes them ("CF1;CF2"): one
    resident per firm, a second one for every third firm, and the demo resident for the first
    ones. Pure functions of the index, so the random draws (and every other value) are unchanged."""
    if residents <= 0:
        return ""
    people = [0] if k < DEMO_RESIDENT_REPRESENTS else []
    if residents > 1:
        people.append(1 + (k * 7) % (residents - 1))
        if k % 3 == 0:
            people.append(1 + (k * 7 + 3) % (residents - 1))
    return ";".join(dict.fromkeys(codice_fiscale(person) for person in people))


def _businesses(size: CitySize, rng: random.Random) -> Iterator[tuple[object, ...]]:
    for k in range(size.businesses):
        people = representatives(k, size.residents)
        street, number = _address(rng, in_zone_share=0.7)
        kind = rng.choice(_BUSINESS_KINDS)
        family = rng.choice(_FAMILY)
        status = "active" if rng.random() < 0.95 else "ceased"
        if k % HOTEL_EVERY == 0:
            # Hotels stand in the historic centre, on a street of zone A (the draws above are
            # still made, so the other firms keep their addresses).
            segment = _HOTEL_STREETS[(k // HOTEL_EVERY) % len(_HOTEL_STREETS)]
            street, number = segment.street, str(segment.from_number + k % 10)
            name = f"Albergo {family} {k + 1}"
            yield (partita_iva(k), name, street, number, status, "55.10", people)
        else:
            name = f"{kind} {family} {k + 1} S.r.l."
            yield (partita_iva(k), name, street, number, status, _ATECO[kind], people)


def generate(
    out_dir: Path,
    size: CitySize,
    seed: int = 2026,
    progress: Callable[[str, int], None] | None = None,
    every: int = 100_000,
) -> dict[str, Path]:
    """Write the five registry files into out_dir; returns their paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sources: dict[str, Callable[[], Iterator[tuple[object, ...]]]] = {
        "streets": _streets,
        "residents": lambda: _residents(size, random.Random(seed)),
        "vehicles": lambda: _vehicles(size, random.Random(seed + 1)),
        "badges": lambda: _badges(size, random.Random(seed + 2)),
        "businesses": lambda: _businesses(size, random.Random(seed + 3)),
    }
    paths: dict[str, Path] = {}
    for kind in FILE_ORDER:
        path = out_dir / f"{kind}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADERS[kind])
            count = 0
            for count, row in enumerate(sources[kind](), start=1):
                writer.writerow(row)
                if progress and count % every == 0:
                    progress(kind, count)
            if progress:
                progress(kind, count)
        paths[kind] = path
    return paths
