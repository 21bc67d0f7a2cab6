"""SqlRegistryAdapter: lookups by normalised keys, returning frozen facts (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask import Flask

from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Zone
from ztl.models.enums import Fuel, Parity, ResidentStatus, VehicleUsage
from ztl.registries import RegistryAdapter, SqlRegistryAdapter
from ztl.registries.importer import import_registry
from ztl.values import InvalidValue

CF_MARIO = "RSSMRA85T10A562S"
CF_MARIO_OMO = "RSSMRA85T10A56NH"
CF_LAURA = "BNCLRA90D45D612C"
CF_LAURA_OMO = "BNCLRA90D45D61NR"
CF_LUCA = "BNCLCU92E12D612M"
PIVA_RENT = "00743110157"

FILES = {
    "streets": (
        "street,from_number,to_number,parity,zone\n"
        "Via Ricasoli,1,99,odd,A\n"
        "Via Ricasoli,2,98,even,B\n"
        "Piazza del Duomo,1,40,all,A\n"
        "Via Roma,1,20,all,A\n"
        "Via Roma,10,30,all,B\n"  # overlaps the line above: 10-20 is in both zones
    ),
    "residents": (
        "codice_fiscale,family_name,given_name,birth_date,street,house_number,household_id,"
        "registered_since,status\n"
        f"{CF_LAURA_OMO},Bianchi,Laura,1990-04-05,Via Ricasoli,12/A,H7,2015-03-01,resident\n"
        f"{CF_LUCA},Bianchi,Luca,1992-05-12,Via Ricasoli,12/A,H7,2015-03-01,resident\n"
        f"{CF_MARIO},Rossi,Mario,1985-12-10,Piazza del Duomo,3,H1,2000-01-01,emigrated\n"
    ),
    "vehicles": (
        "plate,category,fuel,euro_class,mass_kg,owner_id,holder_id,usage,status\n"
        f"AB123CD,M1,diesel,6,1450,{CF_MARIO_OMO},,owned,active\n"
        f"EF456GH,M1,electric,6,1600,{PIVA_RENT},{CF_MARIO},leasing,active\n"
        f"XY12345,L3e,petrol,4,180,{CF_LUCA},,owned,active\n"
    ),
    "badges": (
        "badge_number,holder_codice_fiscale,valid_until,issuer\n"
        f"PO-1,{CF_LAURA},2026-01-31,Comune di Prato\n"
        f"PO-2,{CF_LAURA_OMO},2030-01-31,Comune di Prato\n"
    ),
    "businesses": (
        f"partita_iva,name,street,house_number,status\n{PIVA_RENT},Noleggi Srl,Via Roma,15,active\n"
    ),
}


@pytest.fixture
def registers(app: Flask, tmp_path: Path) -> SqlRegistryAdapter:
    db.session.add_all([Zone(code="A", name="ZTL A"), Zone(code="B", name="ZTL B")])
    db.session.commit()
    for kind, text in FILES.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = import_registry(kind, path, actor=Actor.cli())
        assert result.rows_rejected == 0, result.problems
    return SqlRegistryAdapter()


def test_zone_of_address_by_street_key_range_and_parity(registers: SqlRegistryAdapter) -> None:
    odd = registers.zone_of_address("V. Ricasoli", "13")
    assert (odd.zone_code, odd.street_key, odd.house_no, odd.ambiguous) == (
        "A",
        "VIA RICASOLI",
        13,
        False,
    )
    assert [s.parity for s in odd.segments] == [Parity.ODD]
    assert registers.zone_of_address("via  ricasoli", "14/B").zone_code == "B"
    assert registers.zone_of_address("Via Ricasoli", "98 bis").zone_code == "B"
    assert registers.zone_of_address("P.zza del Duomo", "40").zone_code == "A"  # parity "all"

    outside = registers.zone_of_address("Via Ricasoli", "101")
    assert (outside.zone_code, outside.segments, outside.ambiguous) == (None, (), False)
    assert registers.zone_of_address("Via Garibaldi", "1").zone_code is None

    both = registers.zone_of_address("Via Roma", "15")
    assert (both.zone_code, both.zone_codes, both.ambiguous) == (None, ("A", "B"), True)
    assert registers.zone_of_address("Via Roma", "25").zone_code == "B"

    with pytest.raises(InvalidValue):
        registers.zone_of_address("Via Roma", "senza numero")


def test_resident_lookup_ignores_omocodia(registers: SqlRegistryAdapter) -> None:
    # Stored under the omocodic variant, found under the canonical one, and the other way round.
    laura = registers.resident(CF_LAURA)
    assert laura is not None
    assert (laura.codice_fiscale, laura.person_key) == (CF_LAURA_OMO, CF_LAURA)
    assert (laura.street_key, laura.house_no, laura.status) == (
        "VIA RICASOLI",
        12,
        ResidentStatus.RESIDENT,
    )
    mario = registers.resident(CF_MARIO_OMO.lower())
    assert mario is not None and mario.codice_fiscale == CF_MARIO
    assert mario.status is ResidentStatus.EMIGRATED
    assert registers.resident("VRDGPP80A01G999F") is None
    with pytest.raises(InvalidValue):
        registers.resident("not a codice fiscale")


def test_household_members(registers: SqlRegistryAdapter) -> None:
    members = registers.household("H7")
    assert [m.given_name for m in members] == ["Luca", "Laura"]  # ordered by codice fiscale
    assert registers.household("H99") == ()


def test_vehicles_by_plate_and_by_owner_or_holder(registers: SqlRegistryAdapter) -> None:
    car = registers.vehicle("ab 123-cd")
    assert car is not None
    assert (car.plate, car.fuel, car.owner_id) == ("AB123CD", Fuel.DIESEL, CF_MARIO)
    assert registers.vehicle("ZZ999ZZ") is None

    # Mario owns one car (filed under his omocodic variant) and holds a leased one.
    mario = registers.vehicles_of(CF_MARIO_OMO)
    assert [(v.plate, v.usage) for v in mario] == [
        ("AB123CD", VehicleUsage.OWNED),
        ("EF456GH", VehicleUsage.LEASING),
    ]
    assert [v.plate for v in registers.vehicles_of(PIVA_RENT)] == ["EF456GH"]
    assert registers.vehicles_of(CF_LAURA) == ()


def test_badges_and_business(registers: SqlRegistryAdapter) -> None:
    badges = registers.badges_of(CF_LAURA_OMO)
    assert [(b.badge_number, b.holder_key) for b in badges] == [
        ("PO-2", CF_LAURA),
        ("PO-1", CF_LAURA),
    ]
    business = registers.business(f"IT {PIVA_RENT}")
    assert business is not None and (business.name, business.house_no) == ("Noleggi Srl", 15)
    assert registers.business("01234560017") is None


def test_facts_are_frozen_values_and_the_adapter_fits_the_protocol(
    registers: SqlRegistryAdapter,
) -> None:
    assert isinstance(registers, RegistryAdapter)
    car = registers.vehicle("AB123CD")
    assert car is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        car.plate = "ZZ999ZZ"  # type: ignore[misc]
    db.session.expunge_all()  # facts do not depend on the session that built them
    assert car.plate == "AB123CD" and registers.vehicle("AB123CD") == car
