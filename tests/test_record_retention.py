"""Retention of permits and applications: years after their end they forget the person.

A permit ended 11 years ago is anonymised, one ended 9 years ago is not, an active one never; an
application rejected long ago loses its applicant, plates, documents (the file too) and facts; an
issued application goes with its last permit; one "anonymised" event is added per record and the
history of each loses its personal fields, yet the audit trail stays intact (and a redaction made
around retention, or a redacted event rewritten, is caught); a second run changes nothing; `ztl retention purge` prints both counts; the GDPR
export still works for the person afterwards; the rules file carries `records_years`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, current_app
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, update

from tests.conftest import login
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, PASSWORD, issue_resident, make_user
from ztl.applications import applicant as applications
from ztl.applications import decisions, documents
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import (
    Application,
    ApplicationPlate,
    Document,
    EnforcementChange,
    Event,
    Notification,
    PaymentNotification,
    PaymentPosition,
    Permit,
    PermitPlate,
    User,
)
from ztl.models.enums import PermitStatus
from ztl.records.audit_chain import verify_audit_trail
from ztl.records.personal_data import personal_data
from ztl.records.retention import (
    ANONYMISED_ID,
    anonymise_ended_records,
    retention_cutoff,
)

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REJECTION = "Il sig. Rossi non ha registrato il contratto"


pytestmark = pytest.mark.usefixtures("quiet_mail")


def _years_ago(years: float) -> dt.datetime:
    return NOW - dt.timedelta(days=round(365.25 * years))


def _age_permit(number: str, ended_years_ago: float, status: PermitStatus) -> None:
    """Move a permit's life into the past: valid for a year, ended `ended_years_ago`."""
    end = _years_ago(ended_years_ago)
    db.session.execute(
        update(Permit)
        .where(Permit.number == number)
        .values(
            valid_from=end - dt.timedelta(days=365),
            valid_to=end,
            ended_at=None if status is PermitStatus.ACTIVE else end,
            status=status.value,
            end_reason=None if status is PermitStatus.ACTIVE else f"targa {DEMO_OWN_CAR} venduta",
        )
    )
    db.session.commit()


def _age_application(application_id: int, years_ago: float) -> None:
    when = _years_ago(years_ago)
    db.session.execute(
        update(Application)
        .where(Application.id == application_id)
        .values(created_at=when, updated_at=when, decided_at=when)
    )
    db.session.commit()


@dataclass
class Records:
    resident: User
    old_permit: str  # ended 11 years ago
    recent_permit: str  # ended 9 years ago
    active_permit: str  # still active, its dates long past (the expiry job has not run)
    old_issued_application: int
    recent_issued_application: int
    rejected_application: int
    document_file: Path
    recent_draft: int


def _application_of(number: str) -> int:
    found = db.session.scalar(select(Permit.application_id).where(Permit.number == number))
    assert found is not None
    return found


@pytest.fixture
def records(city: Flask) -> Iterator[Records]:
    resident = make_user("resident", "titolare@posta.example.org", codice_fiscale=DEMO_RESIDENT)
    clerk = make_user("clerk")
    old = issue_resident().number
    _age_permit(old, 11, PermitStatus.EXPIRED)
    _age_application(_application_of(old), 12)
    recent = issue_resident().number
    _age_permit(recent, 9, PermitStatus.REVOKED)
    _age_application(_application_of(recent), 10)
    active = issue_resident().number
    _age_permit(active, 11, PermitStatus.ACTIVE)
    _age_application(_application_of(active), 12)

    rejected = applications.create_draft(
        resident,
        applications.ApplicationInput(
            category="15", applicant_id="", plates=(DEMO_OWN_CAR,), details={"note": "Rossi"}
        ),
    )
    applications.submit_application(
        rejected, resident, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(rejected, resident)
    document_id = documents.attach_document(
        rejected, resident, "lease_or_deed", "contratto-rossi.pdf", PDF
    )
    document = db.session.get(Document, document_id)
    assert document is not None
    document_file = documents.upload_folder() / document.stored_name
    assert document_file.is_file()
    decisions.reject(rejected, Actor.of_user(clerk), REJECTION)
    _age_application(rejected, 11)
    # An e-mail about the old permit names the resident's address.
    db.session.add(
        Notification(
            kind="expiry_7",
            permit_id=db.session.scalar(select(Permit.id).where(Permit.number == old)),
            recipient="titolare@posta.example.org",
            subject=f"Il permesso {old} scade",
        )
    )
    db.session.commit()
    draft = applications.create_draft(
        resident,
        applications.ApplicationInput(category="1", applicant_id="", plates=(DEMO_OWN_CAR,)),
    )
    yield Records(
        resident,
        old,
        recent,
        active,
        _application_of(old),
        _application_of(recent),
        rejected,
        document_file,
        draft,
    )


def _permit(number: str) -> Permit:
    db.session.expire_all()
    permit = db.session.scalar(select(Permit).where(Permit.number == number))
    assert permit is not None
    return permit


def _application(application_id: int) -> Application:
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    assert application is not None
    return application


def _events(action: str) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(Event.subject_type, Event.subject_id).where(Event.action == action)
    ).all()
    return sorted((row.subject_type, row.subject_id) for row in rows)


