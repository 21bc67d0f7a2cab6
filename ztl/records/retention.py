"""Retention of permits and applications: years after their end, they forget the person.

A permit or an application names a person (codice fiscale, account, plates, address, household,
uploaded documents). The municipality keeps them as administrative records for `[retention]
records_years` (rules file, 10 by default: see ztl.rules.municipality) after their end, for appeals,
audits and the recovery of fees; then the person's data goes and the row stays, anonymous, for the
permit numbering, the statistics and the event history that refers to it.

When a record has ended, as of `now`, with `cutoff = now - records_years` (calendar years):

- a permit that is no longer active (expired, revoked, replaced, surrendered) once both its end of
  validity (`valid_to`) and the moment it was ended (`ended_at`) are before the cutoff. The later
  of the two is its true end for retention: a revoked permit may be disputed from the revocation
  on, and one ended after its validity (revoked while the expiry job had not run yet) was still
  a live record until then. An active permit is never touched, whatever its dates (the daily
  `ztl permits expire` ends it first);
- an application that is closed: rejected, withdrawn, issued, or a draft nobody touched since the
  cutoff (an abandoned draft is personal data without a purpose), once its last change
  (`updated_at`, and `decided_at` when set) is before the cutoff, and only when every permit issued
  from it is anonymised already (an issued application lives as long as its permits, renewals
  and plate changes included). Submitted, under review, documents requested or approved
  applications are open procedures: kept, however old.

What anonymising a permit does: the holder becomes ANONYMISED_ID and the holder's account link
goes; the signed PDF (name, address, plates) and the seal text (plates, holder) are dropped;
the end reason (a clerk's words, or "plate AB123CD -> ...") and the re-check's failing checks
(evidence: codici fiscali, addresses) are blanked; the plates are deleted. Plates are part of
permit_plate's key, so deleting them is simpler and more honest than numbered markers, and the
enforcement index cannot match a deleted plate: the permits are marked changed for it anyway,
although it only loads permits that ended within ZTL_ENFORCEMENT_LOOKBACK_DAYS. Kept: the number,
category, zones, windows, validity, status, fee, seal id (the revocation list's handle) and the
staff who issued it.

An application: the applicant becomes ANONYMISED_ID and the account link goes; the free details
(registration numbers, notes), the facts (names, addresses, household members, vehicles) and the
clerk's decision reason (it may name the person) are blanked; the verdict keeps each check's id
and status (what was decided, for statistics) with a fixed sentence instead of the message and no
evidence; the plates and the uploaded documents (rows and files) are deleted. Kept: category,
zones, status, outcome, dates, fee and the payment reference (the municipality's accounting
reference for the money it received, which names no one by itself). E-mails sent about an
anonymised permit or application lose their recipient and subject.

Hotel guests are permits and applications of category 8A (applicant and holder the hotel, the
plate the guest's): the same rules cover them; a hotel's booklet names only the hotel.

Events: the history of each anonymised permit and application loses its personal fields (who acted
as a label, the reason, the data: plates, evidence, a clerk's words) through
`ztl.records.audit_chain.redact_events`; when, which record, what action and which account stay.
The hash chain is built to survive exactly this (the personal fields enter it through a salted
digest), so `ztl audit verify` stays intact and reports the redacted events. Each anonymised
permit and application also gets one new event, "anonymised", naming the retention.

Everything happens in one transaction, with bulk statements (one UPDATE per table, deletes and
verdict rewrites in batches): all or nothing, and a second run anonymises nothing more because
`anonymised_at` is set. The UPDATEs choose their rows themselves (`anonymised_at IS NULL`) and
return them, so two purges running at once cannot anonymise (or record) a row twice. Uploaded files
are removed last, before the commit: should the commit then fail, rows pointing to missing files
remain and the next run deletes them, whereas removing after the commit could leave files that
nothing refers to any more, personal data nobody would ever delete.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, null, or_, select, update

from ztl.city.rules_config import current_rules
from ztl.enforcement.changes import mark_changed
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, unit_of_work
from ztl.infrastructure.uploads import upload_folder
from ztl.models import (
    Application,
    ApplicationPlate,
    Document,
    Notification,
    PaymentNotification,
    PaymentPosition,
    Permit,
    PermitPlate,
    utcnow,
)
from ztl.models.enums import ApplicationStatus, PermitStatus
from ztl.records.audit_chain import redact_events

log = logging.getLogger(__name__)

# What replaces a codice fiscale or partita IVA (fits holder_id and applicant_id, String(16)).
ANONYMISED_ID = "ANONIMIZZATO"
ANONYMISED_TEXT = "anonimizzato / anonymised"
# Replaces each check's message in an anonymised verdict (messages quote addresses and codici).
ANONYMISED_MESSAGE = {
    "it": "Dati anonimizzati alla fine del periodo di conservazione.",
    "en": "Data anonymised at the end of the retention period.",
}
ACTION = "anonymised"
ENDED_PERMITS = tuple(s.value for s in PermitStatus if s is not PermitStatus.ACTIVE)
CLOSED_APPLICATIONS = (
    ApplicationStatus.REJECTED.value,
    ApplicationStatus.WITHDRAWN.value,
    ApplicationStatus.ISSUED.value,
    ApplicationStatus.DRAFT.value,
)
BATCH = 500  # ids per IN list: well under every engine's limit on bound parameters


@dataclass(frozen=True)
class RecordPurgeResult:
    permits: int  # permits anonymised by this run
    applications: int  # applications anonymised by this run
    documents: int  # uploaded documents deleted with them
    years: int  # the retention applied
    cutoff: dt.datetime  # records that ended before this instant were due
    events: int = 0  # events of those records whose personal fields were erased


def retention_cutoff(now: dt.datetime, years: int) -> dt.datetime:
    """`now` minus whole calendar years (29 February becomes 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def anonymise_ended_records(
    now: dt.datetime | None = None, years: int | None = None, actor: Actor | None = None
) -> RecordPurgeResult:
    """Anonymise every permit and application past its retention (see the module's docstring)."""
    moment = now or utcnow()
    keep = current_rules().record_retention_years if years is None else years
    if keep < 1:
        raise ValueError("retention years must be 1 or more")
    cutoff = retention_cutoff(moment, keep)
    who = actor or Actor.system()
    reason = f"retention: {keep} years after the end ([retention] records_years)"
    with unit_of_work() as session:
        permit_ids = _anonymise_permits(session, cutoff, moment)
        application_ids = _anonymise_applications(session, cutoff, moment)
        _anonymise_notifications(session, permit_ids, application_ids)
        stored_names = _delete_documents(session, application_ids)
        redacted = redact_events(session, "permit", permit_ids, moment)
        redacted += redact_events(session, "application", application_ids, moment)
        for subject_type, ids in (("permit", permit_ids), ("application", application_ids)):
            for chunk in _chunks(ids):
                for subject_id in chunk:
                    record_event(
                        session,
                        who,
                        subject_type,
                        subject_id,
                        ACTION,
                        reason=reason,
                        data={"retention_years": keep},
                    )
                session.flush()
        _remove_files(stored_names)
    return RecordPurgeResult(
        len(permit_ids), len(application_ids), len(stored_names), keep, cutoff, redacted
    )


def _anonymise_permits(session: AnySession, cutoff: dt.datetime, moment: dt.datetime) -> list[int]:
    statement = (
        update(Permit)
        .where(
            Permit.status.in_(ENDED_PERMITS),
            Permit.anonymised_at.is_(None),
            Permit.valid_to < cutoff,
            or_(Permit.ended_at.is_(None), Permit.ended_at < cutoff),
        )
        .values(
            holder_id=ANONYMISED_ID,
            holder_user_id=None,
            pdf=None,
            seal_text=None,
            end_reason=None,
            flagged_at=None,
            flag_checks=null(),  # SQL NULL, not the JSON null a Python None would store
            anonymised_at=moment,
        )
        .returning(Permit.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(session.scalars(statement).all())
    for chunk in _chunks(ids):
        session.execute(delete(PermitPlate).where(PermitPlate.permit_id.in_(chunk)))
    # Bulk statements bypass the index's session hook; a scoped session carries the same info.
    mark_changed(session, ids)  # type: ignore[arg-type]
    return ids


def _anonymise_applications(
    session: AnySession, cutoff: dt.datetime, moment: dt.datetime
) -> list[int]:
    live_permit = (
        select(Permit.id)
        .where(Permit.application_id == Application.id, Permit.anonymised_at.is_(None))
        .exists()
    )
    statement = (
        update(Application)
        .where(
            Application.status.in_(CLOSED_APPLICATIONS),
            Application.anonymised_at.is_(None),
            Application.updated_at < cutoff,
            or_(Application.decided_at.is_(None), Application.decided_at < cutoff),
            ~live_permit,
        )
        .values(
            applicant_id=ANONYMISED_ID,
            user_id=None,
            details={},
            facts=null(),
            decision_reason=None,
            anonymised_at=moment,
            updated_at=moment,
        )
        .returning(Application.id)
        .execution_options(synchronize_session=False)
    )
    ids = sorted(session.scalars(statement).all())
    for chunk in _chunks(ids):
        session.execute(delete(ApplicationPlate).where(ApplicationPlate.application_id.in_(chunk)))
        # The payment's accounting stays (amounts, notice numbers, dates, outcomes); who paid goes.
        session.execute(
            update(PaymentPosition)
            .where(PaymentPosition.application_id.in_(chunk))
            .values(payer_tax_code=ANONYMISED_ID, payer_name="")
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(PaymentNotification)
            .where(
                PaymentNotification.position_id.in_(
                    select(PaymentPosition.id).where(PaymentPosition.application_id.in_(chunk))
                )
            )
            .values(payer_tax_code=None)
            .execution_options(synchronize_session=False)
        )
        verdicts = session.execute(
            select(Application.id, Application.verdict).where(
                Application.id.in_(chunk), Application.verdict.is_not(None)
            )
        ).all()
        rewritten = [
            {"id": row.id, "verdict": _anonymous_verdict(row.verdict), "updated_at": moment}
            for row in verdicts
            if row.verdict
        ]
        if rewritten:  # ORM bulk UPDATE by primary key: one executemany per batch
            session.execute(update(Application), rewritten)
    return ids


def _anonymous_verdict(verdict: Sequence[Any]) -> list[dict[str, Any]]:
    """Each check's id and status, without the evidence or the message that quoted it."""
    return [
        {
            "id": item.get("id"),
            "status": item.get("status"),
            "message": dict(ANONYMISED_MESSAGE),
            "evidence": {},
        }
        for item in verdict
        if isinstance(item, dict)
    ]


def _anonymise_notifications(
    session: AnySession, permit_ids: list[int], application_ids: list[int]
) -> None:
    """E-mails about an anonymised record: the kind and dates stay, the address goes."""
    values = {"recipient": ANONYMISED_ID, "subject": ANONYMISED_TEXT, "error": None}
    for column, ids in (
        (Notification.permit_id, permit_ids),
        (Notification.application_id, application_ids),
    ):
        for chunk in _chunks(ids):
            session.execute(
                update(Notification)
                .where(column.in_(chunk))
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def _delete_documents(session: AnySession, application_ids: list[int]) -> list[str]:
    """Delete the document rows of the applications; return the stored names of their files."""
    names: list[str] = []
    for chunk in _chunks(application_ids):
        names.extend(
            session.scalars(select(Document.stored_name).where(Document.application_id.in_(chunk)))
        )
        session.execute(
            delete(Document)
            .where(Document.application_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    return names


def _remove_files(stored_names: list[str]) -> None:
    if not stored_names:
        return
    folder: Path = upload_folder()
    for name in stored_names:
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError as exc:  # the row is gone: say which file an operator must remove
            log.error("could not remove the anonymised document %s: %s", name, exc.strerror)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]
