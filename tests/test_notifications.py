"""E-mail to applicants through a real SMTP server (aiosmtpd on 127.0.0.1), the outbox folder in
development, the expiry reminders (each once) and the daily expiry job with its commands."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import logging
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import apply_online, post_form, sign_in
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, make_permit, make_user
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.city.rules_config import EXTENSION_KEY, current_rules
from ztl.config import ConfigurationError, build_settings
from ztl.eligibility.service import PlateInput, assess_application
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.mail.notifications import (
    expire_permits,
    notify_application_submitted,
    notify_decision,
    notify_documents_requested,
    notify_permit_issued,
    reminder_kind,
    send_expiry_reminders,
)
from ztl.models import Application, ApplicationPlate, Category, Event, Notification, Permit, User
from ztl.permits.from_applications import approve_application
from ztl.permits.issuance import IssueResult
from ztl.values import display

SMTP_USER = "ztl-relay"
SMTP_PASSWORD = "relay-password-never-logged"


@dataclass
class Received:
    """One message as the SMTP server got it."""

    recipients: list[str]
    message: EmailMessage


@dataclass
class Collector:
    """aiosmtpd handler keeping every message it accepts."""

    messages: list[Received] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(Received(list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # the server answers 235 or 535


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Collector]:
    """A real SMTP server on a free local port, with the app configured to use it."""
    collector = Collector()
    controller = Controller(
        collector,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=_check_login,
        auth_require_tls=False,
    )
    controller.start()
    collector.port = controller.port
    monkeypatch.setitem(app.config, "ZTL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "ZTL_SMTP_PORT", controller.port)
    monkeypatch.setitem(app.config, "ZTL_SMTP_STARTTLS", False)
    monkeypatch.setitem(app.config, "ZTL_SMTP_USER", None)
    monkeypatch.setitem(app.config, "ZTL_SMTP_PASSWORD", None)
    try:
        yield collector
    finally:
        controller.stop()


@pytest.fixture
def service_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """The service's logger, enabled again: the migrations' logging.fileConfig (run by the session's
    `upgrade()`) disables every logger that existed before it."""
    monkeypatch.setattr(logging.getLogger("ztl.mail.notifications"), "disabled", False)


@pytest.fixture
def dead_smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """An SMTP host whose port nobody listens on."""
    monkeypatch.setitem(app.config, "ZTL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "ZTL_SMTP_PORT", _free_port())


def _holder(language: str = "it", email_address: str | None = None) -> User:
    user = make_user("resident", email=email_address or f"holder-{language}@example.test")
    user.full_name = "Maria Rossi" if language == "it" else "Mary Ross"
    user.language = language
    db.session.commit()
    return user


def _application(
    user: User | None, status: str = "submitted", category_code: str = "1"
) -> Application:
    category = db.session.scalars(select(Category).where(Category.code == category_code)).one()
    application = Application(
        applicant_id=DEMO_RESIDENT,
        category=category,
        status=status,
        user_id=user.id if user else None,
        submitted_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
        plates=[ApplicationPlate(plate=DEMO_OWN_CAR)],
    )
    db.session.add(application)
    db.session.commit()
    return application


def _issued(user: User) -> IssueResult:
    application = _application(user)
    assess_application(application.id, Actor.cli())
    return approve_application(application.id, Actor(label="clerk"), reason="all checks pass")


def _notifications() -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # SMTP lines end in CRLF


# --- application messages ----------------------------------------------------------------------


def test_submission_is_confirmed_in_italian_over_smtp(city: Flask, smtp: Collector) -> None:
    user = _holder("it")
    application = _application(user)
    notify_application_submitted(application.id)
    [received] = smtp.messages
    assert received.recipients == [user.email]
    message = received.message
    assert message["To"] == user.email
    assert message["From"] == "permessi-ztl@comune.example"
    assert message["Subject"] == f"Domanda di permesso ZTL n. {application.id} ricevuta"
    body = _body(message)
    assert body.startswith("Gentile Maria Rossi,")
    assert "ricevuta il 02/03/2026." in body and "Distinti saluti" in body
    [row] = _notifications()
    assert (row.kind, row.recipient, row.language) == ("application_submitted", user.email, "it")
    assert row.application_id == application.id and row.permit_id is None
    assert row.sent_at is not None and row.error is None


def test_the_rules_files_municipality_signs_and_dates_the_message(
    city: Flask, smtp: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another city's rules: its name under the message, its wall clock for the dates."""
    elsewhere = dataclasses.replace(
        current_rules(city), name="Comune di Altrove", timezone="Pacific/Honolulu", office=None
    )
    monkeypatch.setitem(city.extensions, EXTENSION_KEY, elsewhere)
    application = _application(_holder("it"))  # submitted on 2 March 2026 at 09:30 UTC
    notify_application_submitted(application.id)
    body = _body(smtp.messages[0].message)
    assert "ricevuta il 01/03/2026." in body  # 23:30 of the day before in Honolulu
    assert "Ufficio Permessi ZTL\nComune di Altrove\n" in body and "Prato" not in body


