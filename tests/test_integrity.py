"""Invariants the database itself enforces, and payments nobody can fake.

The constraint tests write rows directly, as a code path that forgot its lock would: the database
must refuse them on both engines. The payment tests send the payment system's notifications over
HTTP, signed as its published scheme says (ztl.applications.payment_receipts), and check what each
refusal leaves for the accounting office.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import PAYMENT_SECRET, login, make_app
from tests.factories import (
    CF_MARIO,
    DEMO_OWN_CAR,
    DEMO_RESIDENT,
    PASSWORD,
    add_household_car,
    issue_resident,
    make_user,
)
from ztl.applications import applicant as applications
from ztl.applications.payment_receipts import SIGNATURE_HEADER, sign
from ztl.config import ConfigurationError
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import (
    Application,
    Event,
    FormSubmission,
    GuestNight,
    HotelBooklet,
    PaymentNotification,
    Permit,
    PermitPlate,
)
from ztl.permits.changes import change_plate

SECRET = PAYMENT_SECRET
NOTIFY = "/api/v1/payments/notifications"


# --- the database refuses what a forgotten lock would let through ---------------------------


def _copy_of(permit: Permit, number: str, serial: int, **changes: Any) -> Permit:
    copy = Permit(
        number=number,
        year=permit.year,
        serial=serial,
        application_id=permit.application_id,
        holder_id=permit.holder_id,
        category_id=permit.category_id,
        valid_from=permit.valid_from,
        valid_to=permit.valid_to,
        **changes,
    )
    copy.plates.append(PermitPlate(plate="ZZ999ZZ"))
    return copy


def test_a_permit_has_at_most_one_successor(city: Flask) -> None:
    first = issue_resident()
    add_household_car("EF456GH")
    second = change_plate(first.number, DEMO_OWN_CAR, "EF456GH", Actor.cli())
    old = db.session.get(Permit, first.permit_id)
    new = db.session.get(Permit, second.permit_id)
    assert old is not None and new is not None
    assert new.replaces_id == old.id and old.replaced_by_id == new.id

    db.session.add(_copy_of(old, "PO-2026-999998", 999998, replaces_id=old.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_an_application_has_at_most_one_first_permit(city: Flask) -> None:
    user = make_user("resident", "unico@esempio.it", codice_fiscale=DEMO_RESIDENT)
    app_id = applications.create_draft(
        user, applications.ApplicationInput(category="1", applicant_id="", plates=(DEMO_OWN_CAR,))
    )
    applications.submit_application(app_id, user)
    outcome = applications.pay_own_application(app_id, user)
    permit = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).one()
    assert outcome.permit_number == permit.number

    db.session.add(_copy_of(permit, "PO-2026-999997", 999997))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_hotel_registers_a_plate_once_per_night(city: Flask) -> None:
    permit = issue_resident()
    night = dt.date(2026, 12, 24)
    db.session.add(
        GuestNight(
            holder_id="01234567890", plate="AB123CD", night=night, permit_id=permit.permit_id
        )
    )
    db.session.commit()
    db.session.add(
        GuestNight(
            holder_id="01234567890", plate="AB123CD", night=night, permit_id=permit.permit_id
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(  # another hotel, or another night, is another registration
        GuestNight(
            holder_id="09876543210", plate="AB123CD", night=night, permit_id=permit.permit_id
        )
    )
    db.session.commit()


def test_a_receipt_is_accepted_once(app: Flask) -> None:
    def accepted() -> PaymentNotification:
        return PaymentNotification(
            receipt_id="R-1",
            iuv="123",
            amount_cents=100,
            paid_at=dt.datetime(2026, 12, 5, tzinfo=dt.UTC),
            outcome="accepted",
            body_sha256="0" * 64,
        )

    db.session.add(accepted())
    db.session.commit()
    refused = accepted()
    refused.outcome = "refused"
    db.session.add(refused)  # refused deliveries of the same receipt are all kept
    db.session.commit()
    db.session.add(accepted())
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_lost_race_against_a_constraint_is_a_409_page_not_a_500(
    city: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A constraint is the last guard: the request that hits it is told, in words, what happened."""
    import ztl.web.resident.application_views as views

    permit_id = issue_resident().permit_id

    def collide(*_args: Any) -> None:
        for _ in range(2):
            night = GuestNight(
                holder_id="1", plate="X", night=dt.date(2026, 1, 1), permit_id=permit_id
            )
            db.session.add(night)
        db.session.commit()

    user = make_user("resident", "gara@esempio.it", codice_fiscale=DEMO_RESIDENT)
    app_id = applications.create_draft(
        user, applications.ApplicationInput(category="1", applicant_id="", plates=(DEMO_OWN_CAR,))
    )
    monkeypatch.setattr(views.applications, "withdraw_application", collide)
    client = city.test_client()
    assert login(client, "gara@esempio.it", PASSWORD).status_code == 302
    response = client.post(
        f"/area-personale/domande/{app_id}/ritira",
        data={**_csrf(client, app_id), "confirmed": "yes"},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Modifica già avvenuta" in page and "Traceback" not in page


def _csrf(client: FlaskClient, app_id: int) -> dict[str, str]:
    from tests.conftest import csrf_token

    return {"csrf_token": csrf_token(client, f"/area-personale/domande/{app_id}")}


# --- a database busy beyond the timeout --------------------------------------------------------


def test_a_database_locked_beyond_the_timeout_answers_503_with_retry_after(
    tmp_path: Path,
) -> None:
    """SQLite: another process holds the write lock longer than ZTL_DB_BUSY_TIMEOUT."""
    from flask_migrate import upgrade

    path = tmp_path / "busy.sqlite3"
    app = make_app(f"sqlite:///{path}", tmp_path / "instance", ZTL_DB_BUSY_TIMEOUT=0.2)
    with app.app_context():
        upgrade()
        make_user("resident", "occupato@esempio.it", codice_fiscale=CF_MARIO)
        db.session.remove()
    client = app.test_client()
    assert login(client, "occupato@esempio.it", PASSWORD).status_code == 302
    from tests.conftest import csrf_token

    token = csrf_token(client, "/area-personale/")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = client.post(
            "/area-personale/domande/1/ritira", data={"csrf_token": token, "confirmed": "yes"}
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "Traceback" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 0
        db.engine.dispose()


# --- payments: the stand-in is refused in production ---------------------------------------


def test_production_refuses_the_demo_payment_provider(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        make_app(
            "sqlite://",
            tmp_path,
            ZTL_ENV="production",
            ZTL_PAYMENT_PROVIDER="demo",
            ZTL_PAYMENT_NOTIFICATION_SECRET=SECRET,
        )
    message = str(refused.value)
    assert "ZTL_PAYMENT_PROVIDER=demo" in message and "ZTL_PAYMENT_PROVIDER=notified" in message


def test_production_without_the_notification_secret_does_not_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        make_app("sqlite://", tmp_path, ZTL_ENV="production", ZTL_PAYMENT_PROVIDER="notified")
    assert "ZTL_PAYMENT_NOTIFICATION_SECRET" in str(refused.value)


def test_an_unknown_provider_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        make_app("sqlite://", tmp_path, ZTL_PAYMENT_PROVIDER="pagopa-someday")
    assert "ZTL_PAYMENT_PROVIDER must be one of demo, notified" in str(refused.value)


# --- payments: only the payment system's signed notification pays ---------------------------


def _submitted(email: str = "paga@esempio.it") -> tuple[Any, int, str, int]:
    user = make_user("resident", email, codice_fiscale=DEMO_RESIDENT)
    app_id = applications.create_draft(
        user, applications.ApplicationInput(category="1", applicant_id="", plates=(DEMO_OWN_CAR,))
    )
    applications.submit_application(app_id, user)
    application = db.session.get(Application, app_id)
    assert application is not None and application.payment_reference
    return user, app_id, application.payment_reference, applications.total_due(application)


def _notify(
    client: FlaskClient,
    iuv: str,
    amount: int,
    receipt: str = "RCPT-0001",
    secret: str = SECRET,
    at: dt.datetime | None = None,
) -> Any:
    body = json.dumps(
        {
            "receipt_id": receipt,
            "iuv": iuv,
            "amount_cents": amount,
            "paid_at": "2026-12-05T10:00:00+01:00",
        }
    ).encode()
    signature = sign(secret, body, at or dt.datetime.now(dt.UTC))
    return client.post(
        NOTIFY,
        data=body,
        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
    )


def _notifications(outcome: str | None = None) -> list[PaymentNotification]:
    query = select(PaymentNotification).order_by(PaymentNotification.id)
    if outcome:
        query = query.where(PaymentNotification.outcome == outcome)
    db.session.expire_all()
    return list(db.session.scalars(query))


def test_the_payer_cannot_confirm_their_own_payment(notified: Flask) -> None:
    user, app_id, _iuv, _due = _submitted()
    with pytest.raises(ServiceError) as refused:
        applications.pay_own_application(app_id, user)
    assert refused.value.code == "awaiting_receipt"
    application = db.session.get(Application, app_id)
    assert application is not None and application.paid_at is None


def test_a_signed_notification_pays_and_issues_once_and_a_replay_is_answered_the_same(
    notified: Flask,
) -> None:
    _user, app_id, iuv, due = _submitted()
    client = notified.test_client()

    first = _notify(client, iuv, due)
    again = _notify(client, iuv, due)

    assert first.status_code == 200, first.get_json()
    assert first.get_json()["outcome"] == "accepted"
    number = first.get_json()["permit"]
    assert again.status_code == 200
    assert again.get_json() == {
        "outcome": "replay",
        "code": "already_recorded",
        "message": "this receipt was already recorded",
        "permit": number,
    }
    permits = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).all()
    assert [p.number for p in permits] == [number]
    assert [n.outcome for n in _notifications()] == ["accepted", "replay"]
    paid = db.session.scalars(
        select(Event).where(Event.subject_id == str(app_id), Event.action == "paid")
    ).all()
    assert len(paid) == 1 and paid[0].actor_label == "payment-system"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"amount": -1}, 422, "amount_mismatch"),
        ({"iuv": "00000000000000000"}, 422, "unknown_notice"),
    ],
)
def test_a_notification_that_does_not_match_is_refused_and_recorded(
    notified: Flask, change: dict[str, Any], status: int, code: str
) -> None:
    _user, app_id, iuv, due = _submitted()
    response = _notify(
        notified.test_client(),
        change.get("iuv", iuv),
        due + change.get("amount", 0),
    )
    assert response.status_code == status
    assert response.get_json()["error"] == code
    application = db.session.get(Application, app_id)
    assert application is not None and application.paid_at is None
    refused = _notifications("refused")
    assert len(refused) == 1 and refused[0].reason
    assert (
        db.session.scalar(
            select(func.count()).select_from(Event).where(Event.action == "receipt_refused")
        )
        == 1
    )


