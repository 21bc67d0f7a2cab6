"""`ztl retention purge`: anonymise what is past the municipality's retention.

Four purges, each its own transaction: plate lookups lose their plate (ztl.lookups.retention,
`[retention] lookups_days`), the transit ledger forgets what it no longer needs
(ztl.transits.retention, `[transits] retention_days`), the memory of form submissions older than a day goes
(ztl.infrastructure.submissions), then ended permits and closed applications lose the person's data
(ztl.records.retention, `[retention] records_years`). They are independent: the lookups
done stay done if the records fail, and the next run finishes the rest.
Run it once a day (cron or a systemd timer), like `ztl permits expire`.
Exit status: 0 done (whatever the counts), 2 bad input (a time without an offset).
"""

from __future__ import annotations

import click

from ztl.cli.common import BadInput
from ztl.infrastructure.submissions import forget_old as forget_old_submissions
from ztl.lookups.retention import purge_lookups
from ztl.models import utcnow
from ztl.records.retention import anonymise_ended_records
from ztl.transits.retention import purge_transits
from ztl.values import InvalidValue
from ztl.values.times import parse_instant


@click.group(help="Retention of personal data: anonymise what is kept no longer.")
def retention() -> None:
    pass


@retention.command("purge")
@click.option(
    "--now",
    "now_text",
    default=None,
    metavar="TIME",
    help="Judge ages as of this instant, ISO 8601 with offset (default now), e.g. 2026-01-01T03:00Z.",
)
def purge(now_text: str | None) -> None:
    """Blank old lookups' plates (open violations kept), then anonymise long-ended records."""
    try:
        now = parse_instant(now_text) if now_text else utcnow()
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc
    result = purge_lookups(now)
    click.echo(
        f"{result.anonymised} plate lookups anonymised "
        f"(retention {result.days} days: answers before {result.cutoff.isoformat()})"
    )
    ledger = purge_transits(now)
    click.echo(
        f"{ledger.folded} covered transits counted and deleted, {ledger.anonymised} transits "
        f"anonymised, {ledger.refusals} refused gate messages deleted "
        f"(retention {ledger.days} days: before {ledger.cutoff.isoformat()})"
    )
    forgotten = forget_old_submissions(now)
    click.echo(f"{forgotten} form submissions older than a day forgotten")
    records = anonymise_ended_records(now)
    click.echo(
        f"{records.permits} permits and {records.applications} applications anonymised, "
        f"{records.documents} documents deleted, the personal fields of {records.events} events "
        "erased "
        f"(retention {records.years} years: ended before {records.cutoff.isoformat()})"
    )
