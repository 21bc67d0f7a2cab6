"""Keeping the database's zones and categories in step with the municipality's rules file.

The rules file is the single source (ztl/rules/municipalities/*.toml); the tables hold the same
zones, windows and categories so that permits, applications and gates can refer to them by key and
the enforcement index can read them with one query. Idempotent: upsert by code.
"""

from __future__ import annotations

from sqlalchemy import select

from ztl.models import Category, CategoryWindow, Zone, ZoneWindow
from ztl.rules.municipality import CategoryRules, Municipality, ZoneRules
from ztl.services.unit_of_work import unit_of_work


def _windows(rules: ZoneRules | CategoryRules) -> list[tuple[int, int, int]]:
    windows = rules.active if isinstance(rules, ZoneRules) else rules.windows
    return [(w.start_minute, w.end_minute, w.weekdays) for w in windows]


def sync_catalogue(municipality: Municipality) -> None:
    """Upsert zones (with active hours) and categories (with zones and windows), one transaction."""
    with unit_of_work() as session:
        zones = {z.code: z for z in session.scalars(select(Zone))}
        for zone_rules in municipality.zones:
            zone = zones.get(zone_rules.code)
            if zone is None:
                zone = zones[zone_rules.code] = Zone(code=zone_rules.code)
                session.add(zone)
            zone.name = zone_rules.name
            wanted = _windows(zone_rules)
            if [(w.start_minute, w.end_minute, w.weekdays) for w in zone.windows] != wanted:
                zone.windows.clear()
                session.flush()
                zone.windows.extend(
                    ZoneWindow(start_minute=s, end_minute=e, weekdays=d) for s, e, d in wanted
                )
        session.flush()
        for rules in municipality.categories:
            category = session.scalar(select(Category).where(Category.code == rules.code))
            if category is None:
                category = Category(code=rules.code)
                session.add(category)
            default_validity = rules.validity[0]
            category.name_it = rules.name_it
            category.name_en = rules.name_en
            category.fee_cents = rules.fees_cents[default_validity]
            category.validity = default_validity
            category.stamp_duty_exempt = not rules.stamp_duty
            category.decided_by = rules.decided_by
            category.max_plates = rules.max_plates
            category.active = True
            category.zones = [zones[code] for code in rules.zones]
            wanted = _windows(rules)
            if [(w.start_minute, w.end_minute, w.weekdays) for w in category.windows] != wanted:
                category.windows.clear()
                session.flush()
                category.windows.extend(
                    CategoryWindow(start_minute=s, end_minute=e, weekdays=d) for s, e, d in wanted
                )
