"""Every POST route, hit by simultaneous identical requests on a real gunicorn: one effect.

Built from url_map like the CSRF and ownership matrices: each POST endpoint has an entry here,
and a new one without an entry fails `test_every_post_route_has_an_entry`. For each state-changing
entry the test prepares what the action needs (with the services, in the test's process), then
sends the same form six times at the same moment (a double tap, a retry, a reload: the same
idempotency key) from six connections to gunicorn with three worker processes, on SQLite and on
PostgreSQL. What the database holds afterwards must be what one request gives:
- no event (the audit history every state change writes) appears twice for one kind of subject
  and action, and the entry's own count (permits, applications, users...) is one;
- no answer is a server error.
For the actions that issue permits (pay, approve, plate change) the same runs again with six
different keys (two tabs, two clerks): the services and the database constraints still give one
permit. Entries that change nothing (sign-in, language, queries) must answer without a server
error and leave permits and applications untouched.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import requests
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import PAGOPA_CREDITOR, PAGOPA_NOTIFY_PASSWORD, PAGOPA_NOTIFY_USER
from tests.factories import (
    DEMO_OWN_CAR,
    DEMO_RESIDENT,
    PASSWORD,
    add_household_car,
    make_representative,
    make_user,
)
from tests.test_concurrency import daily_plates
from tests.test_second_factor import SECRET_ON_PAGE
from ztl.accounts import api_tokens as tokens
from ztl.accounts import representation, second_factor
from ztl.applications import applicant as applications
from ztl.applications import hotel_guests
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.applications.documents import attach_document
from ztl.applications.payment_receipts import SIGNATURE_HEADER, sign
from ztl.demo.generator import car_plate, codice_fiscale
from ztl.eligibility.service import EligibilityRequest, PlateInput, check_eligibility
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import (
    ApiToken,
    Application,
    BrowserSession,
    Business,
    Document,
    Event,
    FirmDelegation,
    HotelBooklet,
    Permit,
    PermitPlate,
    RegistryImport,
    Resident,
    User,
    Vehicle,
)
from ztl.rules.results import Outcome

ROOT = Path(__file__).resolve().parent.parent
TWINS = 6
WORKERS = 3
SECRET = "n" * 40
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- the server and the people using it ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def served(app: Flask, tmp: Path, **extra: Any) -> Iterator[str]:
    """gunicorn with WORKERS processes on the test's database, keys and folders."""
    config = {
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": str(tmp / "instance"),
        "ZTL_KEYS_DIR": app.config["ZTL_KEYS_DIR"],
        "ZTL_UPLOAD_DIR": app.config["ZTL_UPLOAD_DIR"],
        "ZTL_MAIL_OUTBOX": str(tmp / "outbox"),
        "ZTL_SYNC_CITY_ON_START": False,
        "ZTL_LOGIN_RATE_PER_MINUTE": 0,
        "ZTL_REGISTRATION_RATE_PER_MINUTE": 0,
        "ZTL_API_RATE_PER_MINUTE": 0,
        "ZTL_LOOKUP_FLUSH_SECONDS": 0,
        **extra,
    }
    port = _free_port()
    env = {**os.environ, "ZTL_TEST_SERVED_CONFIG": json.dumps(config)}
    log = (tmp / f"gunicorn-{port}.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--timeout",
            "120",
            "tests.served_app:app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert server.poll() is None, (tmp / f"gunicorn-{port}.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@dataclass
class Browser:
    """One person's cookies and CSRF token, as their browser holds them."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    token: str = ""

    def keep_cookies(self, response: requests.Response) -> None:
        """The cookies an answer set, kept as a browser keeps them."""
        self.cookies.update((k, v) for k, v in response.cookies.get_dict().items() if v is not None)

    def page(self, path: str) -> str:
        response = requests.get(self.base + path, cookies=self.cookies, timeout=30)
        self.keep_cookies(response)
        match = CSRF.search(response.text)
        if match:
            self.token = next(g for g in match.groups() if g)
        return response.text


def anonymous(base: str) -> Browser:
    browser = Browser(base)
    browser.page("/accedi")
    return browser


def signed_in(base: str, email: str) -> Browser:
    browser = anonymous(base)
    response = requests.post(
        base + "/accedi",
        data={"email": email, "password": PASSWORD, "csrf_token": browser.token, "next": ""},
        cookies=browser.cookies,
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, f"{email} could not sign in"
    browser.keep_cookies(response)
    browser.page("/")
    return browser


# The explicit confirmation irreversible actions ask for (ztl/web/confirmation.py).
CONFIRMED = {"confirmed": "yes"}


@dataclass(frozen=True)
class Post:
    """One request to send: path, form fields (or a JSON body with headers), files."""

    path: str
    data: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def fire(browser: Browser, post: Post, same_key: bool = True) -> list[requests.Response]:
    """TWINS copies of the request, released together; each from its own connection."""
    db.session.commit()  # the test's session holds no snapshot or lock while they run
    key = secrets.token_urlsafe(24)
    barrier = threading.Barrier(TWINS, timeout=60)
    answers: list[requests.Response | BaseException] = [RuntimeError("no answer")] * TWINS

    def send(index: int) -> None:
        data = dict(post.data)
        if post.body is None:
            data["csrf_token"] = browser.token
            data["idempotency_key"] = key if same_key else secrets.token_urlsafe(24)
        files = {name: (n, content, kind) for name, (n, content, kind) in post.files.items()}
        try:
            barrier.wait()
            answers[index] = requests.post(
                browser.base + post.path,
                data=post.body if post.body is not None else data,
                files=files or None,
                headers=post.headers,
                cookies=dict(browser.cookies),
                allow_redirects=False,
                timeout=90,
            )
        except BaseException as exc:  # judged below
            answers[index] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(TWINS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    db.session.expire_all()
    failures = [a for a in answers if isinstance(a, BaseException)]
    assert not failures, failures
    return [a for a in answers if isinstance(a, requests.Response)]


# --- the world the entries act on --------------------------------------------------------------


@dataclass
class World:
    """People and things prepared once per engine; each entry makes what it acts on."""

    base: str
    app: Flask
    serial: int = 0
    plates: list[str] = field(default_factory=list)
    residents: list[tuple[str, str]] = field(default_factory=list)  # (codice fiscale, own car)

    def resident_with_car(self) -> tuple[str, str]:
        """A demo resident not yet signed up, with a car of their own, outside the demo
        resident's household (whose permit the permit entries use)."""
        if not self.residents:
            self.residents = _residents_with_cars()
        return self.residents.pop()

    def person(self, role: str, cf: str | None = None) -> tuple[User, Browser]:
        self.serial += 1
        email = f"{role}{self.serial}@esempio.it"
        user = make_user(role, email, codice_fiscale=cf)
        db.session.commit()
        return user, signed_in(self.base, email)

    def plate(self) -> str:
        return self.plates.pop()

    def daily_draft(self, user: User) -> int:
        data = applications.ApplicationInput(
            category="G/A", applicant_id="", plates=(self.plate(),)
        )
        return applications.create_draft(user, data)

    def submitted_daily(self, user: User) -> int:
        app_id = self.daily_draft(user)
        applications.submit_application(app_id, user)
        return app_id

    def under_review(self) -> tuple[int, User]:
        """A domiciled (15) application, paid and waiting for a clerk."""
        cf, plate = self.resident_with_car()
        user = make_user("resident", f"dom{plate}@esempio.it", codice_fiscale=cf)
        app_id = applications.create_draft(
            user, applications.ApplicationInput(category="15", applicant_id="", plates=(plate,))
        )
        # The lease is not attached: sending it asks for the office's review, with a reason.
        applications.submit_application(app_id, user, review_reason="Il contratto lo porto io.")
        applications.pay_own_application(app_id, user)
        return app_id, user

    def resident_permit(self) -> tuple[User, Browser, str, str, str]:
        """A residents' permit issued at the counter, its holder signed in:
        (user, browser, permit number, holder's codice fiscale, plate)."""
        cf, plate = self.resident_with_car()
        user, browser = self.person("resident", cf)
        result = issue_at_counter(CounterRequest("1", cf, (PlateInput(plate),)), Actor.cli())
        permit = db.session.get(Permit, result.permit_id)
        assert permit is not None
        permit.holder_user_id = user.id
        db.session.commit()
        return user, browser, result.number, cf, plate

    def hotel(self, receptionist: User) -> str:
        """The demo hotel, with the receptionist among its legal representatives."""
        from tests.factories import hotel_in_zone_a

        hotel = hotel_in_zone_a(accommodation=True)
        make_representative(hotel, receptionist)
        return hotel

    def firm(self) -> str:
        """An active firm of the register: what a delegation is asked for."""
        found = db.session.scalars(
            select(Business.partita_iva)
            .where(Business.status == "active")
            .order_by(Business.partita_iva.desc())
        ).first()
        assert found is not None
        return str(found)

    def delegation(self, approved: bool = False) -> int:
        """A delegation asked by a new resident (and approved by a clerk when `approved`)."""
        self.serial += 1
        user = make_user(
            "resident",
            f"delegato{self.serial}@esempio.it",
            codice_fiscale=codice_fiscale(980 + self.serial),
        )
        upload = representation.Upload("delega.pdf", PDF)
        delegation_id = representation.request_delegation(user, self.firm(), upload, upload)
        if approved:
            clerk = make_user("clerk", f"approva{self.serial}@esempio.it")
            representation.approve_delegation(delegation_id, clerk)
        return delegation_id


def _residents_with_cars() -> list[tuple[str, str]]:
    """One car per resident whose own car passes the residents' checks, one resident per household."""
    demo_household = db.session.scalar(
        select(Resident.household_id).where(Resident.codice_fiscale == DEMO_RESIDENT)
    )
    rows = db.session.execute(
        select(Resident.household_id, Resident.codice_fiscale, Vehicle.plate)
        .join(Vehicle, Vehicle.owner_id == Resident.person_key)
        .where(
            Resident.status == "resident",
            Vehicle.status == "active",
            Resident.household_id != demo_household,
        )
        .order_by(Resident.household_id, Vehicle.plate)
    ).all()
    found: dict[str, tuple[str, str]] = {}
    now = dt.datetime.now(dt.UTC)
    for household, cf, plate in rows:
        if household in found:
            continue
        request = EligibilityRequest("1", cf, (PlateInput(plate),), now)
        if check_eligibility(request).verdict.outcome is Outcome.ELIGIBLE:
            found[household] = (cf, plate)
        if len(found) >= 12:
            break
    return list(found.values())


def _count(model: Any, *where: Any) -> int:
    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _last_event_id() -> int:
    return int(db.session.scalar(select(func.max(Event.id))) or 0)


def _new_events(after: int) -> Counter[tuple[str, str]]:
    rows = db.session.execute(
        select(Event.subject_type, Event.action).where(Event.id > after)
    ).all()
    return Counter((subject, action) for subject, action in rows)


# --- the entries -------------------------------------------------------------------------------

Check = Callable[[], int]  # the entry's own count of what one request creates: must be 1


@dataclass(frozen=True)
class Effect:
    browser: Browser
    post: Post
    check: Check


Prepare = Callable[[World], Effect]


def _new_application(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(900))
    plate = w.plate()
    post = Post("/area-personale/domande/nuova/G%2FA", {"plate_1": plate, "validity": "P1D"})
    return Effect(browser, post, lambda: _count(Application, Application.user_id == user.id))


def _edit_application(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(901))
    app_id = w.daily_draft(user)
    post = Post(
        f"/area-personale/domande/{app_id}/modifica", {"plate_1": w.plate(), "validity": "P1D"}
    )
    return Effect(browser, post, lambda: _events_of("application", app_id, "edited"))


def _submit_application(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(902))
    app_id = w.daily_draft(user)
    post = Post(f"/area-personale/domande/{app_id}/invia")
    return Effect(browser, post, lambda: _events_of("application", app_id, "submitted"))


def _pay_application(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(903))
    app_id = w.submitted_daily(user)
    post = Post(f"/area-personale/domande/{app_id}/paga")
    return Effect(browser, post, lambda: _count(Permit, Permit.application_id == app_id))


def _withdraw_application(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(904))
    app_id = w.submitted_daily(user)
    post = Post(f"/area-personale/domande/{app_id}/ritira", CONFIRMED)
    return Effect(browser, post, lambda: _events_of("application", app_id, "withdrawn"))


def _domiciled_draft(w: World) -> tuple[User, Browser, int]:
    cf, plate = w.resident_with_car()
    user, browser = w.person("resident", cf)
    app_id = applications.create_draft(
        user, applications.ApplicationInput(category="15", applicant_id="", plates=(plate,))
    )
    return user, browser, app_id


def _attach_document(w: World) -> Effect:
    _user, browser, app_id = _domiciled_draft(w)
    post = Post(
        f"/area-personale/domande/{app_id}/documenti",
        {"kind": "lease_or_deed"},
        {"file": ("contratto.pdf", PDF, "application/pdf")},
    )
    return Effect(browser, post, lambda: _count(Document, Document.application_id == app_id))


def _remove_document(w: World) -> Effect:
    user, browser, app_id = _domiciled_draft(w)
    document = attach_document(app_id, user, "lease_or_deed", "contratto.pdf", PDF)
    document_id = int(getattr(document, "id", document))
    post = Post(f"/area-personale/documenti/{document_id}/elimina")
    return Effect(browser, post, lambda: _events_of("application", app_id, "document_removed"))


def _renew(w: World) -> Effect:
    user, browser, number, _cf, _plate = w.resident_permit()
    permit = db.session.scalars(select(Permit).where(Permit.number == number)).one()
    permit.valid_to = dt.datetime.now(dt.UTC) + dt.timedelta(days=20)  # renewal is open
    db.session.commit()
    post = Post(f"/area-personale/permessi/{number}/rinnova")
    return Effect(browser, post, lambda: _count(Application, Application.user_id == user.id))


def _surrender(w: World) -> Effect:
    _user, browser, number, _cf, _plate = w.resident_permit()
    permit_id = db.session.scalars(select(Permit.id).where(Permit.number == number)).one()
    post = Post(f"/area-personale/permessi/{number}/rinuncia", CONFIRMED)
    return Effect(browser, post, lambda: _events_of("permit", permit_id, "surrendered"))


def _change_plate(w: World) -> Effect:
    _user, browser, number, cf, plate = w.resident_permit()
    new_plate = add_household_car(f"ZA{w.serial:03d}AA", owner=cf)
    db.session.commit()
    old_id = db.session.scalars(select(Permit.id).where(Permit.number == number)).one()
    post = Post(
        f"/area-personale/permessi/{number}/targa",
        {"old_plate": plate, "new_plate": new_plate},
    )
    return Effect(browser, post, lambda: _count(Permit, Permit.replaces_id == old_id))


def _buy_booklet(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(905))
    post = Post("/area-personale/albergo/blocchetti", {"booklet-hotel": w.hotel(user)})
    return Effect(browser, post, lambda: _count(HotelBooklet, HotelBooklet.user_id == user.id))


def _booklet_of(w: World, paid: bool) -> tuple[User, Browser, HotelBooklet, str]:
    w.serial += 1
    user, browser = w.person("resident", codice_fiscale(910 + w.serial))
    hotel = w.hotel(user)
    booklet = hotel_guests.buy_booklet(user, hotel)
    if paid:
        hotel_guests.pay_booklet(booklet.id, user)
    browser.page("/area-personale/albergo")
    return user, browser, booklet, hotel


def _pay_booklet(w: World) -> Effect:
    _user, browser, booklet, _hotel = _booklet_of(w, paid=False)
    post = Post(f"/area-personale/albergo/blocchetti/{booklet.id}/paga")
    return Effect(browser, post, lambda: _events_of("booklet", booklet.id, "paid"))


def _arrival() -> str:
    """An hour ago, on the municipality's clock (a guest registered after their first transit)."""
    now = dt.datetime.now(ZoneInfo("Europe/Rome"))
    return (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def _register_guest(w: World) -> Effect:
    _user, browser, _booklet, hotel = _booklet_of(w, paid=True)
    plate = w.plate()
    post = Post(
        "/area-personale/albergo/ospiti",
        {
            "guest-hotel": hotel,
            "guest-plate": plate,
            "guest-arrival": _arrival(),
            "guest-nights": "2",
        },
    )
    return Effect(browser, post, lambda: _guest_permits(hotel, plate))


def _register_guest_file(w: World) -> Effect:
    _user, browser, _booklet, hotel = _booklet_of(w, paid=True)
    plate = w.plate()
    arrival = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="minutes")
    csv = f"targa,arrivo,giorni\n{plate},{arrival},1\n".encode()
    post = Post(
        "/area-personale/albergo/ospiti/file",
        {"batch-hotel": hotel},
        {"batch-file": ("ospiti.csv", csv, "text/csv")},
    )
    return Effect(browser, post, lambda: _guest_permits(hotel, plate))


def _guest_permits(hotel: str, plate: str) -> int:
    return _count(
        Permit,
        Permit.holder_id == hotel,
        Permit.id.in_(select(PermitPlate.permit_id).where(PermitPlate.plate == plate)),
    )


def _request_delegation(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(930))
    browser.page("/area-personale/imprese")
    post = Post(
        "/area-personale/imprese/deleghe",
        {"partita_iva": w.firm()},
        {
            "delegation_form": ("delega.pdf", PDF, "application/pdf"),
            "identity_document": ("carta.pdf", PDF, "application/pdf"),
        },
    )
    return Effect(
        browser, post, lambda: _count(FirmDelegation, FirmDelegation.delegate_user_id == user.id)
    )


def _revoke_own_delegation(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(931))
    upload = representation.Upload("delega.pdf", PDF)
    delegation_id = representation.request_delegation(user, w.firm(), upload, upload)
    post = Post(f"/area-personale/imprese/deleghe/{delegation_id}/revoca")
    return Effect(
        browser, post, lambda: _events_of("delegation", delegation_id, "delegation_revoked")
    )


def _clerk_delegation(path: str, fields: dict[str, str], action: str, approved: bool) -> Prepare:
    def prepare(w: World) -> Effect:
        delegation_id = w.delegation(approved)
        _clerk, browser = w.person("clerk")
        browser.page(f"/ufficio/deleghe/{delegation_id}")
        post = Post(f"/ufficio/deleghe/{delegation_id}/{path}", fields)
        return Effect(browser, post, lambda: _events_of("delegation", delegation_id, action))

    return prepare


def _imports(w: World) -> Effect:
    _user, browser = w.person("supervisor")
    browser.page("/supervisione/importazioni")
    before = _count(RegistryImport)
    streets = "street,from_number,to_number,parity,zone\nVia della Prova Concorrente,1,99,all,A\n"
    post = Post(
        "/supervisione/importazioni",
        {"kind": "streets"},
        {"file": ("vie.csv", streets.encode(), "text/csv")},
    )
    return Effect(browser, post, lambda: _count(RegistryImport) - before)


def _tokens(w: World) -> Effect:
    _user, browser = w.person("supervisor")
    browser.page("/supervisione/token")
    name = f"varco-{w.serial}"
    post = Post("/supervisione/token", {"name": name, "role": "gate"})
    return Effect(browser, post, lambda: _count(ApiToken, ApiToken.name == name))


def _revoke_token(w: World) -> Effect:
    _user, browser = w.person("supervisor")
    name = f"revoca-{w.serial}"
    tokens.create_token(name, "gate")
    post = Post(f"/supervisione/token/{name}/revoca")
    return Effect(browser, post, lambda: _any_events_of("token", "revoked"))


def _user_status(active: bool) -> Prepare:
    def prepare(w: World) -> Effect:
        _user, browser = w.person("supervisor")
        target = make_user("clerk", f"bersaglio{w.serial}@esempio.it")
        if active:
            from ztl.accounts.user_admin import set_active

            set_active(target.id, False, Actor.cli())
        db.session.commit()
        action = "riattiva" if active else "disattiva"
        post = Post(f"/supervisione/utenti/{target.id}/{action}", {} if active else CONFIRMED)
        verb = "reactivated" if active else "deactivated"
        return Effect(browser, post, lambda: _events_of("user", target.id, verb))

    return prepare


def _new_user(w: World) -> Effect:
    _user, browser = w.person("supervisor")
    browser.page("/supervisione/utenti/nuovo")
    email = f"nuovo{w.serial}@esempio.it"
    post = Post(
        "/supervisione/utenti/nuovo",
        {
            "full_name": "Nuovo Operatore",
            "email": email,
            "role": "clerk",
            "password": "una-password-lunga-1",
            "confirm": "una-password-lunga-1",
        },
    )
    return Effect(browser, post, lambda: _count(User, User.email == email))


def _register(w: World) -> Effect:
    browser = anonymous(w.base)
    browser.page("/registrazione")
    email = f"iscritto{w.serial}@esempio.it"
    post = Post(
        "/registrazione",
        {
            "full_name": "Nuova Residente",
            "codice_fiscale": codice_fiscale(950),
            "email": email,
            "password": "una-password-lunga-1",
            "confirm": "una-password-lunga-1",
        },
    )
    return Effect(browser, post, lambda: _count(User, User.email == email))


def _clerk_action(path: str, fields: dict[str, str], check: Callable[[int], int]) -> Prepare:
    def prepare(w: World) -> Effect:
        app_id, _applicant = w.under_review()
        _clerk, browser = w.person("clerk")
        browser.page(f"/ufficio/domande/{app_id}")
        return Effect(
            browser, Post(f"/ufficio/domande/{app_id}/{path}", fields), lambda: check(app_id)
        )

    return prepare


def _revoke(w: World) -> Effect:
    _holder, _browser, number, _cf, _plate = w.resident_permit()
    permit_id = db.session.scalars(select(Permit.id).where(Permit.number == number)).one()
    _clerk, browser = w.person("clerk")
    post = Post(f"/ufficio/permessi/{number}/revoca", {"reason": "contrassegno falso"})
    return Effect(browser, post, lambda: _events_of("permit", permit_id, "revoked"))


def _notification(w: World) -> Effect:
    user, _browser = w.person("resident", codice_fiscale(906))
    app_id = w.submitted_daily(user)
    application = db.session.get(Application, app_id)
    assert application is not None
    body = json.dumps(
        {
            "receipt_id": f"R-{app_id}",
            "iuv": application.payment_reference,
            "amount_cents": applications.total_due(application),
            "paid_at": dt.datetime.now(dt.UTC).isoformat(),
        }
    ).encode()
    headers = {
        SIGNATURE_HEADER: sign(SECRET, body, dt.datetime.now(dt.UTC)),
        "Content-Type": "application/json",
    }
    post = Post("/api/v1/payments/notifications", body=body, headers=headers)
    return Effect(Browser(w.base), post, lambda: _count(Permit, Permit.application_id == app_id))


def _refund_done(w: World) -> Effect:
    """A refund the accounting office marks done: one event, whatever the double clicks."""
    from ztl.infrastructure.unit_of_work import unit_of_work
    from ztl.models import PaymentPosition
    from ztl.models.enums import RefundReason
    from ztl.payments.positions import request_refund

    user, _browser = w.person("resident", codice_fiscale(907))
    app_id = w.submitted_daily(user)
    with unit_of_work() as session:
        position = session.scalars(
            select(PaymentPosition).where(PaymentPosition.application_id == app_id)
        ).one()
        refund = request_refund(
            session, position, f"R-{app_id}", position.amount_cents, RefundReason.DOUBLE_PAYMENT
        )
        assert refund is not None
        refund_id, iuv = refund.id, position.iuv
    _supervisor, browser = w.person("supervisor")
    post = Post(f"/supervisione/pagamenti/rimborsi/{refund_id}/eseguito", CONFIRMED)
    return Effect(
        browser,
        post,
        lambda: _count(
            Event,
            Event.subject_type == "payment",
            Event.subject_id == iuv,
            Event.action == "refund_done",
        ),
    )


def _pagopa_notification(w: World) -> Effect:
    """The pagoPA intermediary's notification (GovPay's `notifica`, checked against the
    contract before it is sent), delivered many times at once: one permit."""
    from tests.payment_intermediary.contract import validate_notification

    user, _browser = w.person("resident", codice_fiscale(908))
    app_id = w.submitted_daily(user)
    application = db.session.get(Application, app_id)
    assert application is not None and application.payment_reference
    iuv = application.payment_reference
    amount = applications.total_due(application)
    euros = amount / 100
    today = dt.datetime.now(ZoneInfo("Europe/Rome"))
    notice = {
        "idA2A": "ZTL_PRATO",
        "idPendenza": f"ZTL-{iuv}",
        "rpt": {"versioneOggetto": "6.2"},
        "rt": {
            "identificativoMessaggioRicevuta": f"RT-{app_id}",
            "dataOraMessaggioRicevuta": today.strftime("%Y-%m-%dT%H:%M:%S"),
            "soggettoPagatore": {
                "identificativoUnivocoPagatore": {
                    "tipoIdentificativoUnivoco": "F",
                    "codiceIdentificativoUnivoco": application.applicant_id,
                },
                "anagraficaPagatore": "Pagatore di prova",
            },
            "datiPagamento": {
                "codiceEsitoPagamento": "0",
                "importoTotalePagato": euros,
                "identificativoUnivocoVersamento": iuv,
                "CodiceContestoPagamento": f"CCP{app_id}",
                "datiSingoloPagamento": [
                    {
                        "singoloImportoPagato": euros,
                        "esitoSingoloPagamento": "ESEGUITO",
                        "dataEsitoSingoloPagamento": today.date().isoformat(),
                        "identificativoUnivocoRiscossione": f"IUR{app_id}",
                    }
                ],
            },
        },
        "riscossioni": [
            {
                "idDominio": PAGOPA_CREDITOR,
                "iuv": iuv,
                "iur": f"IUR{app_id}",
                "indice": 1,
                "idVocePendenza": f"ZTL-{iuv}-T",
                "stato": "RISCOSSA",
                "tipo": "ENTRATA",
                "importo": euros,
                "data": today.date().isoformat(),
            }
        ],
    }
    path = f"/pagamenti/{PAGOPA_CREDITOR}/{iuv}"
    validate_notification(path, notice)
    basic = base64.b64encode(f"{PAGOPA_NOTIFY_USER}:{PAGOPA_NOTIFY_PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/json"}
    post = Post(f"/api/v1/pagopa{path}", body=json.dumps(notice).encode(), headers=headers)
    return Effect(Browser(w.base), post, lambda: _count(Permit, Permit.application_id == app_id))


def _end_session(w: World) -> Effect:
    """Another browser's session ended from this one: one row ended (a session has no event)."""
    user, browser = w.person("resident", codice_fiscale(960 + w.serial))
    signed_in(w.base, user.email)  # the other browser
    other = db.session.scalars(
        select(BrowserSession.id)
        .where(BrowserSession.user_id == user.id)
        .order_by(BrowserSession.id.desc())
    ).first()
    assert other is not None
    return Effect(
        browser,
        Post(f"/sessioni/{other}/termina"),
        lambda: _count(
            BrowserSession, BrowserSession.id == other, BrowserSession.ended_at.is_not(None)
        ),
    )


def _end_other_sessions(w: World) -> Effect:
    user, browser = w.person("resident", codice_fiscale(970 + w.serial))
    signed_in(w.base, user.email)
    return Effect(
        browser,
        Post("/sessioni/termina-le-altre"),
        lambda: _count(
            BrowserSession, BrowserSession.user_id == user.id, BrowserSession.ended_at.is_not(None)
        ),
    )


def _staff_with_second_factor(w: World, role: str = "clerk") -> tuple[User, str]:
    """A staff account whose authenticator app (its secret returned) is set up."""
    w.serial += 1
    user = make_user(role, f"{role}{w.serial}@esempio.it")
    secret = pyotp.random_base32()
    second_factor.enrol(user.id, secret, pyotp.TOTP(secret).now(), Actor.cli())
    db.session.commit()
    return user, secret


def _next_code(secret: str) -> str:
    """The app's code of the next time step (the current one may be the step enrolment used)."""
    return str(pyotp.TOTP(secret).at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)))


