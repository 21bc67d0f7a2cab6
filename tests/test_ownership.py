"""Ownership: a resident never reaches another resident's application, document, permit, booklet
or delegation.

The routes are taken from app.url_map, not listed by hand: every rule of the resident portal whose
URL names an owned thing (an application id, a document id, a permit number, a booklet id) is
requested by a second resident with the first one's values, for every method it accepts, and must
answer 404 (ids are guessable: "not found" says nothing about whether it exists). A new route with
an owned argument this test does not know fails it, so the rule cannot be forgotten.

Then the rule itself (ztl/permissions.py::owns): a permit issued at the counter, where no account of
the resident applied, is its holder's (dashboard, page, PDF, plate change, renewal, surrender) and
nobody else's; omocodic spellings on either side are one person; a firm's permit is for whoever may
act for the firm now; a frozen account and a clerk own nothing; the data export, the dashboard and
the per-record check list the same records.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from stdnum.it import codicefiscale

from tests.conftest import PDF, apply_online, csrf_token, login, post_form, sign_in, upload_document
from tests.factories import (
    CF_MARIO,
    DEMO_OWN_CAR,
    DEMO_RESIDENT,
    PASSWORD,
    add_household_car,
    hotel_in_zone_a,
    make_representative,
    make_user,
)
from ztl import permissions
from ztl.accounts import representation
from ztl.applications import applicant as applications
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.applications.dashboard import dashboard
from ztl.demo.generator import codice_fiscale
from ztl.eligibility.service import PlateInput
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import (
    Application,
    Business,
    BusinessRepresentative,
    Document,
    Event,
    FirmDelegation,
    HotelBooklet,
    Permit,
    User,
    Vehicle,
)
from ztl.models.enums import PermitStatus
from ztl.permissions import owned_applications, owned_permits, owns_application, owns_permit
from ztl.permits.changes import change_plate, surrender_permit
from ztl.records.personal_data import personal_data
from ztl.values.fiscal import omocodic_variants, person_key

PORTAL = "/area-personale/"
# Route arguments that name something a resident owns. Any other argument must be listed as public.
OWNED = {"application_id", "document_id", "number", "booklet_id", "key", "delegation_id"}
PUBLIC_ARGUMENTS = {"code"}  # a category code: the same catalogue for everyone


pytestmark = pytest.mark.usefixtures("quiet_mail")


def _owned_rules(app: Flask) -> list[tuple[str, set[str], set[str]]]:
    """(rule, its arguments, its methods) for every portal rule that names an owned thing."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PORTAL) or not rule.arguments:
            continue
        unknown = rule.arguments - OWNED - PUBLIC_ARGUMENTS
        assert not unknown, f"{rule.rule}: is {unknown} owned? add it to OWNED or PUBLIC_ARGUMENTS"
        if rule.arguments & OWNED:
            found.append(
                (rule.rule, set(rule.arguments), set(rule.methods or ()) - {"HEAD", "OPTIONS"})
            )
    return found