def test_a_second_receipt_for_a_paid_notice_is_refused_as_a_double_payment(
    notified: Flask,
) -> None:
    _user, _app_id, iuv, due = _submitted()
    client = notified.test_client()
    assert _notify(client, iuv, due, receipt="RCPT-A").status_code == 200
    second = _notify(client, iuv, due, receipt="RCPT-B")
    assert second.status_code == 422
    assert second.get_json()["error"] == "already_paid"


def test_a_receipt_for_a_withdrawn_application_is_refused(notified: Flask) -> None:
    user, app_id, iuv, due = _submitted()
    applications.withdraw_application(app_id, user)
    response = _notify(notified.test_client(), iuv, due)
    assert response.status_code == 422
    assert response.get_json()["error"] == "notice_cancelled"


@pytest.mark.parametrize(
    ("secret", "shift", "reason"),
    [
        ("x" * 40, dt.timedelta(0), "does not match"),
        (SECRET, dt.timedelta(minutes=-6), "five minutes"),
    ],
)
def test_an_unsigned_or_stale_notification_is_refused_and_pays_nothing(
    notified: Flask, secret: str, shift: dt.timedelta, reason: str
) -> None:
    _user, app_id, iuv, due = _submitted()
    response = _notify(
        notified.test_client(), iuv, due, secret=secret, at=dt.datetime.now(dt.UTC) + shift
    )
    assert response.status_code == 401
    assert reason in response.get_json()["message"]
    application = db.session.get(Application, app_id)
    assert application is not None and application.paid_at is None
    assert _notifications() == []


