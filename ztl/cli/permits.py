"""`ztl permits`: issue at the counter, revoke, change plate, renew, write the PDF; daily re-check.

Exit status: 0 done, 1 refused by the checks (nothing stored), 2 bad input or missing keys.
"""

from __future__ import annotations

from pathlib import Path

import click

from ztl.applications.counter import CounterRequest, RefusedAtCounter, issue_at_counter
from ztl.city.rules_config import current_rules
from ztl.cli.common import BadInput, Refused, refusal_text
from ztl.cluster.queue import job_queue
from ztl.eligibility.recheck import recheck_active_permits
from ztl.eligibility.service import EligibilityInputError, PlateInput
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.permits.changes import change_plate, renew_permit, revoke_permit
from ztl.permits.from_applications import approve_application
from ztl.permits.issuance import IssueResult
from ztl.permits.queries import permit_pdf
from ztl.permits.renewal_campaign import queue_renewals, renew_due
from ztl.values import InvalidValue
from ztl.values.display import validity_text
from ztl.values.times import parse_date, parse_instant


def _plate(raw: str) -> PlateInput:
    """ "AB123CD" or "DE:MAB1234" for a foreign plate with its country."""
    country, sep, plate = raw.partition(":")
    return PlateInput(plate, country) if sep else PlateInput(raw)


def _write(result: IssueResult, out: Path | None) -> None:
    if out is not None:
        out.write_bytes(result.pdf)
    click.echo(
        f"{'issued' if result.created else 'already issued'} {result.number} "
        f"valid {validity_text(result.valid_from, result.valid_to, current_rules().timezone, 'en')}"
        + (f", PDF written to {out}" if out else "")
    )


def _fail(exc: ServiceError) -> click.ClickException:
    if exc.code in {"not_eligible", "needs_review", "too_early"}:
        return Refused(refusal_text(exc))
    return BadInput(refusal_text(exc))


@click.group(help="Permits: counter issuance, changes, daily jobs.")
def permits() -> None:
    pass


@permits.command("issue")
@click.option("--category", required=True, help="Category code (1, 15, 6, H, 4, ...).")
@click.option("--applicant", required=True, help="Codice fiscale or partita IVA of the holder.")
@click.option("--plate", "plates", multiple=True, required=True, help="Plate; CC:PLATE if foreign.")
@click.option("--zone", "zones", multiple=True, help="Zone (default: by category and residence).")
@click.option("--from", "valid_from", default=None, help="First day, YYYY-MM-DD (default today).")
@click.option("--starts-at", default=None, help="Start of a two-hour permit, with offset.")
@click.option("--validity", default=None, help="A validity the category offers, e.g. P2Y.")
@click.option("--document", "documents", multiple=True, help="Kind of a document seen.")
@click.option("--approve-review", default=None, help="Issue a needs-review verdict; the reason.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the PDF here.")
def issue(
    category: str,
    applicant: str,
    plates: tuple[str, ...],
    zones: tuple[str, ...],
    valid_from: str | None,
    starts_at: str | None,
    validity: str | None,
    documents: tuple[str, ...],
    approve_review: str | None,
    out: Path | None,
) -> None:
    """Check and issue at the counter, through the same service as online approval."""
    try:
        request = CounterRequest(
            category=category,
            applicant_id=applicant,
            plates=tuple(_plate(p) for p in plates),
            zones=tuple(z.upper() for z in zones),
            valid_from=parse_date(valid_from) if valid_from else None,
            validity=validity,
            starts_at=parse_instant(starts_at) if starts_at else None,
            documents=documents,
        )
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc
    try:
        result = issue_at_counter(request, Actor.cli(), review_reason=approve_review)
    except RefusedAtCounter as exc:
        raise Refused(refusal_text(exc)) from exc
    except EligibilityInputError as exc:
        raise BadInput(refusal_text(exc)) from exc
    except ServiceError as exc:
        raise _fail(exc) from exc
    _write(result, out)


@permits.command("approve")
@click.argument("application_id", type=int)
@click.option("--reason", default=None)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def approve(application_id: int, reason: str | None, out: Path | None) -> None:
    """Approve an application and issue its permit (safe to repeat: no second permit)."""
    try:
        result = approve_application(application_id, Actor.cli(), reason)
    except ServiceError as exc:
        raise _fail(exc) from exc
    _write(result, out)


@permits.command("revoke")
@click.argument("number")
@click.option("--reason", required=True, help="Why: kept in the audit trail.")
def revoke(number: str, reason: str) -> None:
    """Revoke a permit; its seal goes on the next revocation list."""
    try:
        revoke_permit(number, Actor.cli(), reason)
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(f"revoked {number}")


@permits.command("change-plate")
@click.argument("number")
@click.argument("old_plate")
@click.argument("new_plate")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def change_plate_command(number: str, old_plate: str, new_plate: str, out: Path | None) -> None:
    """Replace a plate: a new permit with a new seal, the old seal revoked."""
    try:
        result = change_plate(number, old_plate, new_plate, Actor.cli())
    except ServiceError as exc:
        raise _fail(exc) from exc
    _write(result, out)
    click.echo(f"{number} replaced and its seal revoked")


@permits.command("renew")
@click.argument("number")
@click.option("--validity", default=None)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def renew(number: str, validity: str | None, out: Path | None) -> None:
    """Renew from 60 days before expiry; the checks run again."""
    try:
        result = renew_permit(number, Actor.cli(), validity)
    except ServiceError as exc:
        raise _fail(exc) from exc
    _write(result, out)
    click.echo(f"{number} replaced and its seal revoked")


@permits.command("renew-due")
@click.option("--batch", type=click.IntRange(1, 5000), default=200, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
def renew_due_command(batch: int, workers: int) -> None:
    """Renewal campaign: renew every permit in its renewal window whose checks still pass.

    With a shared Redis (ZTL_REDIS_URL) the batches go to the job queue, for every node's workers.
    """
    if job_queue() is not None:
        outcomes = queue_renewals(Actor.cli(), batch=batch)
        click.echo(
            f"{outcomes['queued']} batches of up to {batch} permits queued for the workers, "
            f"{outcomes['ran']} renewed here (the queue did not answer); the permits left to "
            "the clerks are in the workers' log"
        )
        return
    try:
        summary = renew_due(
            Actor.cli(),
            batch=batch,
            workers=workers,
            progress=lambda n: click.echo(f"{n:,} permits done", err=True),
        )
    except ServiceError as exc:
        raise _fail(exc) from exc
    click.echo(f"{len(summary.renewed)} permits renewed, {len(summary.refused)} left to the clerks")
    for number, reason in summary.refused.items():
        click.echo(f"  not renewed {number}: {reason}")


@permits.command("pdf")
@click.argument("number")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def pdf(number: str, out: Path) -> None:
    """Write an issued permit's signed PDF."""
    data = permit_pdf(number)
    if data is None:
        raise BadInput(f"no permit {number} with a document")
    out.write_bytes(data)
    click.echo(f"{number}: {len(data):,} bytes written to {out}")


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