def _secret_on(browser: Browser, path: str) -> str:
    match = SECRET_ON_PAGE.search(browser.page(path))
    assert match, f"no secret on {path}"
    return match[1].replace(" ", "")


def _password_step(w: World, email: str, expected: str) -> Browser:
    """The password of a staff member with a second factor: not signed in, the step due next."""
    browser = anonymous(w.base)
    response = requests.post(
        w.base + "/accedi",
        data={"email": email, "password": PASSWORD, "csrf_token": browser.token, "next": ""},
        cookies=browser.cookies,
        allow_redirects=False,
        timeout=30,
    )
    assert response.headers.get("Location", "").endswith(expected), response.status_code
    browser.keep_cookies(response)
    return browser


def _second_factor_code(w: World) -> Effect:
    """The same code sent six times at once: one sign-in (the code's time step is used once)."""
    user, secret = _staff_with_second_factor(w)
    browser = _password_step(w, user.email, "/accedi/codice")
    browser.page("/accedi/codice")
    return Effect(
        browser,
        Post("/accedi/codice", {"code": _next_code(secret)}),
        lambda: _count(BrowserSession, BrowserSession.user_id == user.id),
    )


def _enrol_at_sign_in(w: World) -> Effect:
    """Served with the second factor required: a clerk without one sets it up after the password."""
    w.serial += 1
    user = make_user("clerk", f"nuovo.fattore{w.serial}@esempio.it")
    db.session.commit()
    browser = _password_step(w, user.email, "/accedi/attivazione")
    secret = _secret_on(browser, "/accedi/attivazione")
    return Effect(
        browser,
        Post("/accedi/attivazione", {"code": pyotp.TOTP(secret).now()}),
        lambda: _events_of("user", user.id, "second_factor_enrolled"),
    )


