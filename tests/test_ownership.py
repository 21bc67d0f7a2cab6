"""Ownership: a resident never reaches another resident's application, document, permit, booklet
or delegation.

The routes are taken from app.url_map, not listed by hand: every rule of the resident portal whose
URL names an owned thing (an application id, a document id, a permit number, a booklet id) is
requested by a second resident with the first one's values, for every method it accepts, and must
answer 404 (ids are guessable: "not found" says nothing about whether it exists). A new route with
an owned argument this test does not know fails it, so the rule cannot be forgotten.
"""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.test_portal_services import _hotel_in_zone_a
from tests.test_resident_pages import PDF, _apply, _post, _signed_in, _upload
from ztl.extensions import db
from ztl.models import (
    Application,
    Business,
    BusinessRepresentative,
    Document,
    Event,
    FirmDelegation,
    HotelBooklet,
    Permit,
)
from ztl.services import representation

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
    owner = _signed_in(client)
    app_id = _apply(client)
    page = f"{PORTAL}domande/{app_id}"
    assert _upload(client, page, "carta.pdf").status_code == 303
    assert _post(client, f"{page}/invia", page).status_code == 303  # type: ignore[attr-defined]
    assert _post(client, f"{page}/paga", page).status_code == 303  # type: ignore[attr-defined]
    hotel_page = f"{PORTAL}albergo"
    bought = _post(
        client, f"{hotel_page}/blocchetti", hotel_page, **{"booklet-hotel": _hotel_in_zone_a()}
    )
    assert bought.status_code == 303  # type: ignore[attr-defined]
    permit = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).one()
    document = db.session.scalars(select(Document).where(Document.application_id == app_id)).one()
    booklet = db.session.scalars(select(HotelBooklet)).one()
    paid = _post(client, f"{hotel_page}/blocchetti/{booklet.id}/paga", hotel_page)
    assert paid.status_code == 303  # type: ignore[attr-defined]
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
    _signed_in(other, "other@example.org", "RSSMRA85T10A562S")
    token = csrf_token(other, PORTAL)
    tried = []
    for rule, arguments, methods in _owned_rules(app):
        url = _url(rule, {**values, "code": "1"}) if "code" in arguments else _url(rule, values)
        for method in sorted(methods):
            kwargs = {}
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
    assert len(tried) >= 12, tried  # applications, documents, permits and booklets all covered

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