def _owners_things(client: FlaskClient) -> dict[str, str]:
    """The first resident applies with a document, pays (issued at once), buys a booklet for the
    hotel they represent and asks to be the delegate of another firm."""
    owner = sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = apply_online(client)
    page = f"{PORTAL}domande/{app_id}"
    assert upload_document(client, page, "carta.pdf").status_code == 303
    assert post_form(client, f"{page}/invia", page).status_code == 303
    assert post_form(client, f"{page}/paga", page).status_code == 303
    hotel_page = f"{PORTAL}albergo"
    bought = post_form(
        client, f"{hotel_page}/blocchetti", hotel_page, **{"booklet-hotel": hotel_in_zone_a()}
    )
    assert bought.status_code == 303
    permit = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).one()
    document = db.session.scalars(select(Document).where(Document.application_id == app_id)).one()
    booklet = db.session.scalars(select(HotelBooklet)).one()
    paid = post_form(client, f"{hotel_page}/blocchetti/{booklet.id}/paga", hotel_page)
    assert paid.status_code == 303
    guests = client.post(
        f"{hotel_page}/ospiti/file",
        data={
            "csrf_token": csrf_token(client, hotel_page),
            "batch-hotel": booklet.holder_id,
            "batch-file": (io.BytesIO(b"GS123AB,2026-12-24T15:00:00+01:00,1\n"), "ospiti.csv"),
        },
        content_type="multipart/form-data",
    )
    assert guests.status_code == 303  # the report is shown after the redirect, to its owner
    report_key = guests.headers["Location"].rsplit("/", 1)[-1]
    represented = select(BusinessRepresentative.partita_iva).where(
        BusinessRepresentative.person_key == owner.person_key
    )
    other_firm = db.session.scalars(
        select(Business.partita_iva)
        .where(Business.status == "active", Business.partita_iva.not_in(represented))
        .order_by(Business.partita_iva)
    ).first()
    assert other_firm is not None
    upload = representation.Upload("delega.pdf", PDF)
    delegation_id = representation.request_delegation(owner, other_firm, upload, upload)
    db.session.expire_all()
    used = db.session.get(HotelBooklet, booklet.id).used  # type: ignore[union-attr]
    return {
        "application_id": str(app_id),
        "document_id": str(document.id),
        "number": permit.number,
        "booklet_id": str(booklet.id),
        "key": report_key,
        "booklet_used": str(used),
        "delegation_id": str(delegation_id),
    }


def _url(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule)


def test_every_owned_route_is_not_found_for_another_resident(
    city: Flask, client: FlaskClient, app: Flask
) -> None:
    values = _owners_things(client)
    owner_gets = {
        _url(rule, values)
        for rule, _args, methods in _owned_rules(app)
        if "GET" in methods and "code" not in _args
    }
    for url in owner_gets:  # the owner reaches each of them (so a 404 below means "not yours")
        assert client.get(url).status_code == 200, url

    other = app.test_client()
    sign_in(other, "resident", "other@example.org", "RSSMRA85T10A562S")
    token = csrf_token(other, PORTAL)
    tried = []
    for rule, arguments, methods in _owned_rules(app):
        url = _url(rule, {**values, "code": "1"}) if "code" in arguments else _url(rule, values)
        for method in sorted(methods):
            kwargs: dict[str, Any] = {}
            if method == "POST":  # a complete, valid form: refused for ownership, not for shape
                kwargs = {
                    "data": {
                        "csrf_token": token,
                        "kind": "identity_document",
                        "file": (io.BytesIO(PDF), "altro.pdf"),
                        "plate": "FX123AB",
                        "new_plate": "FX123AB",
                    },
                    "content_type": "multipart/form-data",
                }
            response = other.open(url, method=method, **kwargs)
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            tried.append(f"{method} {rule}")
    # applications, documents, permits and booklets all covered (withdrawing and giving up: their
    # confirmation pages too; the pagoPA notices of an application and of a booklet)
    assert len(tried) == 21, tried
    assert "GET /area-personale/domande/<int:application_id>/avviso.pdf" in tried
    assert "GET /area-personale/albergo/blocchetti/<int:booklet_id>/avviso.pdf" in tried

    db.session.expire_all()
    application = db.session.get(Application, int(values["application_id"]))
    assert application is not None and application.status == "issued"
    permit = db.session.scalars(select(Permit).where(Permit.number == values["number"])).one()
    assert permit.status == "active" and [p.plate for p in permit.plates]
    assert db.session.get(Document, int(values["document_id"])) is not None
    booklet = db.session.get(HotelBooklet, int(values["booklet_id"]))
    assert booklet is not None and str(booklet.used) == values["booklet_used"]  # nobody else's
    paid = db.session.scalars(
        select(Event).where(
            Event.subject_type == "booklet",
            Event.subject_id == values["booklet_id"],
            Event.action == "paid",
        )
    ).all()
    assert [e.actor_label for e in paid] == ["mario@example.org"]
    delegation = db.session.get(FirmDelegation, int(values["delegation_id"]))
    assert delegation is not None and delegation.status == "requested"  # nobody else revoked it