def _enrol_signed_in(w: World) -> Effect:
    user, browser = w.person("clerk")
    secret = _secret_on(browser, "/sessioni/secondo-fattore")
    return Effect(
        browser,
        Post("/sessioni/secondo-fattore/attivazione", {"code": pyotp.TOTP(secret).now()}),
        lambda: _events_of("user", user.id, "second_factor_enrolled"),
    )


def _renew_recovery_codes(w: World) -> Effect:
    user, browser = w.person("clerk")  # signed in before the app is set up (development)
    secret = pyotp.random_base32()
    second_factor.enrol(user.id, secret, pyotp.TOTP(secret).now(), Actor.cli())
    db.session.commit()
    browser.page("/sessioni/secondo-fattore")
    return Effect(
        browser,
        Post("/sessioni/secondo-fattore/codici-di-recupero", {"code": _next_code(secret)}),
        lambda: _events_of("user", user.id, "recovery_codes_renewed"),
    )


def _reset_second_factor(w: World) -> Effect:
    _supervisor, browser = w.person("supervisor")
    target, _secret = _staff_with_second_factor(w)
    browser.page("/supervisione/utenti")
    return Effect(
        browser,
        Post(f"/supervisione/utenti/{target.id}/secondo-fattore/azzera"),
        lambda: _events_of("user", target.id, "second_factor_reset"),
    )


