"""The clerks' back office through the browser's eyes: queue, application, decisions, documents,
permits, revocation; who may open each page; and that every page passes the accessibility audit.

Data is made through the applicant's services (draft, submit, pay, attach), as residents would.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import audit, csrf_token, login, problems_of, sign_in
from tests.factories import (
    CF_MARIO,
    DEMO_OWN_CAR,
    DEMO_RESIDENT,
    PASSWORD,
    add_household_car,
    make_user,
)
from ztl.applications import applicant as applications
from ztl.applications import clerk_queue as queue_service
from ztl.applications import decisions, documents
from ztl.demo.generator import car_plate
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import Application, Business, Document, Event, Permit, Resident, User
from ztl.permits.changes import change_plate

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MISSING_PAGE = "/pagina-che-non-esiste"
STAFF = ("clerk", "supervisor", "admin")
OUTSIDERS = ("resident", "police")


def _resident(email: str = "resident@posta.example.org", cf: str = DEMO_RESIDENT) -> User:
    return make_user("resident", email, codice_fiscale=cf)


def _waiting(
    user: User,
    plate: str = DEMO_OWN_CAR,
    category: str = "15",
    zones: tuple[str, ...] = (),
    at: dt.datetime | None = None,
    document: bool = False,
) -> int:
    """An application drafted, (optionally) documented, submitted and paid: in the clerks' queue."""
    data = applications.ApplicationInput(
        category=category, applicant_id="", plates=(plate,), zones=zones
    )
    application_id = applications.create_draft(user, data, at=at)
    if document:
        documents.attach_document(application_id, user, "lease_or_deed", "contratto.pdf", PDF)
    applications.submit_application(
        application_id, user, at=at, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(application_id, user, at=at)
    return application_id


def _application(application_id: int) -> Application:
    db.session.expire_all()
    found = db.session.get(Application, application_id)
    assert found is not None
    return found


def _token(client: FlaskClient) -> str:
    return csrf_token(client, MISSING_PAGE)


@pytest.fixture
def office(city: Flask) -> Iterator[dict[str, object]]:
    """A waiting application with a document, and a permit issued to the same resident."""
    resident = _resident()
    waiting = _waiting(resident, document=True)
    issued = _waiting(resident, category="1")
    permit = db.session.scalars(select(Permit).where(Permit.application_id == issued)).one()
    document_id = db.session.scalars(
        select(Document.id).where(Document.application_id == waiting)
    ).one()
    yield {
        "resident": resident,
        "waiting": waiting,
        "issued": issued,
        "permit": permit.number,
        "document": document_id,
    }


# --- who may open what -------------------------------------------------------------------------


def test_every_clerk_route_is_guarded_by_role(app: Flask, office: dict[str, object]) -> None:
    waiting, number, document = office["waiting"], office["permit"], office["document"]
    pages = [
        "/ufficio/",
        f"/ufficio/domande/{waiting}",
        f"/ufficio/documenti/{document}",
        f"/ufficio/permessi/{number}",
        f"/ufficio/permessi/{number}/pdf",
    ]
    # Empty forms: a clerk gets "write the reason" and nothing changes (approve has no required field,
    # so it is posted to the issued application, where it changes nothing either).
    actions = [
        f"/ufficio/domande/{office['issued']}/approva",
        f"/ufficio/domande/{waiting}/respingi",
        f"/ufficio/domande/{waiting}/chiedi-documenti",
        f"/ufficio/permessi/{number}/revoca",
    ]
    anonymous = app.test_client()
    for path in pages:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/accedi" in response.headers["Location"], path
    token = _token(anonymous)
    for path in actions:
        response = anonymous.post(path, data={"csrf_token": token})
        assert response.status_code == 302 and "/accedi" in response.headers["Location"], path
    for role in OUTSIDERS:
        client = app.test_client()
        sign_in(client, role)
        token = _token(client)
        assert [client.get(p).status_code for p in pages] == [403] * len(pages), role
        posted = [client.post(p, data={"csrf_token": token}).status_code for p in actions]
        assert posted == [403] * len(actions), role
    for role in STAFF:
        client = app.test_client()
        sign_in(client, role)
        token = _token(client)
        assert [client.get(p).status_code for p in pages] == [200] * len(pages), role
        posted = [client.post(p, data={"csrf_token": token}).status_code for p in actions]
        assert posted == [303] * len(actions), role
    assert _application(int(str(waiting))).status == "under_review"
    assert db.session.scalar(select(Permit.status).where(Permit.number == number)) == "active"


def test_a_post_without_csrf_token_is_refused(app: Flask, office: dict[str, object]) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    waiting, number = office["waiting"], office["permit"]
    for path, data in (
        (f"/ufficio/domande/{waiting}/approva", {}),
        (f"/ufficio/domande/{waiting}/respingi", {"reason": "no"}),
        (f"/ufficio/domande/{waiting}/chiedi-documenti", {"message": "contratto"}),
        (f"/ufficio/permessi/{number}/revoca", {"reason": "no"}),
    ):
        assert client.post(path, data=data).status_code == 400, path
    assert _application(int(str(waiting))).status == "under_review"
    assert db.session.scalar(select(func.count()).select_from(Permit)) == 1


def test_missing_objects_are_not_found(app: Flask, office: dict[str, object]) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    token = _token(client)
    for path in (
        "/ufficio/domande/999999",
        "/ufficio/documenti/999999",
        "/ufficio/permessi/PO-2026-999999",
        "/ufficio/permessi/PO-2026-999999/pdf",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.post("/ufficio/domande/999999/approva", data={"csrf_token": token}).status_code
        == 404
    )
    reject = {"csrf_token": token, "reason": "x"}
    assert client.post("/ufficio/domande/999999/respingi", data=reject).status_code == 404
    revoke = {"csrf_token": token, "reason": "x"}
    assert client.post("/ufficio/permessi/PO-2026-999999/revoca", data=revoke).status_code == 404
    # A document whose file has gone from the disk: "not found", not a 500.
    stored = db.session.get(Document, office["document"])
    assert stored is not None
    (Path(app.config["ZTL_UPLOAD_DIR"]) / stored.stored_name).unlink()
    assert client.get(f"/ufficio/documenti/{office['document']}").status_code == 404


# --- the queue --------------------------------------------------------------------------------------


def _rows(html: str) -> list[int]:
    """Application numbers listed in the queue table, in order."""
    return [int(n) for n in re.findall(r'href="/ufficio/domande/(\d+)"', html)]


def test_queue_filters_search_and_sorts(app: Flask, city: Flask) -> None:
    now = dt.datetime.now(dt.UTC)
    mario, other = _resident(), _resident("other@posta.example.org", CF_MARIO)
    old = _waiting(mario, car_plate(11), at=now - dt.timedelta(days=10))
    zone_a = _waiting(mario, car_plate(12), zones=("A",), at=now - dt.timedelta(days=3))
    others = _waiting(other, car_plate(13), at=now - dt.timedelta(days=1))
    issued = _waiting(mario, category="1")
    number = db.session.scalars(select(Permit.number).where(Permit.application_id == issued)).one()
    client = app.test_client()
    sign_in(client, "clerk")

    def rows(query: str) -> list[int]:
        response = client.get("/ufficio/" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return _rows(response.get_data(as_text=True))

    assert rows("") == [old, zone_a, others]  # waiting, oldest first
    assert rows("?ordine=newest") == [others, zone_a, old]
    assert rows("?stato=issued") == [issued]
    assert rows("?stato=all&ordine=newest")[0] == issued
    assert rows("?categoria=15") == [old, zone_a, others]
    assert rows("?categoria=1") == []
    assert rows("?zona=B") == [old, others]
    assert rows("?eta=2") == [old, zone_a]
    assert rows("?eta=5") == [old]
    assert rows(f"?q={car_plate(12).lower()}") == [zone_a]
    assert rows(f"?q={CF_MARIO}") == [others]
    assert rows(f"?q={DEMO_RESIDENT}") == [old, zone_a, issued]  # a search spans statuses
    assert rows(f"?q={old}") == [old]
    assert rows(f"?stato=all&q={number}") == [issued]
    assert rows("?q=%3F%3F%3F") == []
    html = client.get("/ufficio/?stato=all").get_data(as_text=True)
    assert "Domande trovate: 4." in html


def test_search_finds_plates_past_and_present_permits_and_surnames(app: Flask, city: Flask) -> None:
    mario, other = _resident(), _resident("other@posta.example.org", CF_MARIO)
    waiting = _waiting(other, car_plate(31))
    issued = _waiting(mario, category="1")
    number = db.session.scalars(select(Permit.number).where(Permit.application_id == issued)).one()
    new_plate = add_household_car(car_plate(32))
    change_plate(number, DEMO_OWN_CAR, new_plate, Actor.of_user(mario))
    resident = db.session.get(Resident, DEMO_RESIDENT)
    assert resident is not None
    client = app.test_client()
    sign_in(client, "clerk")

    def rows(query: str) -> list[int]:
        response = client.get("/ufficio/?q=" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return _rows(response.get_data(as_text=True))

    # The plate the permit carries since the change, and the one the application asked for.
    assert rows(new_plate.lower()) == [issued]
    assert rows(DEMO_OWN_CAR) == [issued]
    # A permit number under the default filter (waiting for a clerk): the issued application.
    replacement = db.session.scalars(
        select(Permit.number).where(
            Permit.application_id == issued, Permit.replaces_id.is_not(None)
        )
    ).one()
    assert rows(number) == [issued]
    assert rows(replacement.lower()) == [issued]
    # A surname, any case, or its first letters; the other applicant is not in the anagrafe.
    assert rows(resident.family_name.lower()) == [issued]
    assert rows(resident.family_name[:3].upper()) == [issued]
    assert rows(f"{CF_MARIO[:3]}".lower()) == []
    assert rows(CF_MARIO.lower()) == [waiting]
    assert rows("Test") == []  # a given name is not a surname


def test_queue_shows_names_not_only_codici_fiscali(app: Flask, city: Flask) -> None:
    mario, other = _resident(), _resident("other@posta.example.org", CF_MARIO)
    first = _waiting(mario, car_plate(41))
    second = _waiting(other, car_plate(42))
    resident = db.session.get(Resident, DEMO_RESIDENT)
    assert resident is not None
    client = app.test_client()
    sign_in(client, "clerk")
    html = client.get("/ufficio/").get_data(as_text=True)
    assert _rows(html) == [first, second]
    cells = re.findall(r"<td>([^<]*)<br><span class=\"small\">([A-Z0-9]{16})</span></td>", html)
    # From the anagrafe; the other person is not a resident: the name on their account.
    assert cells == [
        (f"{resident.given_name} {resident.family_name}", DEMO_RESIDENT),
        ("Test resident", CF_MARIO),
    ]
    # A firm is named by the business register.
    firm = db.session.scalars(select(Business).order_by(Business.partita_iva)).first()
    assert firm is not None
    assert queue_service.applicant_names({firm.partita_iva, "00000000000"}) == {
        firm.partita_iva: firm.name
    }


@pytest.mark.parametrize(
    "text",
    ["%25", "_", "'", "ross%25", "PO--", "0" * 16, "A" * 16, "12345678901", "\u00d1", "--"],
)
def test_odd_searches_answer_with_nothing_not_an_error(
    app: Flask, office: dict[str, object], text: str
) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    response = client.get(f"/ufficio/?q={text}")
    assert response.status_code == 200
    assert "Nessuna domanda corrisponde ai filtri." in response.get_data(as_text=True)
    assert client.get("/ufficio/?q=" + "x" * 41).status_code == 400


def test_queue_pages_keep_the_filters(
    app: Flask, city: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_service, "PER_PAGE", 2)
    mario = _resident()
    made = [_waiting(mario, car_plate(20 + i)) for i in range(3)]
    client = app.test_client()
    sign_in(client, "clerk")
    first = client.get("/ufficio/?ordine=newest&categoria=15").get_data(as_text=True)
    assert _rows(first) == [made[2], made[1]]
    assert "Domande trovate: 3." in first
    assert re.search(r'href="/ufficio/\?pagina=1[^"]*" aria-current="page"', first)
    link = re.search(r'href="(/ufficio/\?pagina=2[^"]*)"', first)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert "ordine=newest" in target and "categoria=15" in target
    second = client.get(target).get_data(as_text=True)
    assert _rows(second) == [made[0]]
    assert re.search(r'href="/ufficio/\?pagina=2[^"]*" aria-current="page"', second)
    # A page past the end shows the last one.
    assert _rows(client.get("/ufficio/?pagina=99&ordine=newest").get_data(as_text=True)) == [
        made[0]
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?stato=bogus", "non è tra quelli dell&#39;elenco"),
        ("?ordine=sideways", "non è tra quelli dell&#39;elenco"),
        ("?categoria=ZZ", "non è tra quelli dell&#39;elenco"),
        ("?eta=abc", "Scrivi un numero di giorni"),
        ("?eta=-1", "Scrivi un numero di giorni"),
        ("?pagina=x", "Il numero di pagina non è valido"),
        ("?pagina=0", "Il numero di pagina non è valido"),
    ],
)
def test_bad_filters_get_a_message_not_an_error(
    app: Flask, city: Flask, query: str, message: str
) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    response = client.get("/ufficio/" + query)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Correggi i filtri" in html
    assert message in html


def test_flagged_permits_link_to_their_page(app: Flask, office: dict[str, object]) -> None:
    permit = db.session.scalars(select(Permit).where(Permit.number == office["permit"])).one()
    permit.flagged_at = dt.datetime.now(dt.UTC)
    permit.flag_checks = [
        {
            "id": "residency",
            "status": "fail",
            "message": {"it": "Non più residente", "en": "No longer resident"},
            "evidence": {},
        }
    ]
    db.session.commit()
    client = app.test_client()
    sign_in(client, "clerk")
    html = client.get("/ufficio/").get_data(as_text=True)
    assert f'href="/ufficio/permessi/{permit.number}"' in html and "Non più residente" in html
    page = client.get(f"/ufficio/permessi/{permit.number}").get_data(as_text=True)
    assert "Non più residente" in page


# --- the application page and the decisions ------------------------------------------------------


def test_application_page_shows_checks_documents_and_forms(
    app: Flask, office: dict[str, object]
) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    waiting = office["waiting"]
    html = client.get(f"/ufficio/domande/{waiting}").get_data(as_text=True)
    stored = _application(int(str(waiting)))
    assert DEMO_RESIDENT in html and DEMO_OWN_CAR in html
    assert stored.verdict
    first = stored.verdict[0]
    assert first["message"]["it"] in html
    assert "<dl" in html
    assert f'href="/ufficio/documenti/{office["document"]}"' in html and "contratto.pdf" in html
    assert stored.payment_reference and stored.payment_reference in html
    for action in ("approva", "respingi", "chiedi-documenti"):
        assert f'action="/ufficio/domande/{waiting}/{action}"' in html
    assert "resident@posta.example.org" in html  # who submitted, in the history
    # The check messages follow the language.
    client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": _token(client)})
    english = client.get(f"/ufficio/domande/{waiting}").get_data(as_text=True)
    assert first["message"]["en"] in english


def test_approve_issues_a_permit_with_a_pdf(app: Flask, office: dict[str, object]) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    waiting = office["waiting"]
    page = f"/ufficio/domande/{waiting}"
    response = client.post(
        f"{page}/approva", data={"csrf_token": _token(client), "note": "Contratto verificato"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(page)
    assert _application(int(str(waiting))).status == "issued"
    number = db.session.scalars(select(Permit.number).where(Permit.application_id == waiting)).one()
    html = client.get(page).get_data(as_text=True)
    assert f"Domanda approvata: rilasciato il permesso {number}." in html
    assert f'href="/ufficio/permessi/{number}"' in html
    assert 'action="/ufficio/domande/' not in html  # no decision forms once decided
    permit_page = client.get(f"/ufficio/permessi/{number}").get_data(as_text=True)
    assert f'href="/ufficio/permessi/{number}/pdf"' in permit_page
    pdf = client.get(f"/ufficio/permessi/{number}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="{number}.pdf"'
    # Approving again changes nothing: the same permit, a message that says so.
    again = client.post(f"{page}/approva", data={"csrf_token": _token(client)})
    assert again.status_code == 303
    assert f"il permesso {number} esisteva già" in client.get(page).get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Permit)) == 2


def test_approving_against_a_failing_check_needs_a_reason_the_history_keeps(
    app: Flask, office: dict[str, object]
) -> None:
    waiting = int(str(office["waiting"]))
    stored = _application(waiting)
    assert stored.verdict
    failing = dict(stored.verdict[0], status="fail")
    stored.verdict = [failing, *stored.verdict[1:]]
    db.session.commit()
    client = app.test_client()
    sign_in(client, "clerk")
    page = f"/ufficio/domande/{waiting}"
    html = client.get(page).get_data(as_text=True)
    assert "per approvarla serve un motivo, che resta nella storia." in html
    assert re.search(r'<textarea[^>]*name="note"[^>]*required', html)
    refused = client.post(f"{page}/approva", data={"csrf_token": _token(client), "note": "  "})
    assert refused.status_code == 303
    assert (
        "La domanda non supera alcuni controlli: per approvarla lo stesso scrivi il motivo nella "
        "nota, che resta nella storia della domanda."
    ) in client.get(page).get_data(as_text=True)
    assert _application(waiting).status == "under_review"
    with pytest.raises(ServiceError) as refusal:
        decisions.approve(waiting, Actor(label="clerk"))
    assert refusal.value.code == "override_reason_missing"
    reason = "Residenza verificata in anagrafe dopo il cambio di indirizzo"
    approved = client.post(f"{page}/approva", data={"csrf_token": _token(client), "note": reason})
    assert approved.status_code == 303
    assert _application(waiting).status == "issued"
    event = db.session.scalars(
        select(Event).where(
            Event.subject_type == "application",
            Event.subject_id == str(waiting),
            Event.action == "approved",
        )
    ).one()
    assert (event.reason, event.data) == (reason, {"overruled_checks": [failing["id"]]})
    assert f"<td>{reason}</td>" in client.get(page).get_data(as_text=True)


def test_reject_needs_a_reason_and_the_resident_reads_it(
    app: Flask, office: dict[str, object]
) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    waiting = office["waiting"]
    page = f"/ufficio/domande/{waiting}"
    empty = client.post(f"{page}/respingi", data={"csrf_token": _token(client), "reason": "  "})
    assert empty.status_code == 303
    assert "Scrivi il motivo del rifiuto." in client.get(page).get_data(as_text=True)
    assert _application(int(str(waiting))).status == "under_review"
    reason = "Il contratto non è registrato"
    done = client.post(f"{page}/respingi", data={"csrf_token": _token(client), "reason": reason})
    assert done.status_code == 303
    stored = _application(int(str(waiting)))
    assert (stored.status, stored.decision_reason) == ("rejected", reason)
    # A decision on a decided application: a message, nothing changes.
    late = client.post(f"{page}/approva", data={"csrf_token": _token(client)})
    assert late.status_code == 303
    assert "già stata decisa" in client.get(page).get_data(as_text=True)
    late = client.post(
        f"{page}/chiedi-documenti", data={"csrf_token": _token(client), "message": "altro"}
    )
    assert late.status_code == 303
    stored = _application(int(str(waiting)))
    assert (stored.status, stored.decision_reason) == ("rejected", reason)
    assert db.session.scalar(select(func.count()).select_from(Permit)) == 1
    resident = app.test_client()
    assert login(resident, "resident@posta.example.org", PASSWORD).status_code == 302
    seen = resident.get(f"/area-personale/domande/{waiting}").get_data(as_text=True)
    assert reason in seen


def test_asking_for_documents_is_recorded_in_the_history(
    app: Flask, office: dict[str, object]
) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    waiting = office["waiting"]
    page = f"/ufficio/domande/{waiting}"
    empty = client.post(f"{page}/chiedi-documenti", data={"csrf_token": _token(client)})
    assert empty.status_code == 303
    assert "Scrivi quali documenti servono." in client.get(page).get_data(as_text=True)
    message = "Allegare il contratto registrato all'Agenzia delle Entrate"
    asked = client.post(
        f"{page}/chiedi-documenti", data={"csrf_token": _token(client), "message": message}
    )
    assert asked.status_code == 303
    assert _application(int(str(waiting))).status == "documents_requested"
    event = db.session.scalars(
        select(Event).where(Event.subject_id == str(waiting), Event.action == "documents_requested")
    ).one()
    assert event.reason == message and event.actor_label == "clerk@comune.example.org"
    html = client.get(page).get_data(as_text=True)
    assert "Richiesta di documenti inviata" in html
    assert message.replace("'", "&#39;") in html and "clerk@comune.example.org" in html
    # Still open for a decision: the forms stay.
    assert f'action="{page}/approva"' in html


def test_revoke_needs_a_reason_and_ends_the_permit(app: Flask, office: dict[str, object]) -> None:
    client = app.test_client()
    sign_in(client, "supervisor")
    number = office["permit"]
    page = f"/ufficio/permessi/{number}"
    html = client.get(page).get_data(as_text=True)
    assert f'action="{page}/revoca"' in html and DEMO_RESIDENT in html
    assert client.post(f"{page}/revoca", data={"csrf_token": _token(client)}).status_code == 303
    assert "Scrivi il motivo della revoca." in client.get(page).get_data(as_text=True)
    assert db.session.scalar(select(Permit.status).where(Permit.number == number)) == "active"
    reason = "Veicolo venduto"
    done = client.post(f"{page}/revoca", data={"csrf_token": _token(client), "reason": reason})
    assert done.status_code == 303 and done.headers["Location"].endswith(page)
    db.session.expire_all()
    permit = db.session.scalars(select(Permit).where(Permit.number == number)).one()
    assert (permit.status, permit.end_reason) == ("revoked", reason)
    html = client.get(page).get_data(as_text=True)
    assert f"Permesso {number} revocato" in html
    assert f'action="{page}/revoca"' not in html and reason in html
    again = client.post(f"{page}/revoca", data={"csrf_token": _token(client), "reason": "ancora"})
    assert again.status_code == 303
    assert "non si può revocare" in client.get(page).get_data(as_text=True)


def test_document_download_sends_the_bytes_as_an_attachment(
    app: Flask, office: dict[str, object]
) -> None:
    client = app.test_client()
    sign_in(client, "clerk")
    response = client.get(f"/ufficio/documenti/{office['document']}")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "contratto.pdf" in response.headers["Content-Disposition"]


# --- accessibility -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["it", "en"])
def test_clerk_pages_pass_the_audit(
    app: Flask, office: dict[str, object], monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    monkeypatch.setattr(queue_service, "PER_PAGE", 1)
    _waiting(_resident("other@posta.example.org", CF_MARIO), car_plate(30))
    client = app.test_client()
    sign_in(client, "admin")
    if language != "it":
        client.post("/lingua", data={"lang": language, "next": "/", "csrf_token": _token(client)})
    waiting, issued, number = office["waiting"], office["issued"], office["permit"]
    paths = [
        "/ufficio/",
        "/ufficio/?pagina=2&ordine=newest",
        "/ufficio/?stato=bogus&eta=x",
        f"/ufficio/domande/{waiting}",
        f"/ufficio/domande/{issued}",
        f"/ufficio/permessi/{number}",
    ]
    report = {p: problems_of(audit(client.get(p).get_data(as_text=True)), language) for p in paths}
    assert {p: found for p, found in report.items() if found} == {}