def test_an_old_ended_permit_is_anonymised_a_recent_or_active_one_is_not(
    records: Records,
) -> None:
    kept_recent = _permit(records.recent_permit)
    recent_before = (kept_recent.holder_id, [p.plate for p in kept_recent.plates])
    old_id = _permit(records.old_permit).id
    changes_before = db.session.execute(
        select(func.count()).where(EnforcementChange.permit_id == old_id)
    ).scalar_one()
    result = anonymise_ended_records(NOW)
    assert (result.permits, result.years) == (1, 10)
    assert result.cutoff == retention_cutoff(NOW, 10)

    old = _permit(records.old_permit)
    assert old.holder_id == ANONYMISED_ID and old.holder_user_id is None
    assert old.pdf is None and old.seal_text is None
    assert old.end_reason is None and old.flag_checks is None
    assert old.plates == []
    assert old.anonymised_at == NOW
    # What stays: the number, the category, the zones, the validity and the status.
    assert old.status == PermitStatus.EXPIRED.value and old.zones and old.valid_to
    assert db.session.scalar(select(func.count()).where(PermitPlate.permit_id == old.id)) == 0
    # The enforcement index is told, once (bulk statements bypass its session hook).
    changes = db.session.scalar(select(func.count()).where(EnforcementChange.permit_id == old.id))
    assert changes == changes_before + 1

    recent = _permit(records.recent_permit)
    assert (recent.holder_id, [p.plate for p in recent.plates]) == recent_before
    assert recent.holder_id != ANONYMISED_ID and recent.pdf and recent.anonymised_at is None
    active = _permit(records.active_permit)
    assert active.status == PermitStatus.ACTIVE.value and active.anonymised_at is None
    assert [p.plate for p in active.plates] == [DEMO_OWN_CAR] and active.pdf

    mail = db.session.scalar(select(Notification).where(Notification.permit_id == old.id))
    assert mail is not None and mail.recipient == ANONYMISED_ID
    assert records.old_permit not in mail.subject and mail.kind == "expiry_7"


def test_an_application_rejected_long_ago_loses_the_person_and_the_documents(
    records: Records,
) -> None:
    before = _application(records.rejected_application)
    assert before.facts and before.verdict and before.plates and before.documents
    checks = [(c["id"], c["status"]) for c in before.verdict or []]
    result = anonymise_ended_records(NOW)
    assert result.documents == 1

    rejected = _application(records.rejected_application)
    assert rejected.applicant_id == ANONYMISED_ID and rejected.user_id is None
    assert rejected.details == {} and rejected.facts is None
    assert rejected.decision_reason is None
    assert rejected.plates == [] and rejected.documents == []
    assert rejected.anonymised_at == NOW
    # The verdict keeps what was decided, not what it was decided on.
    assert [(c["id"], c["status"]) for c in rejected.verdict or []] == checks
    assert all(c["evidence"] == {} for c in rejected.verdict or [])
    assert rejected.status == "rejected" and rejected.outcome == before.outcome
    assert not records.document_file.exists(), "the file is removed from the upload folder"
    assert (
        db.session.scalar(
            select(func.count()).where(ApplicationPlate.application_id == rejected.id)
        )
        == 0
    )
    stored = json.dumps([rejected.verdict, rejected.details, rejected.decision_reason])
    assert DEMO_RESIDENT not in stored and DEMO_OWN_CAR not in stored and "Rossi" not in stored
    # Its pagoPA notice stays in the accounts (amount, number, state), without who paid it.
    position = db.session.scalars(
        select(PaymentPosition).where(PaymentPosition.application_id == rejected.id)
    ).one()
    assert (position.payer_tax_code, position.payer_name) == (ANONYMISED_ID, "")
    assert (
        position.state == "paid"
        and position.amount_cents == before.fee_cents + before.stamp_duty_cents
    )
    receipts = db.session.scalars(
        select(PaymentNotification).where(PaymentNotification.position_id == position.id)
    ).all()
    assert all(r.payer_tax_code is None for r in receipts)