def _events_of(subject: str, subject_id: int, action: str) -> int:
    return _count(
        Event,
        Event.subject_type == subject,
        Event.subject_id == str(subject_id),
        Event.action == action,
    )


def _any_events_of(subject: str, action: str) -> int:
    return _count(Event, Event.subject_type == subject, Event.action == action)


def _transit_push(w: World) -> Effect:
    """A gate resends a reading it got no answer for, six times at once: one row in the ledger."""
    from ztl.models import Transit

    _token, plaintext = tokens.create_token(f"varco-{w.serial}", "gate")
    w.serial += 1
    source_id = f"A1-{w.serial}-{secrets.token_hex(4)}"
    reading = {
        "id": source_id,
        "gate": "A1",
        "plate": car_plate(5_000_777),
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }
    headers = {"Authorization": f"Bearer {plaintext}", "Content-Type": "application/json"}
    post = Post("/api/v1/transits", body=json.dumps(reading).encode(), headers=headers)
    return Effect(Browser(w.base), post, lambda: _count(Transit, Transit.source_id == source_id))


def _violation(w: World) -> int:
    """A reading no permit covers, read four days ago: a violation waiting for an officer."""
    from ztl.models import Transit
    from ztl.transits.ledger import FILE, record_readings
    from ztl.transits.readings import Reading
    from ztl.transits.settlement import settle

    w.serial += 1
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=4)
    reading = Reading("A1", f"review-{w.serial}", car_plate(5_000_800 + w.serial), at)
    record_readings([reading], FILE)
    settle()
    found = db.session.scalar(select(Transit.id).where(Transit.source_id == reading.source_id))
    assert found is not None
    return int(found)


