"""Read-only summaries for the role home pages (what there is, what waits), in one query each."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select

from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.models import (
    ApiToken,
    Category,
    Gate,
    Permit,
    RegistryImport,
    User,
    Zone,
)
from ztl.rules.calendar import ZoneCalendar, calendar_from_data
from ztl.rules.fees import Fee, lowest_fee


def zones_with_hours() -> list[tuple[Zone, ZoneCalendar]]:
    """The zones in force with their calendars, as the enforcement index reads them."""
    zones = db.session.scalars(select(Zone).where(Zone.active.is_(True)).order_by(Zone.code))
    return [(z, calendar_from_data(json.loads(z.calendar))) for z in zones]


@dataclass(frozen=True)
class CategoryOffer:
    """A category in force as the catalogue pages show it, its price from ztl.rules.fees."""

    code: str
    name_it: str
    name_en: str
    decided_by: str
    max_plates: int
    fee: Fee  # the cheapest way in (shortest validity, or the booklet)

    @property
    def fee_cents(self) -> int:
        return self.fee.fee_cents

    @property
    def stamp_duty_cents(self) -> int:
        return self.fee.stamp_duty_cents

    @property
    def stamp_duty_exempt(self) -> bool:
        return self.fee.stamp_duty_cents == 0


def categories_in_force() -> list[CategoryOffer]:
    """The categories both in the database and in the rules file, priced by the fee function."""
    rules = current_rules()
    known = {c.code: c for c in rules.categories}
    rows = db.session.scalars(
        select(Category).where(Category.active.is_(True)).order_by(Category.id)
    )
    return [
        CategoryOffer(
            c.code,
            c.name_it,
            c.name_en,
            c.decided_by,
            c.max_plates,
            lowest_fee(rules, known[c.code]),
        )
        for c in rows
        if c.code in known
    ]


def gates() -> list[Gate]:
    return list(db.session.scalars(select(Gate).order_by(Gate.code)))


def users_by_role() -> dict[str, int]:
    rows = db.session.execute(select(User.role, func.count()).group_by(User.role)).all()
    return dict(rows)


def recent_imports(limit: int = 10) -> list[RegistryImport]:
    return list(
        db.session.scalars(
            select(RegistryImport).order_by(RegistryImport.started_at.desc()).limit(limit)
        )
    )


def api_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.name)))


def flagged_permits(limit: int = 50) -> list[Permit]:
    """Active permits the registry re-check flagged, oldest flag first: they wait for a clerk."""
    return list(
        db.session.scalars(
            select(Permit)
            .where(Permit.flagged_at.is_not(None), Permit.status == "active")
            .order_by(Permit.flagged_at, Permit.id)
            .limit(limit)
        )
    )
