"""One municipality identity everywhere: a city running its own rules file is never called Prato.

The app is built on `esempio.toml` (Comune di Esempio, code IT-XX) with data of every kind: a user
of each role, applications in the states that write to the applicant, two permits issued with their
signed PDFs, keys made by `ztl keys init`. Then every GET route of the url_map is rendered for every
role in both languages (URL parameters filled with the ids of that data), every e-mail the
notifications send is read back from the outbox, the permits' PDF text, seals and the certificates'
subjects are read: none may name Prato, and the pages and e-mails must name Comune di Esempio.
Before the identity came from the rules file, the page header alone made this fail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import io
import itertools
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from flask import Flask, url_for
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import select

from tests.conftest import _empty_all_tables, csrf_token, login, make_app, pdf_text
from tests.factories import CF_MARIO, PASSWORD, make_user
from ztl import PROJECT_ROOT
from ztl.applications import applicant as applications
from ztl.applications import decisions, documents
from ztl.city.rules_config import current_rules
from ztl.demo.loader import load_city_configuration
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.mail.notifications import send_expiry_reminders
from ztl.models import Document, Notification, Permit, User
from ztl.models.enums import Role
from ztl.permissions import HOME_ENDPOINT
from ztl.registries.importer import import_registry
from ztl.rules.loader import DEFAULT_RULES
from ztl.seals.verification import verify_on_server

ESEMPIO = DEFAULT_RULES.parent / "esempio.toml"
NAME, CODE = "Comune di Esempio", "IT-XX"
FORBIDDEN = "Prato"
PLATES = ("AB123CD", "EF456GH", "LM789NP")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"  # an uploaded document
MISSING_PAGE = "/pagina-che-non-esiste"
TEXT_TYPES = ("application/json", "application/javascript", "application/problem+json")

REGISTERS = {
    "streets": "street,from_number,to_number,parity,zone\nVia dei Mille,1,99,all,A\n",
    "residents": (
        "codice_fiscale,family_name,given_name,birth_date,street,house_number,household_id,"
        f"registered_since,status\n{CF_MARIO},Rossi,Mario,1985-12-10,Via dei Mille,10,F1,"
        "2010-01-01,resident\n"
    ),
    "vehicles": "plate,category,fuel,euro_class,mass_kg,owner_id,holder_id,usage,status\n"
    + "".join(f"{plate},M1,petrol,6,1200,{CF_MARIO},,owned,active\n" for plate in PLATES),
}


@dataclasses.dataclass(frozen=True)
class City:
    """What the URL parameters are filled with."""

    applications: tuple[int, ...]
    documents: tuple[int, ...]
    permits: tuple[str, ...]


@pytest.fixture
def esempio(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on the example city's rules, its own keys and outbox; every table emptied after."""
    app = make_app(
        database_url,
        tmp_path / "instance",
        ZTL_RULES_FILE=str(ESEMPIO),
        ZTL_KEYS_DIR=str(tmp_path / "keys"),
        ZTL_MAIL_OUTBOX=str(tmp_path / "outbox"),
        ZTL_SMTP_HOST=None,
    )
    with app.app_context():
        upgrade()
        try:
            yield app
        finally:
            db.session.rollback()
            _empty_all_tables()
            db.session.remove()
            db.engine.dispose()


def _waiting(user: User, plate: str, category: str, document: bool = False) -> int:
    """Drafted, (documented,) submitted and paid, as a resident does it."""
    data = applications.ApplicationInput(category=category, applicant_id="", plates=(plate,))
    application_id = applications.create_draft(user, data)
    if document:
        documents.attach_document(application_id, user, "lease_or_deed", "contratto.pdf", PDF)
    applications.submit_application(application_id, user)
    applications.pay_own_application(application_id, user)
    return application_id


def _set_language(user_id: int, language: str) -> User:
    """The language the user's e-mails are written in (both must be checked)."""
    user = db.session.get(User, user_id)
    assert user is not None
    user.language = language
    db.session.commit()
    return user