def _review(action: str, form: dict[str, str], event: str) -> Prepare:
    def prepare(w: World) -> Effect:
        transit_id = _violation(w)
        _officer, browser = w.person("police")
        post = Post(f"/polizia/violazioni/{transit_id}/{action}", form)
        return Effect(browser, post, lambda: _events_of("transit", transit_id, event))

    return prepare


def _permits_of_application(app_id: int) -> int:
    return _count(Permit, Permit.application_id == app_id)


# Endpoint -> how to make one request whose effect must happen once. Every POST route is here
# or in QUERIES; TWO_TABS marks those also sent with different keys.
STATE_CHANGES: dict[str, Prepare] = {
    "auth.register": _register,
    "resident.new_application": _new_application,
    "resident.edit_application": _edit_application,
    "resident.submit_application": _submit_application,
    "resident.pay_application": _pay_application,
    "resident.withdraw_application": _withdraw_application,
    "resident.attach_document": _attach_document,
    "resident.remove_document": _remove_document,
    "resident.renew": _renew,
    "resident.surrender": _surrender,
    "resident.change_permit_plate": _change_plate,
    "resident.buy_booklet": _buy_booklet,
    "resident.pay_booklet": _pay_booklet,
    "resident.register_guest": _register_guest,
    "resident.register_guest_file": _register_guest_file,
    "resident.request_delegation": _request_delegation,
    "resident.revoke_delegation": _revoke_own_delegation,
    "supervisor.imports": _imports,
    "supervisor.tokens": _tokens,
    "supervisor.revoke_api_token": _revoke_token,
    "supervisor.deactivate_user": _user_status(active=False),
    "supervisor.reactivate_user": _user_status(active=True),
    "supervisor.new_user": _new_user,
    "clerk.approve": _clerk_action("approva", {"note": "contratto visto"}, _permits_of_application),
    "clerk.request_documents": _clerk_action(
        "chiedi-documenti",
        {"message": "il contratto firmato"},
        lambda app_id: _events_of("application", app_id, "documents_requested"),
    ),
    "clerk.reject": _clerk_action(
        "respingi",
        {"reason": "non domiciliato"},
        lambda app_id: _events_of("application", app_id, "rejected"),
    ),
    "clerk.revoke": _revoke,
    "clerk.approve_delegation": _clerk_delegation(
        "approva", {}, "delegation_approved", approved=False
    ),
    "clerk.refuse_delegation": _clerk_delegation(
        "rifiuta", {"refuse-reason": "delega non firmata"}, "delegation_refused", approved=False
    ),
    "clerk.revoke_delegation": _clerk_delegation(
        "revoca",
        {"revoke-reason": "rapporto di lavoro concluso"},
        "delegation_revoked",
        approved=True,
    ),
    "auth.end_session": _end_session,
    "auth.end_other_sessions": _end_other_sessions,
    "auth.second_factor_code": _second_factor_code,
    "auth.enrol_second_factor": _enrol_signed_in,
    "auth.renew_recovery_codes": _renew_recovery_codes,
    "supervisor.reset_second_factor": _reset_second_factor,
    "supervisor.refund_done": _refund_done,
    "api_transits.push_transit": _transit_push,
    "police.confirm_violation": _review("conferma", {}, "violation_confirmed"),
    "police.dismiss_violation": _review(
        "archiviazione", {"dismissal": "misread", "note": ""}, "violation_dismissed"
    ),
}
TWO_TABS = ("resident.pay_application", "clerk.approve", "resident.change_permit_plate")
# Served by the production payment provider only: its own server run.
NOTIFIED_ONLY = {
    "api_payments.notification": _notification,
    "api_pagopa.notification": _pagopa_notification,
}
# Reached only when staff must have a second factor (production): the same second run has it on.
SECOND_FACTOR_REQUIRED = {"auth.second_factor_enrol": _enrol_at_sign_in}
# POST routes that change no permit or application: sign-in and out, language, queries.
QUERIES: dict[str, Callable[[World], tuple[Browser, Post]]] = {}