@pytest.mark.parametrize(
    "header",
    ["t=" + "9" * 30 + ",v1=ab", "t=\u00b2\u00b3,v1=ab", "t=12,v1=", "v1=ab", "nonsense"],
)
def test_a_malformed_signature_header_is_a_401_not_a_500(notified: Flask, header: str) -> None:
    response = notified.test_client().post(
        NOTIFY, data=b"{}", headers={SIGNATURE_HEADER: header.encode().decode("latin-1")}
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "bad_signature"


def test_an_amount_beyond_any_column_is_a_400_not_a_500(notified: Flask) -> None:
    body = json.dumps(
        {"receipt_id": "R", "iuv": "1", "amount_cents": 10**20, "paid_at": "2026-12-05T10:00Z"}
    ).encode()
    signed = {SIGNATURE_HEADER: sign(SECRET, body, dt.datetime.now(dt.UTC))}
    response = notified.test_client().post(NOTIFY, data=body, headers=signed)
    assert response.status_code == 400
    assert "amount_cents" in response.get_json()["message"]
    assert _notifications() == []


def test_a_notification_without_signature_or_with_a_bad_body_is_refused(notified: Flask) -> None:
    client = notified.test_client()
    assert client.post(NOTIFY, data=b"{}").status_code == 401
    body = b'{"receipt_id": "R", "iuv": "1", "amount_cents": "12"}'
    signed = {SIGNATURE_HEADER: sign(SECRET, body, dt.datetime.now(dt.UTC))}
    response = client.post(NOTIFY, data=body, headers=signed)
    assert response.status_code == 400
    assert "amount_cents" in response.get_json()["message"]


def test_the_notification_endpoint_is_closed_with_the_demo_provider(city: Flask) -> None:
    _user, _app_id, iuv, due = _submitted()
    assert _notify(city.test_client(), iuv, due).status_code == 404


def test_a_booklet_is_paid_by_its_notification_only(notified: Flask) -> None:
    from tests.factories import hotel_in_zone_a
    from ztl.applications import hotel_guests

    hotel = hotel_in_zone_a(accommodation=True)
    user = make_user("resident", "albergo@esempio.it", codice_fiscale=DEMO_RESIDENT)
    booklet = hotel_guests.buy_booklet(user, hotel)
    with pytest.raises(ServiceError) as refused:
        hotel_guests.pay_booklet(booklet.id, user)
    assert refused.value.code == "awaiting_receipt"
    response = _notify(notified.test_client(), booklet.payment_reference or "", booklet.price_cents)
    assert response.status_code == 200
    db.session.expire_all()
    paid = db.session.get(HotelBooklet, booklet.id)
    assert paid is not None and paid.paid_at is not None


def test_simultaneous_deliveries_of_one_receipt_issue_one_permit(notified: Flask) -> None:
    _user, app_id, iuv, due = _submitted()
    db.session.commit()
    answers: list[Any] = []
    barrier = threading.Barrier(6)

    def deliver() -> None:
        client = notified.test_client()
        barrier.wait()
        answers.append(_notify(client, iuv, due))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(a.status_code for a in answers) == [200] * 6
    assert sorted(a.get_json()["outcome"] for a in answers) == ["accepted"] + ["replay"] * 5
    assert len({a.get_json()["permit"] for a in answers}) == 1
    db.session.expire_all()
    permits = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).all()
    assert len(permits) == 1


