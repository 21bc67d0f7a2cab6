"""`ztl transits ingest` and `ztl transits settle`: the transit ledger from the command line.

`ingest` takes a gate system's file of readings (a day exported by a gate system that could not
push, a replay): JSON lines, one reading per line as the API takes it, or CSV with a header row
naming the same fields (id, gate, plate, at, and optionally direction, confidence, image_ref).
Readings go through the same checks and the same ledger as the API's, in batches; a reading
already in the ledger is a repeat and changes nothing, so a file can be ingested again after an
interruption. Unreadable lines are listed with their numbers and not kept; the others are.
`--now` judges the file as of another instant (a replay of a past day): the skew limits and the
pending windows are then measured from it.

`settle` moves open readings on (ztl.transits.settlement): run it every few minutes (cron, a
systemd timer), or let the MQTT subscriber do it.

Exit status: 0 done, 2 bad input (an unreadable file, unreadable lines, a time without offset).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ztl.city.rules_config import current_rules
from ztl.cli.common import BadInput, Refused, refusal_text
from ztl.cli.enforcement import transits
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.transits.ledger import FILE, Outcome, record_readings
from ztl.transits.readings import Reading, reading_from
from ztl.transits.settlement import settle
from ztl.values import InvalidValue
from ztl.values.times import parse_instant

BATCH = 2_000
MAX_LISTED = 20
CSV_FIELDS = ("id", "gate", "plate", "at", "direction", "confidence", "image_ref")


def _now(text: str | None) -> dt.datetime:
    try:
        return parse_instant(text) if text else dt.datetime.now(dt.UTC)
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc


def _csv_rows(text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = {"id", "gate", "plate", "at"} - set(reader.fieldnames or ())
    if missing:
        raise BadInput(f"the CSV header must name {', '.join(sorted(missing))}")
    for row in reader:
        values: dict[str, Any] = {k: v for k, v in row.items() if k in CSV_FIELDS and v}
        if "confidence" in values:
            with contextlib.suppress(ValueError):  # left as text: reading_from names it
                values["confidence"] = float(values["confidence"])
        yield reader.line_num, values


def _json_rows(text: str) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError:
            yield number, "not a JSON object"


def rows_of(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, raw reading) for each reading of a JSON-lines or CSV file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: the file must be UTF-8 ({exc})") from exc
    first = text.lstrip()[:1]
    try:
        yield from (_json_rows(text) if first == "{" else _csv_rows(text))
    except csv.Error as exc:
        raise BadInput(f"{path}: {exc}") from exc


@transits.command("ingest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--now", "now_text", default=None, metavar="TIME", help="Judge as of this instant.")
def ingest_command(file: Path, now_text: str | None) -> None:
    """Take a file of gate readings into the transit ledger (JSON lines or CSV)."""
    now = _now(now_text)
    rules = current_rules().transits
    started = time.monotonic()
    counts: dict[str, int] = {}
    repeats = 0
    unreadable: list[str] = []
    batch: list[Reading] = []

    def flush() -> None:
        nonlocal repeats
        outcome: Outcome
        try:
            outcomes = record_readings(batch, FILE, now)
        except ServiceError as exc:  # a picture could not be stored: this batch is not kept
            kept = sum(counts.values())
            raise Refused(
                f"{refusal_text(exc)} ({kept} readings kept before; run the file again: "
                "those are repeats)"
            ) from exc
        for outcome in outcomes:
            if outcome.repeat:
                repeats += 1
            else:
                counts[outcome.answer] = counts.get(outcome.answer, 0) + 1
        batch.clear()

    for number, raw in rows_of(file):
        try:
            batch.append(reading_from(raw, now, rules))
        except InvalidValue as exc:
            unreadable.append(f"line {number}: {exc}")
            continue
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    seconds = time.monotonic() - started
    kept = ", ".join(f"{count} {answer}" for answer, count in sorted(counts.items())) or "none"
    click.echo(
        f"{sum(counts.values())} readings kept ({kept}), {repeats} repeats, "
        f"{len(unreadable)} unreadable, in {seconds:.1f} s",
        err=True,
    )
    for line in unreadable[:MAX_LISTED]:
        click.echo(line, err=True)
    if unreadable:
        raise BadInput(f"{len(unreadable)} lines could not be read")


@transits.command("settle")
@click.option("--now", "now_text", default=None, metavar="TIME", help="Settle as of this instant.")
def settle_command(now_text: str | None) -> None:
    """Clear pending readings a registration now covers; make violations of closed windows."""
    settled = settle(_now(now_text))
    click.echo(
        f"{settled.cleared} transits cleared by a later registration, {settled.violations} new "
        f"violations to review, {settled.judged} held transits judged"
    )
