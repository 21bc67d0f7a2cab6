"""The applicant's and the clerk's use cases, through the services: the life of an application.

Each test walks one path of permit-catalogue.md's "life of a permit" and checks what is stored,
what the applicant owes, what is issued, and that refusals leave nothing half-written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.factories import (
    DEMO_OWN_CAR,
    DEMO_RESIDENT,
    hotel_in_zone_a,
    make_representative,
    make_user,
)
from ztl.applications import applicant as applications
from ztl.applications import decisions, documents, hotel_guests
from ztl.applications.clerk_queue import QueueQuery, queue_page
from ztl.applications.dashboard import dashboard
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.mail import notifications
from ztl.models import Application, Business, Document, Event, HotelBooklet, Permit
from ztl.models.enums import ApplicationStatus, PermitStatus
from ztl.payments.notice_numbers import iuv_is_well_formed
from ztl.permits.from_applications import failed_checks

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, object]]]:
    """Record what would be e-mailed (the mail itself is tested in test_notifications)."""
    calls: list[tuple[str, object]] = []
    names = (
        "notify_application_submitted",
        "notify_documents_requested",
        "notify_decision",
        "notify_permit_issued",
    )
    for name in names:
        monkeypatch.setattr(notifications, name, lambda *a, _n=name: calls.append((_n, a[0])))
    yield calls


def _resident(email: str = "mario@example.test", cf: str = DEMO_RESIDENT):  # type: ignore[no-untyped-def]
    return make_user("resident", email, codice_fiscale=cf)


def _residents_permit(user, plate: str = DEMO_OWN_CAR) -> int:  # type: ignore[no-untyped-def]
    return applications.create_draft(
        user, applications.ApplicationInput(category="1", applicant_id="", plates=(plate,))
    )


def test_resident_applies_pays_and_gets_the_permit_at_once(
    city: Flask, sent: list[tuple[str, object]]
) -> None:
    user = _resident()
    app_id = _residents_permit(user)
    draft = db.session.get(Application, app_id)
    assert draft is not None and draft.status == "draft" and draft.outcome == "eligible"
    assert draft.applicant_id == DEMO_RESIDENT  # a person applies for themselves
    assert (draft.fee_cents, draft.stamp_duty_cents) == (1500, 3200)

    outcome = applications.submit_application(app_id, user)
    assert outcome.status == "submitted" and outcome.payment_due_cents == 4700
    assert outcome.permit_number is None
    stored = db.session.get(Application, app_id)
    assert stored is not None and iuv_is_well_formed(stored.payment_reference or "")
    assert [t.kind for t in dashboard(user).todos] == ["payment_due"]

    paid = applications.pay_own_application(app_id, user)
    assert paid.status == "issued" and paid.permit_number
    permit = db.session.scalars(select(Permit).where(Permit.number == paid.permit_number)).one()
    assert permit.pdf and permit.pdf.startswith(b"%PDF") and permit.holder_user_id == user.id
    # Paying again (a retried request) changes nothing and issues nothing more.
    again = applications.pay_own_application(app_id, user)
    assert again.permit_number == paid.permit_number
    assert db.session.scalar(select(func.count()).select_from(Permit)) == 1
    assert ("notify_permit_issued", permit.id) in sent
    assert ("notify_application_submitted", app_id) in sent


def test_nobody_else_can_touch_an_application(city: Flask) -> None:
    owner, other = _resident(), _resident("other@example.test", "RSSMRA85T10A562S")
    app_id = _residents_permit(owner)
    for call in (
        lambda: applications.submit_application(app_id, other),
        lambda: applications.withdraw_application(app_id, other),
        lambda: documents.attach_document(app_id, other, "other", "a.pdf", PDF),
    ):
        with pytest.raises(ServiceError) as refused:
            call()
        assert refused.value.code == "not_found"
    assert db.session.get(Application, app_id).status == "draft"  # type: ignore[union-attr]


def test_bad_input_names_the_field_and_stores_nothing(city: Flask) -> None:
    user = _resident()
    cases = {
        ("1", ("AB 12",)): "plates",
        ("1", ("AB123CD", "EF456GH")): "plates",  # one plate only for residents
        ("99", ("AB123CD",)): "category",
        ("4", ("AB123CD",)): "applicant_id",  # a firm's category needs a partita IVA
    }
    for (category, plates), field in cases.items():
        with pytest.raises(applications.ApplicationInputError) as refused:
            applications.create_draft(
                user,
                applications.ApplicationInput(category=category, applicant_id="x", plates=plates),
            )
        assert refused.value.field == field
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_clerk_asks_for_a_document_then_approves(city: Flask, sent: list) -> None:
    user = _resident()
    clerk = make_user("clerk")
    app_id = applications.create_draft(
        user, applications.ApplicationInput(category="15", applicant_id="", plates=(DEMO_OWN_CAR,))
    )
    applications.submit_application(
        app_id, user, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(app_id, user)
    paid = db.session.get(Application, app_id)
    assert paid is not None and paid.status == "under_review"
    assert failed_checks(paid) == ["documents_attached"]  # the lease is not there yet
    assert [a.id for a in queue_page(QueueQuery()).applications] == [app_id]
    assert [a.id for a in queue_page(QueueQuery(search=DEMO_OWN_CAR)).applications] == [app_id]
    assert queue_page(QueueQuery(category="1")).total == 0

    decisions.request_documents(app_id, Actor.of_user(clerk), "Allegare il contratto di locazione")
    assert dashboard(user).todos[0].message == "Allegare il contratto di locazione"
    doc_id = documents.attach_document(
        app_id, user, "lease_or_deed", "../../etc/contratto.pdf", PDF
    )
    db.session.expire_all()
    checked = db.session.get(Application, app_id)
    assert checked is not None and failed_checks(checked) == []  # the checks ran again with it
    document = db.session.get(Document, doc_id)
    assert document is not None and document.original_name == "contratto.pdf"
    assert document.content_type == "application/pdf"
    assert db.session.get(Application, app_id).status == "under_review"  # type: ignore[union-attr]
    stored = documents.open_document(doc_id, clerk)
    assert stored.path.read_bytes() == PDF and stored.path.name == document.stored_name

    result = decisions.approve(app_id, Actor.of_user(clerk), "contratto verificato")
    assert result.created and result.pdf.startswith(b"%PDF")
    assert decisions.approve(app_id, Actor.of_user(clerk)).number == result.number  # retried
    with pytest.raises(ServiceError):
        decisions.reject(app_id, Actor.of_user(clerk), "troppo tardi")
    actions = db.session.scalars(
        select(Event.action).where(
            Event.subject_type == "application", Event.subject_id == str(app_id)
        )
    ).all()
    for action in ("submitted", "paid", "queued", "documents_requested", "approved", "issued"):
        assert action in actions


def test_reject_needs_a_reason(city: Flask) -> None:
    user, clerk = _resident(), make_user("clerk")
    app_id = applications.create_draft(
        user, applications.ApplicationInput(category="15", applicant_id="", plates=(DEMO_OWN_CAR,))
    )
    applications.submit_application(
        app_id, user, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(app_id, user)
    with pytest.raises(ServiceError) as refused:
        decisions.reject(app_id, Actor.of_user(clerk), "  ")
    assert refused.value.code == "reason_missing"
    decisions.reject(app_id, Actor.of_user(clerk), "Contratto non registrato")
    rejected = db.session.get(Application, app_id)
    assert rejected is not None and rejected.status == "rejected"
    assert rejected.decision_reason == "Contratto non registrato"


def test_uploads_are_checked_by_content(
    city: Flask, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "ZTL_UPLOAD_DIR", str(tmp_path / "uploads"))
    user = _resident()
    app_id = _residents_permit(user)
    refusals = {
        b"": "empty",
        b"<html><script>alert(1)</script>": "type",
        b"%PDF" + b"x" * 10: "type",  # not "%PDF-"
    }
    for data, code in refusals.items():
        with pytest.raises(documents.DocumentError) as refused:
            documents.attach_document(app_id, user, "other", "x.pdf", data)
        assert refused.value.code == code
    monkeypatch.setitem(app.config, "ZTL_MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(documents.DocumentError) as too_big:
        documents.attach_document(app_id, user, "other", "x.png", b"\x89PNG\r\n\x1a\n" + b"0" * 200)
    assert too_big.value.code == "too_large"
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    assert not any(Path(app.config["ZTL_UPLOAD_DIR"]).glob("*"))  # no orphan file either


def test_a_full_disk_is_a_clear_refusal(
    city: Flask, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _resident()
    app_id = _residents_permit(user)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the upload folder should be")
    monkeypatch.setitem(app.config, "ZTL_UPLOAD_DIR", str(blocker / "uploads"))
    with pytest.raises(documents.DocumentError) as refused:
        documents.attach_document(app_id, user, "other", "a.pdf", PDF)
    assert refused.value.code == "storage_unavailable"
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_daily_permit_is_issued_on_payment_and_the_monthly_limit_holds(city: Flask) -> None:
    user = _resident()
    plate = car_plate(5_000_003)
    today = NOW.date()
    numbers = []
    for offset in range(4):
        day = today + dt.timedelta(days=offset)
        data = applications.ApplicationInput(
            category="G/B", applicant_id="", plates=(plate,), requested_from=day
        )
        app_id = applications.create_draft(user, data)
        if offset < 3 or day.month != today.month:
            applications.submit_application(app_id, user)
            numbers.append(applications.pay_own_application(app_id, user).permit_number)
        else:
            with pytest.raises(ServiceError) as refused:
                applications.submit_application(app_id, user)
            assert refused.value.code == "not_eligible_automatic"
    assert all(numbers)


def test_renewal_is_an_application_that_replaces_the_permit(city: Flask) -> None:
    user = _resident()
    app_id = _residents_permit(user)
    applications.submit_application(app_id, user)
    first = applications.pay_own_application(app_id, user).permit_number
    assert first
    with pytest.raises(ServiceError) as early:
        applications.start_renewal(first, user)
    assert early.value.code == "too_early"
    later = NOW + dt.timedelta(days=340)
    renewal_id = applications.start_renewal(first, user, at=later)
    assert applications.start_renewal(first, user, at=later) == renewal_id  # not twice
    applications.submit_application(renewal_id, user, at=later)
    second = applications.pay_own_application(renewal_id, user, at=later).permit_number
    old = db.session.scalars(select(Permit).where(Permit.number == first)).one()
    new = db.session.scalars(select(Permit).where(Permit.number == second)).one()
    assert old.status == PermitStatus.REPLACED.value and old.replaced_by_id == new.id
    assert new.valid_to > old.valid_to


def test_hotel_registers_guests_against_a_paid_booklet(city: Flask) -> None:
    user = _resident()
    hotel = hotel_in_zone_a()
    guest = hotel_guests.GuestRegistration(car_plate(5_000_001), NOW - dt.timedelta(hours=20), 2)
    with pytest.raises(ServiceError) as no_booklet:
        hotel_guests.register_guest(user, hotel, guest)
    assert no_booklet.value.code == "no_booklet"
    booklet = hotel_guests.buy_booklet(user, hotel)
    hotel_guests.pay_booklet(booklet.id, user)
    number = hotel_guests.register_guest(user, hotel, guest)
    permit = db.session.scalars(select(Permit).where(Permit.number == number)).one()
    assert permit.valid_from <= guest.arrival  # covers the transit it was registered for
    late = hotel_guests.GuestRegistration(car_plate(5_000_002), NOW - dt.timedelta(hours=50), 1)
    with pytest.raises(hotel_guests.GuestRefused) as refused:
        hotel_guests.register_guest(user, hotel, late)
    assert refused.value.reasons_in("it") == (
        "Registrazione oltre 48 ore dal transito: non più ammessa."
    )
    report = hotel_guests.register_guest_batch(
        user,
        hotel,
        f"plate,arrival,nights\n{car_plate(5_000_004)},{NOW.isoformat()},3\n"
        "??,2026-01-01T10:00,1\n",
    )
    assert report[0].permit_number is not None and report[0].problem_code is None
    assert (report[1].permit_number, report[1].problem_code) == (None, "time_without_offset")
    assert db.session.get(HotelBooklet, booklet.id).used == 2  # type: ignore[union-attr]
    assert db.session.scalar(select(func.count()).select_from(Permit)) == 2


def test_booklets_are_sold_to_accommodation_firms_in_the_zone(city: Flask) -> None:
    """The misuse: any signed-in person bought a booklet for any firm in the zone, hotel or not."""
    user = _resident()
    shop = hotel_in_zone_a(accommodation=False)
    with pytest.raises(ServiceError) as not_a_hotel:
        hotel_guests.buy_booklet(user, shop)
    assert not_a_hotel.value.code == "hotel_not_accommodation"
    outside = "01234560017"  # a hotel outside the walls, where no zone is
    db.session.add(
        Business(
            partita_iva=outside,
            name="Albergo Fuori Porta",
            street="Viale Piave",
            street_key="VIALE PIAVE",
            house_number="10",
            house_no=10,
            status="active",
            ateco="55.10",
        )
    )
    db.session.commit()
    make_representative(outside, user)
    with pytest.raises(ServiceError) as far_away:
        hotel_guests.buy_booklet(user, outside)
    assert far_away.value.code == "hotel_outside_zone"
    with pytest.raises(ServiceError) as unknown:
        hotel_guests.buy_booklet(user, "01234560025")  # a valid number, but in no register
    assert unknown.value.code == "not_representative"  # nobody represents a firm it lacks
    assert db.session.scalar(select(func.count()).select_from(HotelBooklet)) == 0
    assert hotel_guests.buy_booklet(user, hotel_in_zone_a()).size == 40


def test_a_reloaded_guest_file_spends_no_registration(city: Flask) -> None:
    """The misuse: reloading the page after a guest file upload registered the guests again."""
    user = _resident()
    hotel = hotel_in_zone_a()
    booklet = hotel_guests.buy_booklet(user, hotel)
    hotel_guests.pay_booklet(booklet.id, user)
    upload = (
        f"plate,arrival,nights\n{car_plate(5_000_004)},{NOW.isoformat()},3\n"
        f"{car_plate(5_000_005)},{NOW.isoformat()},1\n"
    )
    first = hotel_guests.register_guest_batch(user, hotel, upload)
    assert all(line.permit_number for line in first)
    again = hotel_guests.register_guest_batch(user, hotel, upload)
    assert [line.permit_number for line in again] == [None, None]
    assert [line.problem_code for line in again] == ["guest_already_registered"] * 2
    # A stay that only overlaps (arriving the next day) is the same stay: refused as well.
    overlapping = hotel_guests.GuestRegistration(
        car_plate(5_000_004), NOW + dt.timedelta(days=1), 1
    )
    with pytest.raises(ServiceError) as refused:
        hotel_guests.register_guest(user, hotel, overlapping)
    assert refused.value.code == "guest_already_registered"
    assert db.session.get(HotelBooklet, booklet.id).used == 2  # type: ignore[union-attr]
    assert db.session.scalar(select(func.count()).select_from(Permit)) == 2


def test_withdrawn_application_leaves_the_queue(city: Flask) -> None:
    user = _resident()
    app_id = _residents_permit(user)
    applications.withdraw_application(app_id, user)
    assert db.session.get(Application, app_id).status == ApplicationStatus.WITHDRAWN.value  # type: ignore[union-attr]
    with pytest.raises(ServiceError):
        applications.submit_application(app_id, user)
