"""`ztl retention purge`: blank the plates of lookups past the municipality's retention.

Run it once a day (cron or a systemd timer), like `ztl permits expire`. What is kept and for how
long is decided in ztl.services.retention and the rules file (`[retention] lookups_days`).
Exit status: 0 done (whatever the count), 2 bad input (a time without an offset).
"""

from __future__ import annotations

import click

from ztl.cli.permits import BadInput
from ztl.models import utcnow
from ztl.services.retention import purge_lookups
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
    """Blank the plate of each lookup older than the retention (open violations are kept)."""
    try:
        now = parse_instant(now_text) if now_text else utcnow()
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc
    result = purge_lookups(now)
    click.echo(
        f"{result.anonymised} plate lookups anonymised "
        f"(retention {result.days} days: answers before {result.cutoff.isoformat()})"
    )