def _query(endpoint: str) -> Callable[[Callable[[World], tuple[Browser, Post]]], Any]:
    def register(prepare: Callable[[World], tuple[Browser, Post]]) -> Any:
        QUERIES[endpoint] = prepare
        return prepare

    return register


@_query("auth.login")
def _login(w: World) -> tuple[Browser, Post]:
    _user, _signed = w.person("resident", codice_fiscale(907))
    browser = anonymous(w.base)
    email = f"resident{w.serial}@esempio.it"
    return browser, Post("/accedi", {"email": email, "password": PASSWORD, "next": ""})


@_query("auth.logout")
def _logout(w: World) -> tuple[Browser, Post]:
    _user, browser = w.person("resident", codice_fiscale(908))
    return browser, Post("/esci")


@_query("public.set_language")
def _language(w: World) -> tuple[Browser, Post]:
    return anonymous(w.base), Post("/lingua", {"lang": "en", "next": "/"})


@_query("police.plate_lookup")
def _plate_lookup(w: World) -> tuple[Browser, Post]:
    _user, browser = w.person("police")
    browser.page("/polizia/targa")
    return browser, Post("/polizia/targa", {"plate": DEMO_OWN_CAR, "zone": "", "at": ""})


@_query("police.home")
def _plate_on_the_home(w: World) -> tuple[Browser, Post]:
    _user, browser = w.person("police")
    browser.page("/polizia/")
    return browser, Post("/polizia/", {"plate": DEMO_OWN_CAR, "zone": ""})