def test_an_english_user_gets_english(city: Flask, smtp: Collector) -> None:
    user = _holder("en")
    application = _application(user)
    notify_application_submitted(application.id)
    notify_documents_requested(application.id, "Copia del libretto di circolazione.")
    first, second = (r.message for r in smtp.messages)
    assert first["Subject"] == f"ZTL permit application no. {application.id} received"
    assert _body(first).startswith("Dear Mary Ross,")
    assert "received on 02/03/2026." in _body(first) and "Gentile" not in _body(first)
    assert second["Subject"] == f"ZTL permit application no. {application.id}: documents requested"
    # The clerk's words are passed on as written.
    assert "Copia del libretto di circolazione." in _body(second)
    assert "upload the documents" in _body(second)
    assert [n.language for n in _notifications()] == ["en", "en"]


def test_rejection_gives_the_reason(city: Flask, smtp: Collector) -> None:
    user = _holder("it")
    application = _application(user, status="rejected")
    application.decision_reason = "Il veicolo non risulta intestato al richiedente."
    db.session.commit()
    notify_decision(application.id)
    [received] = smtp.messages
    assert received.message["Subject"] == f"Domanda di permesso ZTL n. {application.id} respinta"
    body = _body(received.message)
    assert "Motivazione:\nIl veicolo non risulta intestato al richiedente." in body
    assert "ricorso" in body
    assert _notifications()[0].kind == "application_rejected"


def test_a_decision_still_pending_sends_nothing(city: Flask, smtp: Collector) -> None:
    notify_decision(_application(_holder("it"), status="under_review").id)
    assert smtp.messages == [] and _notifications() == []


def test_without_an_account_nothing_is_sent_or_recorded(city: Flask, smtp: Collector) -> None:
    application = _application(None)
    notify_application_submitted(application.id)
    notify_decision(application.id)
    notify_application_submitted(999_999)  # no such application: logged, not raised
    assert smtp.messages == [] and _notifications() == []


def test_smtp_login_with_the_configured_account(
    city: Flask,
    smtp: Collector,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    service_log: None,
) -> None:
    application = _application(_holder("it"))
    monkeypatch.setitem(city.config, "ZTL_SMTP_USER", SMTP_USER)
    monkeypatch.setitem(city.config, "ZTL_SMTP_PASSWORD", SMTP_PASSWORD)
    notify_application_submitted(application.id)
    assert len(smtp.messages) == 1
    monkeypatch.setitem(city.config, "ZTL_SMTP_PASSWORD", SMTP_PASSWORD + "-wrong")
    with caplog.at_level(logging.DEBUG):
        notify_application_submitted(application.id)
    assert len(smtp.messages) == 1
    failed = _notifications()[-1]
    assert failed.sent_at is None and failed.error and "Authentication" in failed.error
    assert "not sent" in caplog.text
    assert SMTP_PASSWORD not in caplog.text and SMTP_PASSWORD not in failed.error


# --- the permit and its PDF --------------------------------------------------------------------