def test_with_a_real_provider_the_page_offers_no_button_that_would_pretend(notified: Flask) -> None:
    _user, app_id, _iuv, _due = _submitted("attesa@esempio.it")
    client = notified.test_client()
    assert login(client, "attesa@esempio.it", PASSWORD).status_code == 302
    page = client.get(f"/area-personale/domande/{app_id}").get_data(as_text=True)
    assert "Ho pagato" not in page
    assert "appena arriva la ricevuta del sistema pagoPA" in page
    forged = client.post(f"/area-personale/domande/{app_id}/paga", data=_csrf(client, app_id))
    assert forged.status_code == 303
    application = db.session.get(Application, app_id)
    assert application is not None and application.paid_at is None


def test_reloading_a_guest_file_upload_registers_nobody_twice(city: Flask) -> None:
    """The issue's case: a hotel reloaded the page after uploading its guest file."""
    from tests.factories import hotel_in_zone_a
    from ztl.applications import hotel_guests

    hotel = hotel_in_zone_a(accommodation=True)
    user = make_user("resident", "reception@esempio.it", codice_fiscale=DEMO_RESIDENT)
    booklet = hotel_guests.buy_booklet(user, hotel)
    hotel_guests.pay_booklet(booklet.id, user)
    client = city.test_client()
    assert login(client, "reception@esempio.it", PASSWORD).status_code == 302
    arrival = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat(timespec="minutes")
    guests = (car_plate(5_000_001), car_plate(5_000_002))  # registered cars of the demo city
    content = f"targa,arrivo,giorni\n{guests[0]},{arrival},2\n{guests[1]},{arrival},1\n".encode()

    def upload(key: str) -> Any:
        from tests.conftest import csrf_token

        return client.post(
            "/area-personale/albergo/ospiti/file",
            data={
                "csrf_token": csrf_token(client, "/area-personale/albergo"),
                "idempotency_key": key,
                "batch-hotel": hotel,
                "batch-file": (io.BytesIO(content), "ospiti.csv"),
            },
            content_type="multipart/form-data",
        )

    def used() -> int:
        db.session.expire_all()
        found = db.session.get(HotelBooklet, booklet.id)
        assert found is not None
        return found.used

    first = upload("chiave-del-primo-invio-0001")
    assert first.status_code == 303
    report_page = first.headers["Location"]
    assert used() == 2
    shown = client.get(report_page).get_data(as_text=True)
    assert shown.count("registrato: permesso") == 2
    # Reloading the report is a GET: it shows the report again and registers nobody.
    assert client.get(report_page).get_data(as_text=True).count("registrato: permesso") == 2
    # The browser resubmits the form (same key): sent to the same report, nothing done.
    again = upload("chiave-del-primo-invio-0001")
    assert again.status_code == 303 and again.headers["Location"] == report_page
    assert used() == 2
    # The same file chosen and sent again (a new form, a new key): each guest is refused by name.
    second = upload("chiave-del-secondo-invio-02")
    assert second.status_code == 303
    refused = client.get(second.headers["Location"]).get_data(as_text=True)
    # In the page's language, from the error catalogue (never the service's English text).
    assert refused.count("Questa targa è già registrata dall&#39;albergo") == 2
    assert "already registered" not in refused
    assert used() == 2
    # A guest registered too late is refused with the rule's own sentence, in Italian.
    late = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=50)).isoformat(timespec="minutes")
    content = f"{car_plate(5_000_003)},{late},1\n".encode()
    third = upload("chiave-del-terzo-invio-0003")
    assert third.status_code == 303
    shown = client.get(third.headers["Location"]).get_data(as_text=True)
    assert (
        "non registrato: Registrazione non ammessa. "
        "Registrazione oltre 48 ore dal transito: non più ammessa."
    ) in shown
    assert "retroactive_window" not in shown
    assert used() == 2