def test_a_new_route_with_an_unknown_argument_is_caught(app: Flask) -> None:
    probe = Flask(__name__)
    probe.add_url_rule(f"{PORTAL}ricevute/<int:receipt_id>", "receipt", lambda receipt_id: "")
    with pytest.raises(AssertionError, match="receipt_id"):
        _owned_rules(probe)


# --- the rule: whose is a permit issued at the counter, a firm's permit, an omocodic holder's ----

STRANGER_CF = codice_fiscale(1000)  # a valid codice fiscale no firm of the demo names
DELEGATE_CF = codice_fiscale(1001)
PERMIT_ACTIONS = ("targa", "rinnova", "rinuncia")


def _client(app: Flask, email: str, cf: str | None) -> tuple[User, FlaskClient]:
    """A resident account, signed in on a browser of its own."""
    user = make_user("resident", email, codice_fiscale=cf)
    browser = app.test_client()
    assert login(browser, email, PASSWORD).status_code == 302
    return user, browser


def _at_counter(applicant: str, plate: str = DEMO_OWN_CAR, category: str = "1") -> Permit:
    """A permit a clerk issues at the counter: the application is the clerk's, not the holder's."""
    clerk = db.session.scalar(select(User).where(User.email == "sportello@comune.example.org"))
    clerk = clerk or make_user("clerk", "sportello@comune.example.org")
    issued = issue_at_counter(
        CounterRequest(category, applicant, (PlateInput(plate),)), Actor.of_user(clerk)
    )
    permit = db.session.get(Permit, issued.permit_id)
    assert permit is not None and permit.application_id is not None
    application = db.session.get(Application, permit.application_id)
    assert application is not None and application.user_id == clerk.id  # the clerk's...
    assert permit.holder_user_id != clerk.id  # ...but the permit's messages never go to the clerk
    return permit


def _permit_urls(number: str) -> list[tuple[str, str]]:
    page = f"{PORTAL}permessi/{number}"
    return [("GET", page), ("GET", f"{page}/pdf")] + [
        ("POST", f"{page}/{action}") for action in PERMIT_ACTIONS
    ]


def _not_found_for(browser: FlaskClient, number: str) -> None:
    """Every page and action of the permit answers 404, and the dashboard does not list it."""
    token = csrf_token(browser, PORTAL)
    for method, url in _permit_urls(number):
        data = {"csrf_token": token, "old_plate": DEMO_OWN_CAR, "new_plate": "GA123BC"}
        response = browser.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
    assert number not in browser.get(PORTAL).get_data(as_text=True)


def _renewed(permit: Permit) -> Permit:
    db.session.expire_all()
    return db.session.scalars(select(Permit).where(Permit.replaces_id == permit.id)).one()


