"""`ztl city check FILE` and `ztl city show`: look at a rules file before and after it is applied.

`check` reads a file without applying it: exit 2 with file, line and field when it is refused; else
it prints the city, a sample week of every zone's calendar (so an operator sees that "first
Thursday of April" means what they meant) and, when the database is reachable and migrated, what
applying it would change; exit 1 when applying it would be refused (data it would orphan).
`show` prints what is in force: the database's copy, and whether it matches the rules file loaded.
The same file is applied by start-up and by `ztl db upgrade` (see ztl.city.sync).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate.cli import db as migrate_db
from sqlalchemy import inspect, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from ztl.city import CityConflict, city_digest, planned_changes, sync_city
from ztl.city.rules_config import current_rules
from ztl.cli.common import BadInput, Refused, refusal_text
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Category, City, Gate
from ztl.records.overview import zones_with_hours
from ztl.rules.calendar import WEEKDAYS, minutes_text
from ztl.rules.fees import Purpose, fee_for
from ztl.rules.loader import RulesFileError, load_rules
from ztl.rules.municipality import Municipality
from ztl.values.display import duration_text, money_text


@click.group(help="The city in force: its rules file checked, applied and shown.")
def city() -> None:
    pass


@city.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--week",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="A day of the sample week to print (default: this week).",
)
@with_appcontext
def check(file: Path, week: dt.datetime | None) -> None:
    """Validate FILE without applying it; print its zones' calendars over a sample week."""
    try:
        rules = load_rules(file)
    except RulesFileError as exc:
        raise BadInput(str(exc)) from exc
    today = week.date() if week else dt.datetime.now(ZoneInfo(rules.timezone)).date()
    for line in describe_rules(rules):
        click.echo(line)
    click.echo("")
    for line in sample_week(rules, today - dt.timedelta(days=today.weekday())):
        click.echo(line)
    if not _database_ready():
        click.echo("\nThe database is not migrated (or not reachable): changes not compared.")
        return
    try:
        report = planned_changes(rules)
    except CityConflict as exc:
        raise Refused(refusal_text(exc)) from exc
    click.echo("")
    if not report.changed:
        click.echo("Applying it would change nothing in the database.")
        return
    click.echo("Applying it would change:")
    for change in report.changes:
        click.echo(f"  {change}")


@city.command("show")
@with_appcontext
def show() -> None:
    """Print the city in force (the database's copy) and whether the rules file matches it."""
    rules = current_rules()
    if not _database_ready():
        raise BadInput("the database is not migrated: run `ztl db upgrade`")
    session = db.session
    stored = session.get(City, 1)
    if stored is None:
        raise Refused("no city in the database yet: run `ztl db upgrade`")
    click.echo(f"{stored.name} ({stored.code}), time zone {stored.timezone}")
    if stored.patron_saint:
        click.echo(f"patron saint's day: {stored.patron_saint}")
    click.echo(f"rules applied: {stored.synced_at:%Y-%m-%d %H:%M} UTC")
    in_step = stored.digest == city_digest(rules)
    source = current_app.config.get("ZTL_RULES_FILE") or "the default rules file"
    click.echo(f"rules file {source}: {'in force' if in_step else 'DIFFERS, restart to apply'}")
    click.echo("\nZones:")
    for zone, calendar in zones_with_hours():
        click.echo(f"  {zone.code:<4} {zone.name}: {calendar.text()}")
    click.echo("Gates:")
    for gate in session.scalars(select(Gate).order_by(Gate.code)):
        click.echo(f"  {gate.code:<5} {gate.name} (zone {gate.zone.code}, {gate.direction})")
    click.echo("Categories (fees from the rules file, stamp duty included):")
    for category in session.scalars(
        select(Category).where(Category.active.is_(True)).order_by(Category.id)
    ):
        click.echo(f"  {category.code:<4} {category.name_en}: {_fees(rules, category.code)}")


def describe_rules(rules: Municipality) -> list[str]:
    patron = rules.patron_saint
    lines = [
        f"{rules.name} ({rules.code}), time zone {rules.timezone}"
        + (f", patron saint's day {patron[0]:02d}-{patron[1]:02d}" if patron else ""),
        f"{len(rules.zones)} zones, {len(rules.gates)} gates, {len(rules.categories)} categories",
    ]
    for zone in rules.zones:
        gates = [g.code for g in rules.gates if g.zone == zone.code]
        lines.append(f"  zone {zone.code} ({zone.name}): {zone.calendar.text()}")
        if gates:
            lines.append(f"    gates: {', '.join(gates)}")
    return lines


def sample_week(rules: Municipality, monday: dt.date) -> list[str]:
    """Each zone's active hours on each day of the week starting `monday`, holidays marked."""
    lines = [f"Sample week from {monday:%Y-%m-%d} (local time; a night window shows on both days):"]
    width = max(len(z.code) for z in rules.zones)
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        calendar = rules.zones[0].calendar
        mark = "  public holiday" if calendar.is_holiday(day) else ""
        lines.append(f"  {WEEKDAYS[day.weekday()]} {day:%Y-%m-%d}{mark}")
        for zone in rules.zones:
            intervals = minutes_text(zone.calendar.intervals_on(day))
            lines.append(f"    {zone.code:<{width}}  {intervals}")
    return lines


def _fees(rules: Municipality, code: str) -> str:
    try:
        category = rules.category(code)
    except KeyError:
        return "not in the rules file"
    parts = []
    for validity in category.validity:
        fee = fee_for(rules, category, validity, (), Purpose.APPLICATION)
        parts.append(f"{duration_text(validity, 'en')} {money_text(fee.total_cents)}")
    return "; ".join(parts)


def _database_ready() -> bool:
    try:
        return inspect(db.engine).has_table(City.__tablename__)
    except (OperationalError, ProgrammingError):
        return False


@click.command("upgrade")
@click.argument("revision", default="head")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it (no city sync).")
@with_appcontext
def upgrade_and_sync(revision: str, sql: bool) -> None:
    """Apply the migrations, then bring the city in step with the rules file (one transaction)."""
    from flask_migrate import upgrade

    upgrade(revision=revision, sql=sql)
    if sql or revision != "head":
        return
    try:
        report = sync_city(current_rules(), Actor.cli(), say=lambda line: click.echo(f"  {line}"))
    except CityConflict as exc:
        raise Refused(refusal_text(exc)) from exc
    finally:
        db.session.remove()
    rules = current_rules()
    if report.changed:
        click.echo(f"{rules.name}: rules file applied ({len(report.changes)} changes).")
    else:
        click.echo(f"{rules.name}: the database already matches the rules file.")


def database_group() -> click.Group:
    """Flask-Migrate's `db` group with `upgrade` followed by the city sync."""
    group = click.Group("db", help=migrate_db.help, commands=dict(migrate_db.commands))
    group.add_command(upgrade_and_sync)
    return group