def test_an_issued_application_goes_with_its_last_permit_and_open_ones_stay(
    records: Records,
) -> None:
    result = anonymise_ended_records(NOW)
    assert result.applications == 2  # the rejected one, the old permit's
    old = _application(records.old_issued_application)
    assert old.applicant_id == ANONYMISED_ID and old.plates == [] and old.facts is None
    # Its permit ended 9 years ago: the application lives as long as the permit.
    recent = _application(records.recent_issued_application)
    assert recent.applicant_id == DEMO_RESIDENT and recent.anonymised_at is None
    active = _application(_application_of(records.active_permit))
    assert active.anonymised_at is None and active.plates
    draft = _application(records.recent_draft)
    assert draft.anonymised_at is None and draft.user_id == records.resident.id


def test_one_event_each_the_trail_stays_intact_and_a_second_run_changes_nothing(
    records: Records,
) -> None:
    events_before = db.session.execute(select(func.count()).select_from(Event)).scalar_one()
    first = anonymise_ended_records(NOW)
    old_permit_id = str(_permit(records.old_permit).id)
    assert _events("anonymised") == sorted(
        [
            ("application", str(records.old_issued_application)),
            ("application", str(records.rejected_application)),
            ("permit", old_permit_id),
        ]
    )
    event = db.session.scalar(
        select(Event).where(Event.action == "anonymised", Event.subject_id == old_permit_id)
    )
    assert event is not None and event.actor_label == "system"
    assert event.reason is not None and "records_years" in event.reason
    assert db.session.scalar(select(func.count()).select_from(Event)) == events_before + 3
    report = verify_audit_trail()
    assert report.intact, report.problem

    again = anonymise_ended_records(NOW)
    assert (again.permits, again.applications, again.documents) == (0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(Event)) == events_before + 3
    assert _permit(records.old_permit).anonymised_at == NOW  # not moved by the second run
    assert first.cutoff == again.cutoff
    assert verify_audit_trail().intact


def test_later_runs_take_what_has_aged_since(records: Records) -> None:
    anonymise_ended_records(NOW)
    later = anonymise_ended_records(NOW + dt.timedelta(days=3 * 365))
    # The permit revoked 9 years ago is now 12 years old, and its application goes with it.
    assert (later.permits, later.applications) == (1, 1)
    assert _permit(records.recent_permit).holder_id == ANONYMISED_ID
    assert _permit(records.active_permit).anonymised_at is None
    # Whatever the years, an active permit is never due, and nothing is anonymised twice.
    assert anonymise_ended_records(NOW + dt.timedelta(days=3 * 365), years=1).permits == 0
    with pytest.raises(ValueError):
        anonymise_ended_records(NOW, years=0)


def test_an_abandoned_draft_is_anonymised(records: Records) -> None:
    _age_application(records.recent_draft, 10.5)
    assert anonymise_ended_records(NOW).applications == 3
    draft = _application(records.recent_draft)
    assert draft.status == "draft" and draft.applicant_id == ANONYMISED_ID and draft.plates == []


def test_the_personal_data_export_still_works_after_anonymisation(records: Records) -> None:
    anonymise_ended_records(NOW)
    db.session.expire_all()
    resident = db.session.get(User, records.resident.id)
    assert resident is not None
    export = personal_data(resident)
    text = json.dumps(export)
    numbers = [p["number"] for p in export["permits"]]
    assert records.recent_permit in numbers and records.active_permit in numbers
    assert records.old_permit not in numbers, "an anonymised permit is no longer theirs"
    listed = [a["number"] for a in export["applications"]]
    assert records.recent_draft in listed and records.rejected_application not in listed
    assert records.old_issued_application not in listed
    assert REJECTION not in text and ANONYMISED_ID not in text
    assert export["account"]["codice_fiscale"] == DEMO_RESIDENT