def _build_city(app: Flask) -> City:
    """Registers, users, applications in every state that mails, permits, e-mail reminders."""
    result = app.test_cli_runner().invoke(args=["keys", "init"])
    assert result.exit_code == 0 and NAME in result.output, result.output
    load_city_configuration()  # zones and categories of the rules in force: the example city's
    for kind, text in REGISTERS.items():
        imported = import_registry(kind, io.StringIO(text), actor=Actor("test"))
        assert imported.rows_rejected == 0, (kind, imported)
    clerk = make_user("clerk", "clerk@esempio.example")
    for role in (Role.SUPERVISOR, Role.POLICE, Role.ADMIN):
        make_user(role.value, f"{role.value}@esempio.example")
    resident = make_user("resident", "mario@posta.example", codice_fiscale=CF_MARIO)
    resident_id = resident.id
    _set_language(resident_id, "it")
    issued = _waiting(resident, PLATES[0], "1")  # decided automatically: issued on payment
    resident = _set_language(resident_id, "en")
    approved = _waiting(resident, PLATES[1], "15", document=True)
    decisions.request_documents(approved, Actor.of_user(clerk), "Il contratto firmato, per favore.")
    documents.attach_document(approved, resident, "lease_or_deed", "firmato.pdf", PDF)
    decisions.approve(approved, Actor.of_user(clerk))
    rejected = _waiting(resident, PLATES[2], "15", document=True)
    decisions.reject(rejected, Actor.of_user(clerk), "Il contratto non è registrato.")
    waiting = _waiting(resident, PLATES[2], "15", document=True)
    draft = applications.create_draft(
        resident, applications.ApplicationInput(category="15", applicant_id="", plates=(PLATES[2],))
    )
    _set_language(resident_id, "it")
    permits = list(db.session.scalars(select(Permit).order_by(Permit.id)))
    assert [p.application_id for p in permits] == [issued, approved]
    send_expiry_reminders(min(p.valid_to for p in permits) - dt.timedelta(days=3))
    return City(
        applications=(issued, approved, rejected, waiting, draft),
        documents=tuple(db.session.scalars(select(Document.id).order_by(Document.id))),
        permits=tuple(p.number for p in permits),
    )


# --- checking what a reader gets ---------------------------------------------------------------


def _problems(where: str, text: str, *, must_name: bool) -> list[str]:
    found = []
    if FORBIDDEN in text:
        at = text.index(FORBIDDEN)
        found.append(f"{where}: says {text[max(0, at - 60) : at + 40]!r}")
    if must_name and NAME not in text:
        found.append(f"{where}: does not name {NAME}")
    return found


def _urls(app: Flask, city: City) -> list[str]:
    """Every GET route, each parameter filled with every value of its kind."""
    values: dict[str, tuple[Any, ...]] = {
        "application_id": city.applications,
        "document_id": city.documents,
        "number": city.permits,
        "code": tuple(c.code for c in current_rules(app).categories),
        "plate": PLATES,
        "key": ("nessuna-ricevuta",),  # a form's report that was never made: a 404 page
        "delegation_id": (1,),  # none is asked for in this city: a 404 page (for the office)
        "name": ("spid",),  # no identity provider is configured here: a 404 page
        "user_id": (999_999,),  # no such account: a deactivation's confirmation is a 404 page
        "booklet_id": (999_999,),  # no booklet in this city: its notice is a 404 page
        "refund_id": (999_999,),  # no refund owed: its confirmation is a 404 page
        "transit_id": (999_999,),  # no violation in this city: its page is a 404 page
    }
    urls = [MISSING_PAGE, "/polizia/targa?plate=AB123CD&zone="]
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
                continue
            names = sorted(rule.arguments)
            unknown = [n for n in names if n not in values]
            assert not unknown, f"{rule.rule}: give this test values for {unknown}"
            for combination in itertools.product(*(values[n] for n in names)):
                urls.append(url_for(rule.endpoint, **dict(zip(names, combination, strict=True))))
    return urls


def _client(app: Flask, role: str | None, language: str) -> FlaskClient:
    client = app.test_client()
    if role is not None:
        email_address = "mario@posta.example" if role == "resident" else f"{role}@esempio.example"
        assert login(client, email_address, PASSWORD).status_code == 302, role
    token = csrf_token(client, MISSING_PAGE)
    client.post("/lingua", data={"lang": language, "next": "/", "csrf_token": token})
    return client


def _page_problems(app: Flask, city: City) -> tuple[list[str], dict[str, set[str]]]:
    """(problems, the URLs answered with 200 for each viewer: role and language)."""
    problems: list[str] = []
    rendered: dict[str, set[str]] = {}
    urls = _urls(app, city)
    for role, language in itertools.product([None, *(r.value for r in Role)], ("it", "en")):
        client = _client(app, role, language)
        viewer = f"{role or 'visitor'}/{language}"
        rendered[viewer] = set()
        for url in urls:
            response = client.get(url)
            where = f"{viewer} GET {url} ({response.status_code})"
            body, mimetype = response.get_data(), response.mimetype or ""
            if FORBIDDEN.encode() in body:
                problems.append(f"{where}: the bytes say {FORBIDDEN}")
            if mimetype == "text/html" and not 300 <= response.status_code < 400:
                problems += _problems(where, response.get_data(as_text=True), must_name=True)
            elif mimetype.startswith("text/") or mimetype in TEXT_TYPES:
                problems += _problems(where, response.get_data(as_text=True), must_name=False)
            elif mimetype == "application/pdf" and url.endswith("/pdf"):
                problems += _problems(where, pdf_text(body), must_name=True)
            if response.status_code == 200:
                rendered[viewer].add(url)
    return problems, rendered


