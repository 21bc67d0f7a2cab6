"""`ztl permits recheck`: permits that no longer pass after an import are flagged, never revoked."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.factories import DEMO_OWN_CAR as OWN_CAR
from tests.factories import DEMO_RESIDENT as RESIDENT
from tests.factories import make_permit as permit
from ztl.demo.loader import load_demo
from ztl.eligibility.recheck import recheck_active_permits
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Event, Permit, Vehicle
from ztl.registries.importer import import_registry

AT = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
HEADER = "plate,category,fuel,euro_class,mass_kg,owner_id,holder_id,usage,status\n"


def _reimport_vehicle(status: str) -> None:
    vehicle = db.session.get(Vehicle, OWN_CAR)
    assert vehicle is not None
    row = (
        f"{vehicle.plate},{vehicle.category},{vehicle.fuel},{vehicle.euro_class},{vehicle.mass_kg},"
        f"{vehicle.owner_id},,{vehicle.usage},{status}\n"
    )
    db.session.rollback()
    result = import_registry("vehicles", io.StringIO(HEADER + row), actor=Actor("test"))
    assert result.rows_imported == 1


def test_recheck_flags_a_stolen_car_and_clears_it_when_found(app: Flask, runner: Any) -> None:
    load_demo()
    permit("1", OWN_CAR, RESIDENT, 1, dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC))
    db.session.execute(select(Permit)).scalars().one().valid_to = dt.datetime(
        2027, 1, 10, tzinfo=dt.UTC
    )
    db.session.commit()

    first = recheck_active_permits(at=AT)
    assert (
        first.checked == 1 and first.flagged == [] and first.cleared == []
    )  # its own permit doesn't count

    _reimport_vehicle("stolen")
    result = runner.invoke(args=["permits", "recheck"])
    assert result.exit_code == 0, result.output
    assert "1 flagged" in result.output and "PO-2026-000001" in result.output
    flagged = db.session.scalars(select(Permit)).one()
    assert flagged.status == "active"  # never revoked silently
    assert flagged.flagged_at is not None
    assert [c["id"] for c in flagged.flag_checks or []] == ["vehicle_active"]
    events = db.session.scalars(select(Event).where(Event.action == "recheck_failed")).all()
    assert len(events) == 1 and events[0].reason == "vehicle_active"

    again = recheck_active_permits(at=AT)
    assert again.flagged == []  # already flagged for the same reason: no duplicate event

    _reimport_vehicle("active")
    cleared = recheck_active_permits(at=AT)
    assert cleared.cleared == ["PO-2026-000001"]
    db.session.expire_all()
    assert db.session.scalars(select(Permit)).one().flagged_at is None


def test_flagged_permits_wait_in_the_clerks_page(app: Flask, client: Any) -> None:
    from tests.conftest import login
    from tests.factories import PASSWORD, make_user

    load_demo()
    permit("1", OWN_CAR, RESIDENT, 7)
    _reimport_vehicle("deregistered")
    recheck_active_permits(at=AT)
    make_user("clerk", "clerk@comune.example.org")
    login(client, "clerk@comune.example.org", PASSWORD)
    page = client.get("/ufficio/").get_data(as_text=True)
    assert "PO-2026-000007" in page and "deregistered" in page
