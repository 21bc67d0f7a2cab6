"""The demo city loads through the real import, idempotently, and every role can sign in."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from stdnum.it import codicefiscale, iva

from ztl.accounts.staff import sign_in_with_password
from ztl.demo.generator import HEADERS, CitySize, car_plate, codice_fiscale, generate, partita_iva
from ztl.demo.loader import LOGINS_FILE, load_demo
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import (
    Badge,
    Business,
    Category,
    Gate,
    Resident,
    StreetSegment,
    User,
    Vehicle,
    Zone,
)
from ztl.registries.importer import import_registry
from ztl.registries.sql import SqlRegistryAdapter
from ztl.values.fiscal import person_key
from ztl.values.plates import italian_plate_kind

COUNTED = (Zone, Gate, Category, StreetSegment, Resident, Vehicle, Badge, Business, User)


def _counts() -> dict[str, int]:
    return {
        m.__name__: db.session.scalar(select(func.count()).select_from(m)) or 0 for m in COUNTED
    }


def test_demo_load_is_idempotent_and_every_role_signs_in(app: Flask) -> None:
    first = load_demo()
    counts = _counts()
    assert all(summary.rows_rejected == 0 for summary in first.imports.values())
    assert counts["Zone"] == 2 and counts["Gate"] == 6 and counts["Category"] == 12
    assert counts["User"] == 5 and counts["Resident"] == 400

    second = load_demo()
    assert _counts() == counts
    assert second.users_created == 0
    assert [(x.email, x.password) for x in second.logins] == [
        (x.email, x.password) for x in first.logins
    ]
    for login in second.logins:
        result = sign_in_with_password(login.email, login.password)
        assert result.ok and result.user is not None and result.user.role == login.role
    logins_file = Path(app.instance_path) / LOGINS_FILE
    assert stat.S_IMODE(logins_file.stat().st_mode) == 0o600


def test_demo_configuration_follows_the_catalogue(app: Flask) -> None:
    load_demo()
    zone_b = db.session.scalar(select(Zone).where(Zone.code == "B"))
    assert zone_b is not None
    assert json.loads(zone_b.calendar) == {
        "entries": [{"hours": ["07:30-18:30"]}],
        "patron_saint": "12-26",
    }
    gates = db.session.scalars(select(Gate).order_by(Gate.code)).all()
    assert [g.code for g in gates] == ["A1", "A2", "A3", "A4", "A5", "A6"]
    assert gates[1].name == "Via Ricasoli" and all(g.zone.code == "A" for g in gates)
    by_code = {c.code: c for c in db.session.scalars(select(Category))}
    assert by_code["63"].windows[0].start_minute == 20 * 60  # 20:00-10:00 crosses midnight
    assert by_code["63"].windows[0].end_minute == 10 * 60
    assert [(w.start_minute, w.end_minute) for w in by_code["4"].windows] == [
        (420, 600),
        (750, 930),
    ]
    assert [z.code for z in by_code["G/A"].zones] == ["A"]
    assert by_code["1"].decided_by == "automatic"


def test_demo_resident_lives_in_zone_a_and_owns_a_car(app: Flask) -> None:
    load_demo()
    user = db.session.scalar(select(User).where(User.role == "resident"))
    assert user is not None and user.codice_fiscale is not None
    registers = SqlRegistryAdapter()
    resident = registers.resident(user.codice_fiscale)
    assert resident is not None and resident.status == "resident"
    assert registers.zone_of_address(resident.street, resident.house_number).zone_code == "A"
    cars = [v for v in registers.vehicles_of(user.codice_fiscale) if v.category == "M1"]
    assert cars and cars[0].status == "active"


def test_generated_files_have_the_spec_headers_and_import_cleanly(
    app: Flask, tmp_path: Path
) -> None:
    load_demo()  # zones must exist for the street register
    size = CitySize(residents=1200, vehicles=1000, badges=30, businesses=60)
    paths = generate(tmp_path, size, seed=7)
    for kind, path in paths.items():
        with path.open(encoding="utf-8") as handle:
            reader = csv.reader(handle)
            assert tuple(next(reader)) == HEADERS[kind]
            rows = list(reader)
        if kind == "residents":
            assert len(rows) == 1200
            assert all(codicefiscale.is_valid(r[0]) for r in rows)
            omocodic = [r[0] for r in rows if person_key(r[0]) != r[0]]
            assert omocodic, "some generated codici fiscali should be omocodic"
        if kind == "vehicles":
            assert len({r[0] for r in rows}) == 1000
            assert all(italian_plate_kind(r[0]) is not None for r in rows)
        result = import_registry(kind, path, actor=Actor("test"))
        assert result.rows_rejected == 0, result.problems[:5]


def test_identities_are_unique_and_valid() -> None:
    cfs = {codice_fiscale(i) for i in range(5000)}
    assert len(cfs) == 5000 and all(codicefiscale.is_valid(c) for c in cfs)
    assert len({person_key(c) for c in cfs}) == 5000
    ivas = {partita_iva(i) for i in range(2000)}
    assert len(ivas) == 2000 and all(iva.is_valid(v) for v in ivas)
    plates = {car_plate(i) for i in range(0, 10_000_000, 997)}
    assert all(italian_plate_kind(p) is not None for p in plates)


def test_generate_cli_and_bad_arguments(runner: Any, tmp_path: Path) -> None:
    ok = runner.invoke(
        args=[
            "demo",
            "generate",
            "--out",
            str(tmp_path / "city"),
            "--residents",
            "50",
            "--vehicles",
            "40",
            "--badges",
            "2",
            "--businesses",
            "3",
        ]
    )
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "city" / "vehicles.csv").exists()
    negative = runner.invoke(args=["demo", "generate", "--out", str(tmp_path), "--residents", "-1"])
    assert negative.exit_code == 2 and "residents" in negative.output
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    unwritable = runner.invoke(args=["demo", "generate", "--out", str(blocked / "x")])
    assert unwritable.exit_code == 2


def test_demo_load_is_refused_in_production(app: Flask, runner: Any) -> None:
    app.config["ZTL_ENV"] = "production"
    try:
        result = runner.invoke(args=["demo", "load"])
    finally:
        app.config["ZTL_ENV"] = "development"
    assert result.exit_code == 2 and "ZTL_ENV=production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