def test_a_permit_issued_at_the_counter_is_its_holder_s_to_see_renew_change_and_give_up(
    city: Flask, client: FlaskClient, app: Flask
) -> None:
    """The holder never applied from their account: the clerk did. It was in their data export,
    yet their dashboard did not list it and each of its pages answered 404 (the bug)."""
    sign_in(
        client, "resident", "mario@example.org", DEMO_RESIDENT
    )  # mario@example.org, the demo resident
    permit = _at_counter(DEMO_RESIDENT)
    permit.valid_to = dt.datetime.now(dt.UTC) + dt.timedelta(days=25)  # its renewal is open
    db.session.commit()
    counter_application = permit.application_id
    page = f"{PORTAL}permessi/{permit.number}"

    home = client.get(PORTAL).get_data(as_text=True)
    assert f'href="{page}"' in home, "the dashboard lists the counter-issued permit"
    assert f"{PORTAL}domande/{counter_application}" in home  # and the clerk's application for it
    assert client.get(page).status_code == 200
    assert client.get(f"{PORTAL}domande/{counter_application}").status_code == 200
    pdf = client.get(f"{page}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data == permit.pdf

    _, stranger = _client(app, "altro@example.org", CF_MARIO)
    _not_found_for(stranger, permit.number)

    # Renewal: an application of the holder's account, prefilled from the permit, paid, issued.
    renewal = post_form(client, f"{page}/rinnova", page)
    assert renewal.status_code == 303, renewal
    renewal_page = renewal.headers["Location"]
    assert re.search(r"/domande/\d+$", renewal_page), renewal_page
    assert post_form(client, f"{renewal_page}/invia", renewal_page).status_code == 303
    assert post_form(client, f"{renewal_page}/paga", renewal_page).status_code == 303
    renewed = _renewed(permit)
    assert renewed.status == PermitStatus.ACTIVE.value and renewed.holder_id == permit.holder_id

    # Plate change of the renewed permit, to another car of the household.
    new_car = add_household_car("GA123BC")
    renewed_page = f"{PORTAL}permessi/{renewed.number}"
    changed = post_form(
        client, f"{renewed_page}/targa", renewed_page, old_plate=DEMO_OWN_CAR, new_plate=new_car
    )
    assert changed.status_code == 303
    replacement = _renewed(renewed)
    assert [p.plate for p in replacement.plates] == [new_car]

    # Giving it up.
    last_page = f"{PORTAL}permessi/{replacement.number}"
    assert post_form(client, f"{last_page}/rinuncia", last_page, confirmed="yes").status_code == 303
    db.session.expire_all()
    assert db.session.get(Permit, replacement.id).status == PermitStatus.SURRENDERED.value  # type: ignore[union-attr]
    home = client.get(PORTAL).get_data(as_text=True)
    assert all(p in home for p in (permit.number, renewed.number, replacement.number))
    _not_found_for(stranger, replacement.number)


def test_renewing_a_counter_permit_too_early_is_explained_not_a_404(
    city: Flask, client: FlaskClient
) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    permit = _at_counter(DEMO_RESIDENT)
    page = f"{PORTAL}permessi/{permit.number}"
    response = post_form(client, f"{page}/rinnova", page)
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    assert "Il rinnovo si apre 60 giorni prima della scadenza" in client.get(page).get_data(True)
    db.session.expire_all()
    assert db.session.get(Permit, permit.id).status == PermitStatus.ACTIVE.value  # type: ignore[union-attr]


def _omocodic(cf: str, exclude: set[str]) -> str:
    """A valid omocodic spelling of `cf` other than the ones in `exclude`."""
    for variant in sorted(omocodic_variants(cf)):
        if variant not in exclude:
            return variant
    raise AssertionError(f"{cf} has no other spelling")


def test_omocodic_spellings_on_either_side_are_one_holder(city: Flask, app: Flask) -> None:
    """The account typed one spelling, the clerk another: the permit (held under the canonical
    key) and the clerk's application (under the clerk's spelling) are both the person's."""
    canonical = person_key(DEMO_RESIDENT)
    typed_by_resident = _omocodic(canonical, {canonical})
    typed_by_clerk = _omocodic(canonical, {canonical, typed_by_resident})
    holder, browser = _client(app, "omocodia@example.org", typed_by_resident)
    assert holder.codice_fiscale == typed_by_resident and holder.person_key == canonical
    permit = _at_counter(typed_by_clerk)
    application = db.session.get(Application, permit.application_id)
    assert application is not None and application.applicant_id == typed_by_clerk
    assert permit.holder_id == canonical

    home = browser.get(PORTAL).get_data(as_text=True)
    assert f"{PORTAL}permessi/{permit.number}" in home
    assert f"{PORTAL}domande/{application.id}" in home
    for method, url in _permit_urls(permit.number)[:2]:
        assert browser.open(url, method=method).status_code == 200, url
    assert owns_permit(holder, permit) and owns_application(holder, application)
    _, stranger = _client(app, "altro@example.org", CF_MARIO)
    _not_found_for(stranger, permit.number)


def test_omocodic_variants_are_every_spelling_of_one_person() -> None:
    variants = omocodic_variants(CF_MARIO)
    assert len(variants) == 128 and CF_MARIO in variants and "RSSMRA85T10A56NH" in variants
    assert all(codicefiscale.is_valid(v) and person_key(v) == CF_MARIO for v in variants)
    assert omocodic_variants("RSSMRA85T10A56NH") == variants  # from any spelling, the same set
    assert omocodic_variants("01234567890") == {"01234567890"}  # a partita IVA has none


def _firm_car(firm: str) -> str:
    """A car the firm owns (the register's owner is its partita IVA)."""
    plate = "GF456ZX"
    assert db.session.get(Vehicle, plate) is None, "a plate the demo city does not use"
    db.session.add(
        Vehicle(
            plate=plate,
            category="M1",
            fuel="petrol",
            euro_class=6,
            owner_id=firm,
            usage="owned",
            status="active",
        )
    )
    db.session.commit()
    return plate


def test_a_firm_s_permit_is_for_whoever_may_act_for_the_firm_now(city: Flask, app: Flask) -> None:
    """Issued at the counter for the firm (its holder is the partita IVA): its representative and
    its approved delegate reach it, whoever applied; a stranger does not; a revoked delegate no
    longer does."""
    shop = hotel_in_zone_a(accommodation=False)
    representative, boss = _client(app, "titolare@example.org", CF_MARIO)
    make_representative(shop, representative)
    delegate, helper = _client(app, "delegato@example.org", DELEGATE_CF)
    upload = representation.Upload("delega.pdf", PDF)
    delegation = representation.request_delegation(delegate, shop, upload, upload)
    representation.approve_delegation(delegation, make_user("clerk", "ufficio@example.org"))
    _, stranger = _client(app, "estraneo@example.org", STRANGER_CF)

    permit = _at_counter(shop, _firm_car(shop), category="4")
    assert permit.holder_id == shop
    for browser in (boss, helper):
        assert f"{PORTAL}permessi/{permit.number}" in browser.get(PORTAL).get_data(as_text=True)
        for method, url in _permit_urls(permit.number)[:2]:
            assert browser.open(url, method=method).status_code == 200, url
    _not_found_for(stranger, permit.number)
    draft = applications.create_draft(  # the delegate prepares the firm's next application
        delegate,
        applications.ApplicationInput(category="4", applicant_id=shop, plates=("GF457ZX",)),
    )
    draft_page = f"{PORTAL}domande/{draft}"
    assert boss.get(draft_page).status_code == 200  # a colleague's draft: the firm's
    assert stranger.get(draft_page).status_code == 404

    representation.revoke_delegation(delegation, representative)
    _not_found_for(helper, permit.number)
    assert helper.get(draft_page).status_code == 404  # the firm's, even though they made it
    assert draft_page not in helper.get(PORTAL).get_data(as_text=True)
    assert boss.get(f"{PORTAL}permessi/{permit.number}").status_code == 200
    assert boss.get(draft_page).status_code == 200


def test_the_use_case_decides_ownership_of_a_firm_s_permit_inside_its_transaction(
    city: Flask, app: Flask
) -> None:
    """The plate change and the surrender ask, under the permit's lock, whether the person owns
    the permit now: a delegate revoked after the page was shown is refused "not found", a stranger
    too, and what a delegate does is recorded with the firm and the capacity they acted in."""
    shop = hotel_in_zone_a(accommodation=False)
    representative, _ = _client(app, "titolare@example.org", CF_MARIO)
    make_representative(shop, representative)
    delegate, _ = _client(app, "delegato@example.org", DELEGATE_CF)
    stranger, _ = _client(app, "estraneo@example.org", STRANGER_CF)
    upload = representation.Upload("delega.pdf", PDF)
    delegation = representation.request_delegation(delegate, shop, upload, upload)
    representation.approve_delegation(delegation, make_user("clerk", "ufficio@example.org"))
    car = _firm_car(shop)
    permit = _at_counter(shop, car, category="4")

    with pytest.raises(ServiceError) as refused:
        change_plate(permit.number, car, "GA123BC", Actor.of_user(stranger), owner=stranger)
    assert refused.value.code == "not_found"
    with pytest.raises(ServiceError) as refused:
        surrender_permit(permit.number, Actor.of_user(stranger), owner=stranger)
    assert refused.value.code == "not_found"

    surrender_permit(permit.number, Actor.of_user(delegate), owner=delegate)
    ended = db.session.scalars(
        select(Event).where(
            Event.subject_type == "permit",
            Event.subject_id == str(permit.id),
            Event.action == PermitStatus.SURRENDERED.value,
        )
    ).one()
    assert ended.data is not None
    assert (ended.data["for_firm"], ended.data["as"], ended.data["delegation"]) == (
        shop,
        "delegate",
        delegation,
    )

    second = _at_counter(shop, car, category="4")
    representation.revoke_delegation(delegation, representative)
    with pytest.raises(ServiceError) as refused:
        change_plate(second.number, car, "GA123BC", Actor.of_user(delegate), owner=delegate)
    assert refused.value.code == "not_found"
    db.session.expire_all()
    assert db.session.get(Permit, second.id).status == PermitStatus.ACTIVE.value  # type: ignore[union-attr]


def _numbers(user: User) -> tuple[list[str], list[int]]:
    """(permit numbers, application ids) the dashboard lists, in one order."""
    board = dashboard(user)
    return sorted(p.number for p in board.permits), sorted(a.id for a in board.applications)


def test_the_export_the_dashboard_and_the_record_check_are_one_rule(city: Flask) -> None:
    """For every kind of account, the records the data export lists, the dashboard lists, the
    WHERE clause selects and the per-record check accepts are the same."""
    shop = hotel_in_zone_a(accommodation=False)
    holder = make_user("resident", "titolare@example.org", codice_fiscale=DEMO_RESIDENT)
    own = applications.create_draft(
        holder, applications.ApplicationInput(category="1", applicant_id="", plates=(DEMO_OWN_CAR,))
    )
    counter = _at_counter(DEMO_RESIDENT)
    representative = make_user("resident", "impresa@example.org", codice_fiscale=CF_MARIO)
    make_representative(shop, representative)
    firm_permit = _at_counter(shop, _firm_car(shop), category="4")
    stranger = make_user("resident", "estraneo@example.org", codice_fiscale=STRANGER_CF)
    clerk = db.session.scalar(select(User).where(User.role == "clerk"))
    # An account that claimed the holder's codice fiscale and was frozen when SPID asserted it for
    # the real person: it keeps its codice fiscale for the history, loses its person key.
    frozen = make_user("resident", "falso@example.org", codice_fiscale=DEMO_RESIDENT)
    frozen.frozen_at, frozen.person_key = dt.datetime.now(dt.UTC), None
    db.session.commit()

    # The demo's register names the demo resident among the shop's representatives too.
    assert permissions.authority_for(holder, shop) is not None
    assert counter.application_id is not None and firm_permit.application_id is not None
    expected = {
        holder.id: (
            sorted([counter.number, firm_permit.number]),
            sorted([own, counter.application_id, firm_permit.application_id]),
        ),
        representative.id: ([firm_permit.number], [firm_permit.application_id]),
        stranger.id: ([], []),
        frozen.id: ([], []),
    }
    every_permit = db.session.scalars(select(Permit)).all()
    every_application = db.session.scalars(select(Application)).all()
    for user in (holder, representative, stranger, frozen, clerk):
        assert user is not None
        permits = sorted(db.session.scalars(select(Permit.number).where(owned_permits(user))))
        apps = sorted(db.session.scalars(select(Application.id).where(owned_applications(user))))
        assert permits == sorted(p.number for p in every_permit if owns_permit(user, p)), user
        assert apps == sorted(a.id for a in every_application if owns_application(user, a)), user
        if user is clerk:  # staff own nothing: their role opens the office's pages instead
            assert (permits, apps) == ([], []), "the clerk made the counter applications"
            continue
        assert (permits, apps) == expected[user.id], user.email
        assert _numbers(user) == (permits, apps), user.email
        exported = personal_data(user)
        assert sorted(p["number"] for p in exported["permits"]) == permits, user.email
        assert sorted(a["number"] for a in exported["applications"]) == apps, user.email