def test_the_instance_database_and_uploads_are_created_owner_only(tmp_path: Path) -> None:
    """On a fresh instance: the folder 0700, the SQLite database (and its WAL) 0600, an uploaded
    document 0600 in a 0700 folder, whatever the process's umask lets others read."""
    import os
    import stat

    from flask_migrate import upgrade

    from ztl.infrastructure.uploads import _write

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    instance = tmp_path / "instance"
    database = instance / "ztl.sqlite3"
    previous = os.umask(0o022)  # the usual umask: without care, files are world-readable
    try:
        app = make_app(f"sqlite:///{database}", instance)
        with app.app_context():
            upgrade()
            make_user("resident", "permessi@esempio.it", codice_fiscale=CF_MARIO)
            stored, _name = _write(b"%PDF-1.4 identity document")
            wal_mode = mode(database.with_name(database.name + "-wal"))  # exists while connected
            db.engine.dispose()
    finally:
        os.umask(previous)

    assert mode(instance) == 0o700
    assert mode(database) == 0o600
    assert wal_mode == 0o600
    assert mode(stored) == 0o600 and mode(stored.parent) == 0o700


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("http://localhost/area-personale/albergo?x=1", "/area-personale/albergo?x=1"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("javascript:alert(1)", "/"),
        (None, "/"),
    ],
)
def test_a_repeat_is_sent_back_only_to_a_page_of_this_site(
    app: Flask, referrer: str | None, expected: str
) -> None:
    """Where a twin of a failed submission is sent: the form's page, never another host."""
    from ztl.web.idempotency import page_sent_from

    headers = {"Referer": referrer} if referrer else {}
    with app.test_request_context("/area-personale/albergo/ospiti", headers=headers):
        assert page_sent_from() == expected