@_query("police.clear_answers")
def _clear_answers(w: World) -> tuple[Browser, Post]:
    _user, browser = w.person("police")
    browser.page("/polizia/")
    return browser, Post("/polizia/risposte/svuota")


def _token_post(
    role: str, path: str, body: dict[str, Any]
) -> Callable[[World], tuple[Browser, Post]]:
    def prepare(w: World) -> tuple[Browser, Post]:
        _token, plaintext = tokens.create_token(
            f"{role}-{w.serial}-{path.rsplit('/', 1)[-1]}", role
        )
        w.serial += 1
        headers = {"Authorization": f"Bearer {plaintext}", "Content-Type": "application/json"}
        return Browser(w.base), Post(path, body=json.dumps(body).encode(), headers=headers)

    return prepare


QUERIES["api_eligibility.eligibility"] = _token_post(
    "police", "/api/v1/eligibility", {"category": "G/A", "plates": [DEMO_OWN_CAR]}
)
QUERIES["api_seals.verify"] = _token_post(
    "police", "/api/v1/seals/verify", {"seal": "non-un-sigillo"}
)
QUERIES["api_enforcement.check_transits"] = _token_post(
    "gate",
    "/api/v1/transits/check",
    {"transits": [{"plate": DEMO_OWN_CAR, "at": "2026-12-05T10:00:00+01:00", "zone": "A"}]},
)