def test_a_clerk_still_opens_the_anonymised_records(records: Records) -> None:
    anonymise_ended_records(NOW)
    make_user("clerk", "ufficio@comune.example.org")
    client = current_app.test_client()
    assert login(client, "ufficio@comune.example.org", PASSWORD).status_code == 302
    page = client.get(f"/ufficio/domande/{records.rejected_application}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert ANONYMISED_ID in text and DEMO_RESIDENT not in text and DEMO_OWN_CAR not in text
    # The history shows the events as they were written (append-only, hash-chained): the
    # rejection's reason is still there, in its event; the application no longer holds it.
    permit = client.get(f"/ufficio/permessi/{records.old_permit}")
    assert permit.status_code == 200 and DEMO_OWN_CAR not in permit.get_data(as_text=True)
    assert client.get(f"/ufficio/permessi/{records.old_permit}/pdf").status_code == 404


def test_the_command_prints_every_count(records: Records, runner: FlaskCliRunner) -> None:
    now = NOW.isoformat()
    result = runner.invoke(args=["retention", "purge", "--now", now])
    assert result.exit_code == 0, result.output
    lookups, ledger, submissions, anonymised = result.output.splitlines()
    assert lookups.startswith("0 plate lookups anonymised (retention 7 days")
    assert ledger.startswith(
        "0 covered transits counted and deleted, 0 transits anonymised, 0 refused gate messages "
        "deleted (retention 7 days"
    )
    assert submissions == "0 form submissions older than a day forgotten"
    assert re.match(
        r"1 permits and 2 applications anonymised, 1 documents deleted, the personal fields of "
        r"\d+ events erased \(retention 10 years: ",
        anonymised,
    ), anonymised
    assert " of 0 events" not in anonymised
    again = runner.invoke(args=["retention", "purge", "--now", now])
    assert again.exit_code == 0 and "0 permits and 0 applications anonymised" in again.output
    bad = runner.invoke(args=["retention", "purge", "--now", "2026-06-20T03:00"])
    assert bad.exit_code == 2
    assert _permit(records.recent_permit).anonymised_at is None


def test_the_cutoff_counts_calendar_years() -> None:
    leap = dt.datetime(2028, 2, 29, 3, 0, tzinfo=dt.UTC)
    assert retention_cutoff(leap, 10) == dt.datetime(2018, 2, 28, 3, 0, tzinfo=dt.UTC)
    assert retention_cutoff(NOW, 10).year == NOW.year - 10


def _history(subject_type: str, subject_id: int | str) -> list[Event]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.subject_type == subject_type, Event.subject_id == str(subject_id))
            .order_by(Event.id)
        )
    )


def test_the_history_of_an_anonymised_record_forgets_the_person_and_still_verifies(
    records: Records,
) -> None:
    """The clerk's reason, the resident's e-mail as actor, the plates in the data: all erased."""
    rejected = _history("application", records.rejected_application)
    assert any(e.reason == REJECTION for e in rejected)
    assert any(e.actor_label == "titolare@posta.example.org" for e in rejected)
    recent_before = [(e.reason, e.data) for e in _history("application", records.recent_draft)]

    result = anonymise_ended_records(NOW)

    assert result.events == 11
    rejected = _history("application", records.rejected_application)
    kept = [e for e in rejected if e.action != "anonymised"]
    assert kept and all(e.redacted_at == NOW for e in kept)
    for event in kept:
        assert (event.actor_label, event.reason, event.data, event.personal_salt) == (
            "anonimizzato",
            None,
            {},
            None,
        )
        assert event.action and event.occurred_at and event.personal_digest  # the rest stays
    text = " ".join(f"{e.actor_label} {e.reason} {e.data}" for e in rejected)
    assert "titolare@posta.example.org" not in text and REJECTION not in text
    assert DEMO_OWN_CAR not in " ".join(
        str(e.data) for e in _history("permit", _permit(records.old_permit).id)
    )
    # Records still open keep their history as it was.
    assert [(e.reason, e.data) for e in _history("application", records.recent_draft)] == (
        recent_before
    )
    report = verify_audit_trail()
    assert report.intact, report.problem
    assert report.redacted == result.events


def test_a_history_erased_around_retention_is_reported(records: Records) -> None:
    """Blanking a live record's events by hand looks like a redaction, and is caught as none."""
    target = _history("application", records.recent_draft)[0]
    db.session.execute(
        update(Event)
        .where(Event.id == target.id)
        .values(
            actor_label="anonimizzato", reason=None, data={}, personal_salt=None, redacted_at=NOW
        )
    )
    db.session.commit()
    report = verify_audit_trail()
    assert not report.intact and report.event_id == target.id
    assert "was redacted but its application" in (report.problem or "")


def test_a_redacted_event_cannot_be_rewritten(records: Records) -> None:
    anonymise_ended_records(NOW)
    target = _history("application", records.rejected_application)[0]
    assert target.redacted_at is not None
    db.session.execute(update(Event).where(Event.id == target.id).values(reason="tutto in regola"))
    db.session.commit()
    report = verify_audit_trail()
    assert not report.intact and report.event_id == target.id
    assert "marked as redacted but still holds personal fields" in (report.problem or "")