def test_issued_permit_arrives_with_its_signed_pdf_once(city: Flask, smtp: Collector) -> None:
    user = _holder("en")
    result = _issued(user)
    permit = db.session.get(Permit, result.permit_id)
    assert permit is not None and permit.application_id is not None
    notify_decision(permit.application_id)
    notify_permit_issued(result.permit_id)
    notify_permit_issued(result.permit_id)  # a retried issuance: no second message
    approved, issued = (r.message for r in smtp.messages)
    assert approved["Subject"].endswith("approved")
    assert issued["Subject"] == f"ZTL permit no. {result.number} issued"
    assert DEMO_OWN_CAR in _body(issued) and "inclusive" in _body(issued)
    [attachment] = list(issued.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{result.number}.pdf"
    stored = db.session.get(Permit, result.permit_id)
    assert stored is not None and attachment.get_content() == stored.pdf
    kinds = [(n.kind, n.permit_id) for n in _notifications()]
    assert kinds == [("application_approved", None), ("permit_issued", result.permit_id)]


def test_a_failing_smtp_server_is_recorded_not_raised(
    city: Flask, dead_smtp: None, caplog: pytest.LogCaptureFixture, service_log: None
) -> None:
    user = _holder("it")
    result = _issued(user)
    with caplog.at_level(logging.WARNING):
        notify_permit_issued(result.permit_id)  # must not raise
    [row] = _notifications()
    assert row.kind == "permit_issued" and row.sent_at is None
    assert row.error and "ConnectionRefusedError" in row.error
    assert "not sent" in caplog.text and "%PDF" not in caplog.text


def test_development_writes_eml_files_to_the_outbox(
    city: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox"
    monkeypatch.setitem(city.config, "ZTL_SMTP_HOST", None)
    monkeypatch.setitem(city.config, "ZTL_MAIL_OUTBOX", str(outbox))
    result = _issued(_holder("it"))
    notify_permit_issued(result.permit_id)
    [path] = list(outbox.glob("*.eml"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == f"Permesso ZTL n. {result.number} emesso"
    assert message["To"] == "holder-it@example.test"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == result.pdf
    assert _notifications()[0].sent_at is not None


# --- expiry reminders -------------------------------------------------------------------------


def test_reminder_kind_takes_the_most_urgent_threshold_reached() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=365)
    assert reminder_kind(start, end, end - dt.timedelta(days=61)) is None
    assert reminder_kind(start, end, end - dt.timedelta(days=60)) == "expiry_60"
    assert reminder_kind(start, end, end - dt.timedelta(days=30)) == "expiry_30"
    assert reminder_kind(start, end, end - dt.timedelta(days=3)) == "expiry_7"
    assert reminder_kind(start, end, end) is None
    # A day permit is not "expiring in 7 days" the moment it is issued.
    assert reminder_kind(end - dt.timedelta(days=1), end, end - dt.timedelta(hours=5)) is None


def test_reminders_are_sent_once_per_threshold(city: Flask, smtp: Collector) -> None:
    user = _holder("it")
    result = _issued(user)
    end = result.valid_to
    first = send_expiry_reminders(end - dt.timedelta(days=45))
    again = send_expiry_reminders(end - dt.timedelta(days=44))
    assert first.sent == (("expiry_60", result.number),) and first.failed == ()
    assert again.sent == () and again.already_sent == 1
    assert len(send_expiry_reminders(end - dt.timedelta(days=20)).sent) == 1
    assert len(send_expiry_reminders(end - dt.timedelta(days=2)).sent) == 1
    assert send_expiry_reminders(end - dt.timedelta(days=1)).sent == ()
    assert len(smtp.messages) == 3
    subjects = {r.message["Subject"] for r in smtp.messages}
    last = display.date_text(display.last_day(end, "Europe/Rome"))
    assert subjects == {f"Permesso ZTL n. {result.number} valido fino al {last} compreso"}
    assert all(r.recipients == [user.email] for r in smtp.messages)
    kinds = [n.kind for n in _notifications() if n.kind.startswith("expiry")]
    assert kinds == ["expiry_60", "expiry_30", "expiry_7"]


def test_a_failed_reminder_is_recorded_and_sent_by_the_next_run(
    city: Flask, smtp: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _issued(_holder("en"))
    now = result.valid_to - dt.timedelta(days=5)
    monkeypatch.setitem(city.config, "ZTL_SMTP_PORT", _free_port())  # nobody listening
    failed = send_expiry_reminders(now)
    assert failed.sent == () and failed.failed == (("expiry_7", result.number),)
    [row] = _notifications()
    assert row.error and row.sent_at is None
    monkeypatch.setitem(city.config, "ZTL_SMTP_PORT", smtp.port)  # the server is back
    retried = send_expiry_reminders(now)
    assert retried.sent == (("expiry_7", result.number),)
    assert send_expiry_reminders(now).sent == ()
    [row] = _notifications()
    assert row.sent_at is not None and row.error is None
    [received] = smtp.messages
    last = display.date_text(display.last_day(result.valid_to, "Europe/Rome"))
    assert (
        received.message["Subject"]
        == f"ZTL permit no. {result.number} valid until {last} inclusive"
    )


def test_inactive_permits_and_permits_without_account_get_no_reminder(
    city: Flask, smtp: Collector
) -> None:
    result = _issued(_holder("it"))
    permit = db.session.get(Permit, result.permit_id)
    assert permit is not None
    permit.status = "revoked"
    db.session.commit()
    assert send_expiry_reminders(result.valid_to - dt.timedelta(days=3)).sent == ()
    permit.status = "active"
    permit.holder_user_id = None
    db.session.commit()
    assert send_expiry_reminders(result.valid_to - dt.timedelta(days=3)).sent == ()
    assert smtp.messages == [] and _notifications() == []


def test_a_permit_issued_at_the_counter_reminds_its_holder_not_the_clerk(
    city: Flask, smtp: Collector
) -> None:
    """At the counter the application is the clerk's; the permit's messages go to the person it
    names (their resident account), never to the clerk who typed it in."""
    holder = db.session.scalars(
        select(User).where(User.codice_fiscale == DEMO_RESIDENT, User.role == "resident")
    ).one()  # the demo resident's account
    clerk = make_user("clerk", email="sportello@comune.example.org")
    result = issue_at_counter(
        CounterRequest(
            category="1", applicant_id=DEMO_RESIDENT, plates=(PlateInput(DEMO_OWN_CAR),)
        ),
        Actor.of_user(clerk),
    )
    permit = db.session.get(Permit, result.permit_id)
    assert permit is not None and permit.holder_user_id == holder.id
    assert send_expiry_reminders(result.valid_to - dt.timedelta(days=3)).sent
    assert [r.recipients for r in smtp.messages] == [[holder.email]]


# --- expiry ----------------------------------------------------------------------------------


def test_expire_permits_changes_only_what_is_due(city: Flask) -> None:
    start = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    make_permit("G/A", "AA111AA", DEMO_RESIDENT, 1, valid_from=start)  # ends 26 Nov 10:00
    make_permit("G/A", "BB222BB", DEMO_RESIDENT, 2, valid_from=start + dt.timedelta(days=1))
    make_permit("G/A", "CC333CC", DEMO_RESIDENT, 3, valid_from=start)
    revoked = db.session.scalars(select(Permit).where(Permit.serial == 3)).one()
    revoked.status = "revoked"
    db.session.commit()
    now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    assert expire_permits(now) == 1
    assert expire_permits(now) == 0
    db.session.expire_all()
    statuses = dict(db.session.execute(select(Permit.serial, Permit.status)).all())
    assert statuses == {1: "expired", 2: "active", 3: "revoked"}
    expired = db.session.scalars(select(Permit).where(Permit.serial == 1)).one()
    assert expired.ended_at == expired.valid_to
    events = db.session.scalars(select(Event).where(Event.action == "expired")).all()
    assert [(e.subject_type, e.subject_id, e.data["number"]) for e in events] == [
        ("permit", str(expired.id), "PO-2026-000001")
    ]


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        expire_permits(dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        send_expiry_reminders(dt.datetime(2026, 1, 1))


# --- the daily commands ----------------------------------------------------------------------


def test_expire_command(city: Flask, runner: Any) -> None:
    make_permit("G/A", "AA111AA", DEMO_RESIDENT, 1)
    refused = runner.invoke(args=["permits", "expire", "--at", "2026-01-01T10:00"])
    assert refused.exit_code == 2 and "offset" in refused.output
    early = runner.invoke(args=["permits", "expire", "--at", "2026-11-26T09:59Z"])
    assert early.exit_code == 0 and early.output.strip() == "0 permits expired"
    due = runner.invoke(args=["permits", "expire", "--at", "2026-11-26T12:00+01:00"])
    assert due.exit_code == 0 and due.output.strip() == "1 permits expired"


def test_remind_command(
    city: Flask, runner: Any, smtp: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _issued(_holder("it"))
    at = (result.valid_to - dt.timedelta(days=10)).isoformat()
    assert runner.invoke(args=["permits", "remind", "--at", at[:16]]).exit_code == 2
    done = runner.invoke(args=["permits", "remind", "--at", at])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "1 expiry reminders sent, 0 failed, 0 already sent"
    repeated = runner.invoke(args=["permits", "remind", "--at", at])
    assert repeated.output.strip() == "0 expiry reminders sent, 0 failed, 1 already sent"
    monkeypatch.setitem(city.config, "ZTL_SMTP_PORT", _free_port())
    later = (result.valid_to - dt.timedelta(days=3)).isoformat()
    failing = runner.invoke(args=["permits", "remind", "--at", later])
    assert failing.exit_code == 1 and result.number in failing.output
    assert len(smtp.messages) == 1


# --- the office's contact, the page's link, the appeal ---------------------------------------

PORTAL = "https://permessi.comune.prato.example"
PRATO_CONTACT = (
    "Contatti dell'ufficio:\n"
    "Ufficio Permessi ZTL, Polizia Municipale\n"
    "Piazza del Comune 2, 59100 Prato\n"
    "Telefono: 0574 183 0000\n"
    "E-mail: permessi.ztl@comune.prato.example\n"
    "PEC: comune.prato@pec.prato.example\n"
)
PRATO_APPEAL = (
    "Contro la decisione è possibile presentare ricorso al giudice amministrativo (TAR Toscana) "
    "entro 60 giorni dalla comunicazione, oppure ricorso straordinario al Presidente della "
    "Repubblica entro 120 giorni."
)
OFFICE_WILL_EXAMINE = "L'Ufficio Permessi la esaminerà"


@pytest.fixture
def portal(city: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    """The portal's public address the e-mails link to (ZTL_PUBLIC_URL)."""
    monkeypatch.setitem(city.config, "ZTL_PUBLIC_URL", PORTAL + "/")
    return PORTAL


def test_every_message_gives_the_office_and_a_link_to_its_page(
    city: Flask, smtp: Collector, portal: str
) -> None:
    user = _holder("it")
    waiting = _application(user, status="under_review", category_code="15")
    notify_application_submitted(waiting.id)
    notify_documents_requested(waiting.id, "Copia del contratto di locazione.")
    result = _issued(user)
    permit = db.session.get(Permit, result.permit_id)
    assert permit is not None and permit.application_id is not None
    notify_decision(permit.application_id)
    notify_permit_issued(result.permit_id)
    send_expiry_reminders(permit.valid_to - dt.timedelta(days=5))
    bodies = [_body(r.message) for r in smtp.messages]
    assert len(bodies) == 5
    links = [
        f"{portal}/area-personale/domande/{waiting.id}",
        f"{portal}/area-personale/domande/{waiting.id}",
        f"{portal}/area-personale/domande/{permit.application_id}",
        f"{portal}/area-personale/permessi/{result.number}",
        f"{portal}/area-personale/permessi/{result.number}",
    ]
    for body, link in zip(bodies, links, strict=True):
        assert f"Pagina sul portale: {link}\n\nDistinti saluti\n" in body, body
        assert "Ufficio Permessi ZTL\nComune di Prato\n\n" + PRATO_CONTACT in body, body


def test_a_rejection_says_where_and_by_when_to_appeal(
    city: Flask, smtp: Collector, portal: str
) -> None:
    application = _application(_holder("it"), status="rejected", category_code="15")
    application.decision_reason = "Il contratto di locazione è scaduto."
    db.session.commit()
    notify_decision(application.id)
    body = _body(smtp.messages[0].message)
    assert (
        "Per chiarimenti può rivolgersi all'Ufficio Permessi: i contatti sono in fondo a questo "
        "messaggio.\n\n" + PRATO_APPEAL + "\n\n"
        f"Pagina sul portale: {portal}/area-personale/domande/{application.id}\n"
    ) in body


def test_without_office_or_portal_address_the_message_says_the_statutory_appeal(
    city: Flask, smtp: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city whose rules file has no [office], and no ZTL_PUBLIC_URL (production's default):
    no contact block and no link, and the appeal terms the law gives."""
    monkeypatch.setitem(
        city.extensions, EXTENSION_KEY, dataclasses.replace(current_rules(city), office=None)
    )
    monkeypatch.setitem(city.config, "ZTL_PUBLIC_URL", None)
    application = _application(_holder("it"), status="rejected")
    notify_decision(application.id)
    body = _body(smtp.messages[0].message)
    assert (
        "Contro la decisione è possibile presentare ricorso al giudice amministrativo "
        "(Tribunale amministrativo regionale competente) entro 60 giorni dalla comunicazione, "
        "oppure ricorso straordinario al Presidente della Repubblica entro 120 giorni."
    ) in body
    assert "Contatti dell'ufficio" not in body and "Pagina sul portale" not in body
    assert body.endswith(
        "Distinti saluti\nUfficio Permessi ZTL\nComune di Prato\n\nQuesto messaggio è stato "
        "inviato automaticamente: La preghiamo di non rispondere a questo indirizzo.\n"
    )


def test_the_receipt_of_an_application_issued_at_once_does_not_promise_an_examination(
    city: Flask, smtp: Collector
) -> None:
    issued = _application(_holder("it"), status="issued")
    notify_application_submitted(issued.id)
    body = _body(smtp.messages[0].message)
    assert (
        "La domanda ha superato i controlli e il permesso è stato emesso: Le arriva, firmato "
        "digitalmente, con un messaggio separato, e può scaricarlo dalla Sua area personale del "
        "portale."
    ) in body
    assert OFFICE_WILL_EXAMINE not in body and "pagare" not in body


@pytest.mark.parametrize(
    ("status", "category", "expected"),
    [
        (
            "under_review",
            "15",
            "L'Ufficio Permessi la esaminerà e Le comunicherà l'esito con un messaggio di posta "
            "elettronica. Può seguire lo stato della domanda nella Sua area personale del portale. "
            "L'ufficio decide entro 30 giorni dalla domanda completa e pagata.",
        ),
        (
            "submitted",
            "15",
            "Per proseguire occorre pagare l'avviso pagoPA emesso per la domanda: lo trova, con "
            "l'importo, nella Sua area personale del portale.\n\nDopo il pagamento l'Ufficio "
            "Permessi esaminerà la domanda e Le comunicherà l'esito con un messaggio di posta "
            "elettronica. L'ufficio decide entro 30 giorni dalla domanda completa e pagata.",
        ),
        (
            "submitted",
            "1",
            "Per proseguire occorre pagare l'avviso pagoPA emesso per la domanda: lo trova, con "
            "l'importo, nella Sua area personale del portale.\n\nAppena il pagamento è registrato, "
            "se i controlli sono superati, il permesso è emesso e Le viene inviato; altrimenti la "
            "domanda passa all'Ufficio Permessi, che Le comunicherà l'esito.",
        ),
        (
            "approved",
            "1",
            "La domanda è stata accolta: il permesso, firmato digitalmente, Le sarà inviato con "
            "un messaggio separato non appena emesso.",
        ),
    ],
)
def test_the_receipt_says_what_comes_next(
    city: Flask, smtp: Collector, status: str, category: str, expected: str
) -> None:
    application = _application(_holder("it"), status=status, category_code=category)
    notify_application_submitted(application.id)
    body = _body(smtp.messages[0].message)
    assert f"è stata ricevuta il 02/03/2026.\n\n{expected}\n\n" in body, body


def test_the_receipt_of_a_real_submission_follows_what_happened(
    city: Flask, client: FlaskClient, smtp: Collector
) -> None:
    """Submitted through the resident's pages: a residents' permit (decided automatically) owes
    its fee first, so the receipt asks for the payment and promises no clerk's examination."""
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    application_id = apply_online(client)
    page = f"/area-personale/domande/{application_id}"
    assert post_form(client, f"{page}/invia", page).status_code == 303
    [received] = smtp.messages
    body = _body(received.message)
    assert received.message["Subject"] == f"Domanda di permesso ZTL n. {application_id} ricevuta"
    assert "Per proseguire occorre pagare l'avviso pagoPA" in body
    assert "Appena il pagamento è registrato, se i controlli sono superati" in body
    assert OFFICE_WILL_EXAMINE not in body


def test_a_public_url_that_is_no_address_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ZTL_PUBLIC_URL must be the portal's address"):
        build_settings(tmp_path, {"SECRET_KEY": "x", "ZTL_PUBLIC_URL": "permessi.example"})
    settings = build_settings(tmp_path, {"SECRET_KEY": "x", "ZTL_PUBLIC_URL": PORTAL})
    assert settings["ZTL_PUBLIC_URL"] == PORTAL