# --- the tests ---------------------------------------------------------------------------------


def test_every_post_route_has_an_entry(app: Flask) -> None:
    posted = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.methods and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }
    covered = set(STATE_CHANGES) | set(NOTIFIED_ONLY) | set(SECOND_FACTOR_REQUIRED) | set(QUERIES)
    assert sorted(posted - covered) == [], "a POST route without a concurrency entry"
    assert sorted(covered - posted) == [], "an entry for a route that no longer exists"


def _judge(endpoint: str, answers: list[requests.Response], check: Check, after: int) -> list[str]:
    problems = []
    codes = sorted(a.status_code for a in answers)
    if any(code >= 500 for code in codes):
        problems.append(f"{endpoint}: server errors {codes}")
    count = check()
    if count != 1:
        problems.append(f"{endpoint}: {count} effects, not 1 (answers {codes})")
    repeated = {k: n for k, n in _new_events(after).items() if n > 1}
    if repeated:
        problems.append(f"{endpoint}: events repeated {repeated} (answers {codes})")
    return problems


def test_simultaneous_identical_requests_have_one_effect_on_every_post_route(
    city: Flask, tmp_path: Path
) -> None:
    problems: list[str] = []
    with served(city, tmp_path) as base:
        world = World(base, city, plates=daily_plates(30))
        for endpoint, prepare in STATE_CHANGES.items():
            effect = prepare(world)
            after = _last_event_id()
            answers = fire(effect.browser, effect.post)
            problems += _judge(endpoint, answers, effect.check, after)
        for endpoint in TWO_TABS:
            effect = STATE_CHANGES[endpoint](world)
            after = _last_event_id()
            answers = fire(effect.browser, effect.post, same_key=False)
            problems += _judge(f"{endpoint} (different keys)", answers, effect.check, after)
        for endpoint, prepare_query in QUERIES.items():
            browser, post = prepare_query(world)
            before = (_count(Permit), _count(Application), _last_event_id())
            answers = fire(browser, post)
            codes = sorted(a.status_code for a in answers)
            if any(code >= 500 for code in codes):
                problems.append(f"{endpoint}: server errors {codes}")
            if (_count(Permit), _count(Application)) != before[:2]:
                problems.append(f"{endpoint}: a query changed permits or applications")
    with served(
        city,
        tmp_path,
        ZTL_PAYMENT_PROVIDER="notified",
        ZTL_PAYMENT_NOTIFICATION_SECRET=SECRET,
        ZTL_PAGOPA_NOTIFICATION_USER=PAGOPA_NOTIFY_USER,
        ZTL_PAGOPA_NOTIFICATION_PASSWORD=PAGOPA_NOTIFY_PASSWORD,
        ZTL_STAFF_SECOND_FACTOR=True,
    ) as base:
        world.base = base
        for endpoint, prepare in {**NOTIFIED_ONLY, **SECOND_FACTOR_REQUIRED}.items():
            effect = prepare(world)
            after = _last_event_id()
            answers = fire(effect.browser, effect.post)
            problems += _judge(endpoint, answers, effect.check, after)
    assert problems == [], "\n".join(problems)
