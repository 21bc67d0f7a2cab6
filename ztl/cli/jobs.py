"""`ztl permits expire` and `ztl permits remind`: the daily jobs of the permit life cycle.

Why a module beside ztl/cli/permits.py: the jobs belong to the `permits` group but to another use
case (notifications); they are added to the group when this module is imported (ztl/cli/__init__).
Exit status: 0 done, 1 some reminders could not be sent (recorded; the next run retries them),
2 bad input (a time without an offset).
"""

from __future__ import annotations

import datetime as dt

import click

from ztl.cli.common import BadInput, Refused
from ztl.cli.permits import permits
from ztl.mail.notifications import expire_permits, send_expiry_reminders
from ztl.models import utcnow
from ztl.values import InvalidValue
from ztl.values.times import parse_instant

AT_HELP = "Run as of this instant, ISO 8601 with offset (default now), e.g. 2026-01-01T03:00Z."


def _instant(raw: str | None) -> dt.datetime:
    if raw is None:
        return utcnow()
    try:
        return parse_instant(raw)
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc


@click.command("expire")
@click.option("--at", "at", default=None, metavar="TIME", help=AT_HELP)
def expire(at: str | None) -> None:
    """Mark active permits whose validity has ended as expired (one event each)."""
    count = expire_permits(_instant(at))
    click.echo(f"{count} permits expired")


@click.command("remind")
@click.option("--at", "at", default=None, metavar="TIME", help=AT_HELP)
def remind(at: str | None) -> None:
    """E-mail the expiry reminders due (60, 30 and 7 days before the end), each once."""
    summary = send_expiry_reminders(_instant(at))
    click.echo(
        f"{len(summary.sent)} expiry reminders sent, {len(summary.failed)} failed, "
        f"{summary.already_sent} already sent"
    )
    if summary.failed:
        numbers = ", ".join(f"{number} ({kind})" for kind, number in summary.failed)
        raise Refused(f"not sent (the next run tries again): {numbers}")


permits.add_command(expire)
permits.add_command(remind)
