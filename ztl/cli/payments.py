"""`ztl payments reconcile`: the daily job that squares our positions with the intermediary's.

Run it once a day at least (cron or a systemd timer), like `ztl permits expire`; more often is
harmless (every step is idempotent). Exit status: 0 done, 1 some positions could not be
reconciled (listed; the next run tries them again).
"""

from __future__ import annotations

import click

from ztl.applications.reconciliation import reconcile
from ztl.cli.common import Refused


@click.group(help="Payments through pagoPA: the daily reconciliation.")
def payments() -> None:
    pass


@payments.command("reconcile")
def reconcile_command() -> None:
    """Open, cancel and read back the positions at the intermediary; apply the receipts found."""
    report = reconcile()
    click.echo(
        f"{report.checked} positions read, {report.accepted} payments found, "
        f"{report.replays} already known, {report.refused} refused, {report.opened} opened, "
        f"{report.cancelled} cancelled, {report.expired} expired"
    )
    if report.failures:
        raise Refused("not reconciled (the next run tries again): " + "; ".join(report.failures))
