"""`ztl permits recheck`: the daily re-check of active permits against the registers."""

from __future__ import annotations

import click

from ztl.services.recheck import recheck_active_permits
from ztl.services.unit_of_work import Actor


@click.group(help="Permits: daily jobs.")
def permits() -> None:
    pass


@permits.command("recheck")
def recheck() -> None:
    """Re-run every active permit's checks; failing ones go to the clerks' queue (never revoked)."""
    summary = recheck_active_permits(
        Actor.cli(), progress=lambda n: click.echo(f"{n:,} permits checked", err=True)
    )
    click.echo(
        f"{summary.checked} active permits re-checked, {len(summary.flagged)} flagged "
        f"for the clerks' queue, {len(summary.cleared)} flags cleared"
    )
    for number in summary.flagged:
        click.echo(f"  flagged {number}")
