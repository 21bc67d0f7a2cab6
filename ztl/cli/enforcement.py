"""`ztl gates whitelist` and `ztl transits check`: the enforcement API's twins for files.

Exit status: 0 done (no violation), 1 violations found (listed in the CSV with the reason),
2 bad input (an unknown zone, a bad date, unreadable rows: listed with their line numbers).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TextIO

import click

from ztl.cli.common import BadInput, Refused
from ztl.enforcement.authorizations import whitelist, write_whitelist_csv, zone_hours_on
from ztl.enforcement.transit_files import TransitSummary, check_rows
from ztl.values import InvalidValue
from ztl.values.times import parse_date, parse_instant

MAX_LISTED = 20


@click.group(help="Gate systems: the whitelist of authorized plates.")
def gates() -> None:
    pass


@click.group(help="Camera transits: check a file, take readings into the ledger, settle them.")
def transits() -> None:
    pass


def _output(path: str | None) -> TextIO:
    return sys.stdout if path in (None, "-") else open(path, "w", newline="", encoding="utf-8")


@gates.command("whitelist")
@click.option("--zone", required=True, help="Zone code, e.g. A.")
@click.option("--date", "date_text", required=True, help="Local date, YYYY-MM-DD.")
@click.option("--out", "out_path", default=None, help="CSV file (default standard output).")
def whitelist_command(zone: str, date_text: str, out_path: str | None) -> None:
    """plate,zone,valid_from,valid_to,windows for every authorization touching the date."""
    try:
        date = parse_date(date_text)
        rows = whitelist(zone, date)
        hours = zone_hours_on(zone, date)
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc
    out = _output(out_path)
    try:
        write_whitelist_csv(rows, out)
    finally:
        if out is not sys.stdout:
            out.close()
    restricted = f"restricted {hours}" if hours else "not restricted that day"
    click.echo(f"zone {zone.upper()} on {date_text}: {restricted} (local time)", err=True)
    if out_path not in (None, "-"):
        click.echo(f"{len(rows)} authorizations in zone {zone.upper()} on {date_text}", err=True)


@transits.command("check")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--out", "out_path", default=None, help="CSV of the violations (default stdout).")
@click.option("--now", "now_text", default=None, help="Judge pending transits as of this instant.")
def check_command(file: str, out_path: str | None, now_text: str | None) -> None:
    """Violations among the transits (pending ones, still open to registration, are not)."""
    try:
        now = parse_instant(now_text) if now_text else None
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc
    if file != "-" and not Path(file).is_file():
        raise BadInput(f"no such file: {file}")
    source = sys.stdin if file == "-" else open(file, newline="", encoding="utf-8-sig")  # noqa: SIM115
    out = _output(out_path)
    summary = TransitSummary()
    try:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["line", "plate", "gate", "zone", "at", "reason"])
        for v in check_rows(csv.reader(source), summary, now):
            writer.writerow([v.line, v.plate, v.gate, v.zone, v.at, v.reason])
    except UnicodeDecodeError as exc:
        raise BadInput("the file must be UTF-8 CSV") from exc
    finally:
        if source is not sys.stdin:
            source.close()
        if out is not sys.stdout:
            out.close()
    click.echo(
        f"{summary.read} transits: {summary.authorized} authorized, {summary.pending} pending "
        f"(a retroactive registration may still come), {summary.violations} violations, "
        f"{len(summary.unreadable)} unreadable",
        err=True,
    )
    for bad in summary.unreadable[:MAX_LISTED]:
        click.echo(f"line {bad.line}: {bad.message}", err=True)
    if summary.unreadable:
        raise BadInput(f"{len(summary.unreadable)} rows could not be read")
    if summary.violations:
        raise Refused(f"{summary.violations} violations")