def _outbox(app: Flask) -> list[EmailMessage]:
    folder = Path(app.config["ZTL_MAIL_OUTBOX"])
    messages = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def _mail_problems(messages: list[EmailMessage]) -> list[str]:
    problems = []
    for message in messages:
        where = f"e-mail {message['Subject']!r}"
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        problems += _problems(where, f"{message['Subject']}\n{body.get_content()}", must_name=True)
        for attachment in message.iter_attachments():
            pdf = attachment.get_content()
            problems += _problems(f"{where}, attachment", pdf_text(pdf), must_name=True)
    return problems


# --- the test ------------------------------------------------------------------------------------


def test_the_rules_files_municipality_is_the_only_one_anywhere(esempio: Flask) -> None:
    rules = current_rules(esempio)
    assert (rules.name, rules.code) == (NAME, CODE)  # the example city, not the default file
    assert esempio.config["BABEL_DEFAULT_TIMEZONE"] == rules.timezone
    assert "ZTL_MUNICIPALITY" not in esempio.config and "ZTL_TIMEZONE" not in esempio.config
    city = _build_city(esempio)

    # Every page every viewer can open, in both languages.
    problems, rendered = _page_problems(esempio, city)
    assert problems == []
    with esempio.test_request_context():  # every viewer did get its pages, with the real ids
        homes = {role.value: url_for(HOME_ENDPOINT[role]) for role in Role}
        permit_page = url_for("resident.permit", number=city.permits[0])
    for language in ("it", "en"):
        assert "/" in rendered[f"visitor/{language}"]
        for role, home in homes.items():
            assert home in rendered[f"{role}/{language}"], (role, language)
        assert permit_page in rendered[f"resident/{language}"]

    # Every e-mail the notifications send, in both languages, with the PDF attached.
    notifications = list(db.session.scalars(select(Notification)))
    assert all(n.sent_at is not None and n.error is None for n in notifications)
    templates = {
        "expiry_reminder" if n.kind.startswith("expiry_") else n.kind for n in notifications
    }
    shipped = {p.stem for p in (PROJECT_ROOT / "templates" / "email").glob("[!_]*.txt")}
    assert templates == shipped, "a message kind the test did not cause"
    assert {n.language for n in notifications} == {"it", "en"}
    messages = _outbox(esempio)
    assert len(messages) == len(notifications)
    assert _mail_problems(messages) == []

    # The permits: PDF text, metadata and signature, and the seal's issuer.
    for permit in db.session.scalars(select(Permit)):
        assert permit.pdf is not None and permit.seal_text is not None
        assert FORBIDDEN.encode() not in permit.pdf
        assert _problems(permit.number, pdf_text(permit.pdf), must_name=True) == []
        claims = verify_on_server(permit.seal_text).claims
        assert claims is not None and claims.issuer == CODE

    # The certificates `ztl keys init` made, and `ztl verify` reading a permit offline.
    certificates = sorted(Path(esempio.config["ZTL_KEYS_DIR"]).glob("*.crt"))
    assert len(certificates) == 4
    for path in certificates:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
        for name in (certificate.subject, certificate.issuer):
            assert FORBIDDEN not in name.rfc4514_string(), path.name
            organisation = name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
            assert [a.value for a in organisation] == [NAME], path.name
    runner = esempio.test_cli_runner()
    assert runner.invoke(args=["lists", "export"]).exit_code == 0
    pdf_file = Path(esempio.instance_path) / "permit.pdf"
    first = db.session.scalars(select(Permit).order_by(Permit.id)).first()
    assert first is not None and first.pdf is not None
    pdf_file.write_bytes(first.pdf)
    verified = runner.invoke(args=["verify", str(pdf_file), "--json"])
    assert verified.exit_code == 0, verified.output
    assert FORBIDDEN not in verified.output


def test_the_checks_can_fail() -> None:
    """The check above reports a text that names another city, or forgets its own."""
    assert _problems("page", "Comune di Prato", must_name=True) != []
    assert _problems("page", "Comune di Altrove", must_name=True) != []
    assert _problems("page", f"{NAME}, ZTL", must_name=True) == []
