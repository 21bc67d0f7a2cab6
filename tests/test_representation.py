"""Acting for a firm: only its legal representatives (business register) and approved delegates.

The misuse this closes: anyone who typed a firm's partita IVA applied for its permits, bought its
hotel booklets and registered its guests. Here: the register's representatives act; a delegate
acts once a clerk approves the delegation and no longer once it is revoked (by the delegate, a
representative or a clerk); a stranger, a pending, refused or revoked delegation get nothing; the
businesses file's `legal_representatives` column fills the register; every action for a firm
records the firm and the capacity; the pages (the person's "Imprese", the clerk's queue and
request) do what they say. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import html as markup
import io
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import audit, csrf_token, post_form, problems_of, sign_in
from tests.factories import CF_MARIO, DEMO_RESIDENT, make_representative, make_user
from ztl import permissions
from ztl.accounts import representation
from ztl.applications import applicant as applications
from ztl.applications import hotel_guests
from ztl.applications.documents import upload_folder
from ztl.demo.generator import car_plate, codice_fiscale, partita_iva
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import (
    Application,
    Business,
    BusinessRepresentative,
    Event,
    FirmDelegation,
    FirmDelegationDocument,
    HotelBooklet,
    User,
)
from ztl.records.personal_data import personal_data
from ztl.registries.importer import import_registry
from ztl.values.fiscal import person_key

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
STRANGER_CF = codice_fiscale(1000)  # a valid codice fiscale no firm of the demo names
DELEGATE_CF = codice_fiscale(1001)
CF_MARIO_OMO = "RSSMRA85T10A56NH"  # an omocodic variant of CF_MARIO
FIRM_CATEGORY = "4"  # business seat in the zone: applied for with the firm's partita IVA

pytestmark = pytest.mark.usefixtures("quiet_mail")


def _hotel() -> str:
    from tests.factories import hotel_in_zone_a

    return hotel_in_zone_a(accommodation=True)


def _shop() -> str:
    from tests.factories import hotel_in_zone_a

    return hotel_in_zone_a(accommodation=False)


def _person(email: str, cf: str) -> User:
    return make_user("resident", email, codice_fiscale=cf)


def _clerk(email: str = "ufficio@comune.example.org") -> User:
    return make_user("clerk", email)


def _upload(name: str = "delega.pdf", data: bytes = PDF) -> representation.Upload:
    return representation.Upload(name, data)


def _ask(user: User, firm: str) -> int:
    return representation.request_delegation(user, firm, _upload(), _upload("carta.png", PNG))


def _approved_delegate(firm: str, email: str = "delegato@example.org") -> User:
    user = _person(email, DELEGATE_CF)
    representation.approve_delegation(_ask(user, firm), _clerk())
    return user


def _firm_draft(user: User, firm: str) -> int:
    data = applications.ApplicationInput(
        category=FIRM_CATEGORY, applicant_id=firm, plates=(car_plate(5_000_010),)
    )
    return applications.create_draft(user, data)


def _events(subject: str, subject_id: int | str, action: str) -> list[Event]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Event).where(
                Event.subject_type == subject,
                Event.subject_id == str(subject_id),
                Event.action == action,
            )
        )
    )


def _stored_files() -> int:
    """Files in the upload folder (shared by the tests of a session: compare counts)."""
    folder = upload_folder()
    return len(list(folder.iterdir())) if folder.exists() else 0


def _guest(plate_index: int) -> hotel_guests.GuestRegistration:
    return hotel_guests.GuestRegistration(
        car_plate(5_000_000 + plate_index), NOW - dt.timedelta(hours=3), 1
    )


# --- who has authority ------------------------------------------------------------------------


def test_the_register_s_representatives_act_for_their_firm(city: Flask) -> None:
    shop = _shop()
    boss = _person("titolare@example.org", CF_MARIO)
    assert permissions.authority_for(boss, shop) is None
    make_representative(shop, CF_MARIO_OMO)  # the register wrote another variant of the code
    authority = permissions.authority_for(boss, shop)
    assert authority is not None and authority.capacity == "representative"
    app_id = _firm_draft(boss, shop)
    application = db.session.get(Application, app_id)
    assert application is not None and application.applicant_id == shop
    (drafted,) = _events("application", app_id, "drafted")
    assert drafted.data == {"for_firm": shop, "as": "representative"}
    assert drafted.actor_user_id == boss.id
    roles = representation.firms_of(boss)
    assert [(r.partita_iva, r.capacity) for r in roles] == [(shop, "representative")]
    assert roles[0].name == db.session.get(Business, shop).name  # type: ignore[union-attr]


def test_a_stranger_typing_the_partita_iva_is_refused_everywhere(city: Flask) -> None:
    """What used to work: any account applied, bought a booklet, registered guests for a firm."""
    stranger = _person("estraneo@example.org", STRANGER_CF)
    shop, hotel = _shop(), _hotel()
    with pytest.raises(applications.ApplicationInputError) as applying:
        _firm_draft(stranger, shop)
    assert (applying.value.code, applying.value.field) == ("not_representative", "applicant_id")
    assert "neither a legal representative nor an approved delegate" in str(applying.value)
    with pytest.raises(ServiceError) as buying:
        hotel_guests.buy_booklet(stranger, hotel)
    assert buying.value.code == "not_representative"
    # The hotel's own representative bought and paid a booklet: the stranger still cannot use it.
    owner = _person("albergatore@example.org", DEMO_RESIDENT)
    booklet = hotel_guests.buy_booklet(owner, hotel)
    hotel_guests.pay_booklet(booklet.id, owner)
    with pytest.raises(ServiceError) as registering:
        hotel_guests.register_guest(stranger, hotel, _guest(1))
    assert registering.value.code == "not_representative"
    with pytest.raises(ServiceError) as batch:
        hotel_guests.register_guest_batch(
            stranger, hotel, f"{car_plate(5_000_002)},{NOW.isoformat()},1\n"
        )
    assert batch.value.code == "not_representative"
    with pytest.raises(ServiceError) as paying:
        hotel_guests.pay_booklet(booklet.id, stranger)
    assert paying.value.code == "not_found"
    assert hotel_guests.booklets_of(stranger) == []
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0
    db.session.expire_all()
    assert db.session.get(HotelBooklet, booklet.id).used == 0  # type: ignore[union-attr]


def test_an_approved_delegate_acts_and_the_events_say_so(city: Flask) -> None:
    shop = _shop()
    delegate = _person("delegato@example.org", DELEGATE_CF)
    delegation_id = _ask(delegate, shop)
    assert permissions.authority_for(delegate, shop) is None  # pending: nothing yet
    with pytest.raises(applications.ApplicationInputError):
        _firm_draft(delegate, shop)
    representation.approve_delegation(delegation_id, _clerk())
    authority = permissions.authority_for(delegate, shop)
    assert authority == permissions.Authority(shop, "delegate", delegation_id)
    app_id = _firm_draft(delegate, shop)
    # The checks fail (no document yet): sending it asks for the office's review, with a reason.
    reason = "Il documento lo porto allo sportello."
    applications.submit_application(app_id, delegate, review_reason=reason)
    (submitted,) = _events("application", app_id, "submitted")
    assert submitted.data == {
        "for_firm": shop,
        "as": "delegate",
        "delegation": delegation_id,
        "review_reason": reason,
    }
    assert [(r.partita_iva, r.capacity) for r in representation.firms_of(delegate)] == [
        (shop, "delegate")
    ]
    exported = personal_data(delegate)["firm_delegations"]  # the person's own data, GDPR export
    assert [(d["firm"], d["status"], len(d["documents"])) for d in exported] == [
        (shop, "approved", 2)
    ]


def test_refused_revoked_and_pending_delegations_give_no_authority(city: Flask) -> None:
    shop = _shop()
    clerk = _clerk()
    pending = _person("attesa@example.org", codice_fiscale(1002))
    _ask(pending, shop)
    refused = _person("rifiutato@example.org", codice_fiscale(1003))
    refused_id = _ask(refused, shop)
    with pytest.raises(ServiceError) as no_reason:
        representation.refuse_delegation(refused_id, clerk, "   ")
    assert no_reason.value.code == "reason_missing"
    representation.refuse_delegation(refused_id, clerk, "La delega non è firmata.")
    revoked = _person("revocato@example.org", codice_fiscale(1004))
    revoked_id = _ask(revoked, shop)
    representation.approve_delegation(revoked_id, clerk)
    representation.revoke_delegation(revoked_id, revoked)
    for person in (pending, refused, revoked):
        assert permissions.authority_for(person, shop) is None, person.email
        assert representation.firms_of(person) == []
        with pytest.raises(applications.ApplicationInputError) as refused_draft:
            _firm_draft(person, shop)
        assert refused_draft.value.code == "not_representative"
    with pytest.raises(ServiceError) as again:
        representation.approve_delegation(refused_id, clerk)
    assert again.value.code == "delegation_decided"
    stored = db.session.get(FirmDelegation, refused_id)
    assert stored is not None and stored.decision_reason == "La delega non è firmata."
    assert stored.decided_by_id == clerk.id and stored.decided_at is not None


@pytest.mark.parametrize("revoker", ["delegate", "representative", "clerk"])
def test_the_delegate_a_representative_or_a_clerk_may_revoke(city: Flask, revoker: str) -> None:
    shop = _shop()
    delegate = _approved_delegate(shop)
    app_id = _firm_draft(delegate, shop)  # a draft made while the delegation held
    boss = _person("titolare@example.org", CF_MARIO)
    make_representative(shop, boss)
    by = {"delegate": delegate, "representative": boss, "clerk": _clerk("altro@comune.example.org")}
    stranger = _person("estraneo@example.org", STRANGER_CF)
    (delegation,) = db.session.scalars(select(FirmDelegation)).all()
    with pytest.raises(ServiceError) as not_theirs:
        representation.revoke_delegation(delegation.id, stranger)
    assert not_theirs.value.code == "not_found"
    representation.revoke_delegation(delegation.id, by[revoker], "non lavora più qui")
    db.session.expire_all()
    stored = db.session.get(FirmDelegation, delegation.id)
    assert stored is not None and stored.status == "revoked"
    assert stored.revoked_by_id == by[revoker].id and stored.revoked_at is not None
    (event,) = _events("delegation", delegation.id, "delegation_revoked")
    assert event.data["as"] == revoker and event.data["firm"] == shop
    assert event.actor_user_id == by[revoker].id and event.reason == "non lavora più qui"
    assert permissions.authority_for(delegate, shop) is None
    with pytest.raises(ServiceError) as submit:  # the draft cannot be sent any more
        applications.submit_application(app_id, delegate)
    assert submit.value.code == "not_representative"
    with pytest.raises(ServiceError) as twice:
        representation.revoke_delegation(delegation.id, by[revoker])
    assert twice.value.code == "not_revocable"


def test_asking_twice_or_as_a_representative_is_refused_and_the_database_agrees(
    city: Flask,
) -> None:
    shop = _shop()
    person = _person("delegato@example.org", DELEGATE_CF)
    before = _stored_files()
    first = _ask(person, shop)
    with pytest.raises(ServiceError) as twice:
        _ask(person, shop)
    assert twice.value.code == "delegation_exists"
    boss = _person("titolare@example.org", DEMO_RESIDENT)  # the demo names them for the shop
    with pytest.raises(ServiceError) as needless:
        _ask(boss, shop)
    assert needless.value.code == "already_representative"
    with pytest.raises(ServiceError) as unknown:
        _ask(person, "01234560025")  # a valid partita IVA of no firm in the register
    assert unknown.value.code == "firm_unknown"
    with pytest.raises(ServiceError) as invalid:
        _ask(person, "12345")
    assert invalid.value.code == "firm_invalid"
    # The backstop: a second live delegation of one person for one firm is refused by the index.
    db.session.add(FirmDelegation(partita_iva=shop, delegate_user_id=person.id, status="approved"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    representation.refuse_delegation(first, _clerk(), "manca la firma")
    assert _ask(person, shop) != first  # once refused, the person may ask again
    stored = db.session.scalars(select(FirmDelegationDocument.stored_name)).all()
    assert len(stored) == 4 and all((upload_folder() / name).is_file() for name in stored)
    assert _stored_files() == before + 4  # two files per request, none left by the refusals


def test_the_documents_are_checked_like_an_application_s(city: Flask) -> None:
    person = _person("delegato@example.org", DELEGATE_CF)
    shop = _shop()
    before = _stored_files()
    for data, code in ((b"", "empty"), (b"<html>", "type")):
        with pytest.raises(ServiceError) as refused:
            representation.request_delegation(person, shop, _upload(), _upload("x.pdf", data))
        assert refused.value.code == code
    assert db.session.scalar(select(func.count()).select_from(FirmDelegation)) == 0
    assert _stored_files() == before
    delegation_id = _ask(person, shop)
    documents = db.session.scalars(
        select(FirmDelegationDocument).where(FirmDelegationDocument.delegation_id == delegation_id)
    ).all()
    assert sorted((d.kind, d.content_type) for d in documents) == [
        ("delegation_form", "application/pdf"),
        ("identity_document", "image/png"),
    ]
    (requested,) = _events("delegation", delegation_id, "delegation_requested")
    assert requested.data["firm"] == shop and requested.actor_user_id == person.id


# --- hotels: booklets belong to the hotel -----------------------------------------------------


def test_a_delegate_uses_the_booklet_a_representative_bought(city: Flask) -> None:
    hotel = _hotel()
    owner = _person("albergatore@example.org", DEMO_RESIDENT)
    booklet = hotel_guests.buy_booklet(owner, hotel)
    (requested,) = _events("booklet", booklet.id, "requested")
    assert requested.data == {"for_firm": hotel, "as": "representative"}
    receptionist = _approved_delegate(hotel, "reception@example.org")
    assert [b.id for b in hotel_guests.booklets_of(receptionist)] == [booklet.id]
    hotel_guests.pay_booklet(booklet.id, receptionist)
    number = hotel_guests.register_guest(receptionist, hotel, _guest(1))
    (used,) = _events("booklet", booklet.id, "used")
    assert used.data["for_firm"] == hotel and used.data["as"] == "delegate"
    assert used.data["permit"] == number and used.actor_user_id == receptionist.id
    report = hotel_guests.register_guest_batch(
        receptionist, hotel, f"{car_plate(5_000_002)},{NOW.isoformat()},1\n"
    )
    assert report[0].permit_number, report
    db.session.expire_all()
    assert db.session.get(HotelBooklet, booklet.id).used == 2  # type: ignore[union-attr]
    (delegation,) = db.session.scalars(select(FirmDelegation)).all()
    representation.revoke_delegation(delegation.id, owner)
    assert hotel_guests.booklets_of(receptionist) == []
    with pytest.raises(ServiceError) as after:
        hotel_guests.register_guest(receptionist, hotel, _guest(3))
    assert after.value.code == "not_representative"


# --- the register: the businesses file's legal_representatives -----------------------------------


def _firms_file(tmp_path: Path, rows: str, header: str | None = None) -> Path:
    path = tmp_path / "imprese.csv"
    head = header or "partita_iva,name,street,house_number,status,legal_representatives"
    path.write_text(f"{head}\n{rows}", encoding="utf-8")
    return path


def _representatives() -> dict[str, list[str]]:
    db.session.expire_all()
    found: dict[str, list[str]] = {}
    for row in db.session.scalars(
        select(BusinessRepresentative).order_by(
            BusinessRepresentative.partita_iva, BusinessRepresentative.person_key
        )
    ):
        found.setdefault(row.partita_iva, []).append(row.codice_fiscale)
    return found


def test_the_businesses_file_brings_the_legal_representatives(app: Flask, tmp_path: Path) -> None:
    shop, rent, bad = "01234560017", "00743110157", partita_iva(99)
    laura = "BNCLRA90D45D612C"
    first = _firms_file(
        tmp_path,
        f"{shop},Bottega Srl,Via Roma,1,active,{CF_MARIO} ; {laura}\n"
        f"{rent},Noleggi Srl,Via Roma,2,active,{CF_MARIO};{CF_MARIO_OMO};\n"  # one person
        f"{bad},Sbagliata Srl,Via Roma,3,active,{CF_MARIO};RSSMRA85T10A562X\n",
    )
    result = import_registry("businesses", first, actor=Actor.cli())
    assert (result.rows_imported, result.rows_rejected) == (2, 1)
    (problem,) = result.problems
    assert (problem.line, problem.column) == (4, "legal_representatives")
    assert "RSSMRA85T10A562X" in problem.reason
    assert _representatives() == {shop: [laura, CF_MARIO], rent: [CF_MARIO]}
    assert db.session.get(Business, bad) is None  # a bad column refuses the row, as always

    again = import_registry("businesses", first, actor=Actor.cli())  # unchanged: nothing moves
    assert again.rows_rejected == 1 and _representatives() == {
        shop: [laura, CF_MARIO],
        rent: [CF_MARIO],
    }

    replaced = _firms_file(
        tmp_path,
        f"{shop},Bottega Srl,Via Roma,1,active,{CF_MARIO_OMO}\n{rent},Noleggi Srl,Via Roma,2,active,\n",
    )
    import_registry("businesses", replaced, actor=Actor.cli())
    assert _representatives() == {shop: [CF_MARIO_OMO]}  # the file says who they are now
    keys = db.session.scalars(select(BusinessRepresentative.person_key)).all()
    assert keys == [person_key(CF_MARIO_OMO)] == [CF_MARIO]

    older = _firms_file(
        tmp_path,
        f"{shop},Bottega Srl,Via Roma,1,active\n",
        header="partita_iva,name,street,house_number,status",
    )
    import_registry("businesses", older, actor=Actor.cli())
    assert _representatives() == {shop: [CF_MARIO_OMO]}  # a file without the column keeps them


def test_within_one_file_the_last_row_of_a_firm_names_its_representatives(
    app: Flask, tmp_path: Path
) -> None:
    shop = "01234560017"
    path = _firms_file(
        tmp_path,
        f"{shop},Bottega Srl,Via Roma,1,active,{CF_MARIO}\n"
        f"{shop},Bottega Srl,Via Roma,1,active,BNCLRA90D45D612C\n",
    )
    result = import_registry("businesses", path, actor=Actor.cli())
    assert result.duplicates == 1
    assert _representatives() == {shop: ["BNCLRA90D45D612C"]}


# --- the pages --------------------------------------------------------------------------------


def _text(client: FlaskClient, path: str) -> str:
    """A page's HTML with its character references read (what a person sees)."""
    return markup.unescape(client.get(path).get_data(as_text=True))


def test_a_person_asks_a_clerk_approves_and_the_firm_appears(city: Flask, app: Flask) -> None:
    shop = _shop()
    name = db.session.get(Business, shop).name  # type: ignore[union-attr]
    person = app.test_client()
    sign_in(person, "resident", "delegato@example.org", DELEGATE_CF)
    page = "/area-personale/imprese"
    html = person.get(page).get_data(as_text=True)
    assert "Non operi per nessuna impresa." in html
    assert problems_of(audit(html), "it") == []
    asked = person.post(
        f"{page}/deleghe",
        data={
            "csrf_token": csrf_token(person, page),
            "partita_iva": shop,
            "delegation_form": (io.BytesIO(PDF), "delega firmata.pdf"),
            "identity_document": (io.BytesIO(PNG), "carta.png"),
        },
        content_type="multipart/form-data",
    )
    assert asked.status_code == 303, asked.get_data(as_text=True)[:500]
    html = _text(person, page)
    assert name in html and "In attesa dell'ufficio" in html

    clerk = app.test_client()
    sign_in(clerk, "clerk", "ufficio@comune.example.org")
    queue = clerk.get("/ufficio/deleghe").get_data(as_text=True)
    assert problems_of(audit(queue), "it") == []
    delegation_id = int(re.search(r"/ufficio/deleghe/(\d+)\"", queue).group(1))  # type: ignore[union-attr]
    request_page = f"/ufficio/deleghe/{delegation_id}"
    html = clerk.get(request_page).get_data(as_text=True)
    assert problems_of(audit(html), "it") == [] and name in html
    links = re.findall(r"/ufficio/deleghe/documenti/(\d+)", html)
    assert len(links) == 2
    download = clerk.get(f"/ufficio/deleghe/documenti/{links[0]}")
    assert download.status_code == 200 and download.data in (PDF, PNG)
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert person.get(f"/ufficio/deleghe/documenti/{links[0]}").status_code == 403
    approved = post_form(clerk, f"{request_page}/approva", request_page)
    assert approved.status_code == 303

    html = _text(person, page)
    assert "Approvata" in html and "Delegato" in html
    form = _text(person, f"/area-personale/domande/nuova/{FIRM_CATEGORY}")
    assert f'<option value="{shop}">{name} ({shop})</option>' in form


def test_a_refusal_s_reason_reaches_the_person_and_a_clerk_revokes(city: Flask, app: Flask) -> None:
    shop = _shop()
    person = app.test_client()
    user = sign_in(person, "resident", "delegato@example.org", DELEGATE_CF)
    refused_id = _ask(user, shop)
    clerk = app.test_client()
    sign_in(clerk, "clerk", "ufficio@comune.example.org")
    request_page = f"/ufficio/deleghe/{refused_id}"
    missing = post_form(clerk, f"{request_page}/rifiuta", request_page, **{"refuse-reason": ""})
    assert missing.status_code == 303
    assert db.session.get(FirmDelegation, refused_id).status == "requested"  # type: ignore[union-attr]
    refused = post_form(
        clerk, f"{request_page}/rifiuta", request_page, **{"refuse-reason": "Firma illeggibile"}
    )
    assert refused.status_code == 303
    assert "Firma illeggibile" in _text(person, "/area-personale/imprese")

    second = _ask(user, shop)
    representation.approve_delegation(second, make_user("clerk", "capo@comune.example.org"))
    page = f"/ufficio/deleghe/{second}"
    revoked = post_form(clerk, f"{page}/revoca", page, **{"revoke-reason": "Rapporto concluso"})
    assert revoked.status_code == 303
    db.session.expire_all()
    stored = db.session.get(FirmDelegation, second)
    assert stored is not None and stored.status == "revoked"
    assert stored.revocation_reason == "Rapporto concluso"


def test_a_representative_sees_and_revokes_the_delegations_of_the_firm(
    city: Flask, app: Flask
) -> None:
    shop = _shop()
    delegate = _approved_delegate(shop)
    boss = app.test_client()
    sign_in(boss, "resident", "titolare@example.org", CF_MARIO)
    make_representative(shop, CF_MARIO)
    page = "/area-personale/imprese"
    html = _text(boss, page)
    assert "Deleghe alle tue imprese" in html and delegate.full_name in html
    assert "Legale rappresentante" in html
    assert problems_of(audit(boss.get(page).get_data(as_text=True)), "it") == []
    (delegation,) = db.session.scalars(select(FirmDelegation)).all()
    stranger = app.test_client()
    sign_in(stranger, "resident", "estraneo@example.org", STRANGER_CF)
    path = f"{page}/deleghe/{delegation.id}/revoca"
    assert post_form(stranger, path, page).status_code == 404
    assert post_form(boss, path, page).status_code == 303
    db.session.expire_all()
    assert db.session.get(FirmDelegation, delegation.id).status == "revoked"  # type: ignore[union-attr]


def test_the_firm_application_form_refuses_a_stranger_s_partita_iva(
    city: Flask, client: FlaskClient
) -> None:
    sign_in(client, "resident", "estraneo@example.org", STRANGER_CF)
    path = f"/area-personale/domande/nuova/{FIRM_CATEGORY}"
    assert "non risulti legale rappresentante né delegato" in _text(client, path)
    response = post_form(client, path, path, applicant_id=_shop(), plate_1=car_plate(5_000_010))
    assert response.status_code == 400
    assert "Non risulti legale rappresentante" in markup.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_the_hotel_page_names_the_hotel(city: Flask, client: FlaskClient) -> None:
    hotel = _hotel()
    name = db.session.get(Business, hotel).name  # type: ignore[union-attr]
    sign_in(client, "resident", "albergatore@example.org", CF_MARIO)
    page = "/area-personale/albergo"
    assert "Non risulti legale rappresentante né delegato" in _text(client, page)
    refused = post_form(client, f"{page}/blocchetti", page, **{"booklet-hotel": hotel})
    assert refused.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(HotelBooklet)) == 0
    make_representative(hotel, CF_MARIO)
    html = _text(client, page)
    assert f"<h1>Ospiti dell'albergo: {name}</h1>" in html
    assert f'<option value="{hotel}">{name} ({hotel})</option>' in html  # the booklet's select
    assert (
        post_form(client, f"{page}/blocchetti", page, **{"booklet-hotel": hotel}).status_code == 303
    )
    booklet = db.session.scalars(select(HotelBooklet)).one()
    assert post_form(client, f"{page}/blocchetti/{booklet.id}/paga", page).status_code == 303
    html = _text(client, page)
    assert html.count(f'<option value="{hotel}">{name} ({hotel})</option>') == 3  # and the guests'
    assert f"{name} <span" in html  # the booklets' table
    assert problems_of(audit(client.get(page).get_data(as_text=True)), "it") == []


def test_the_demo_resident_acts_for_a_hotel_and_a_firm_of_the_demo(city: Flask) -> None:
    """`make run`'s resident login keeps working on the hotel and firm pages: the demo's register
    names them a legal representative of the first firms, a hotel in zone A among them."""
    demo = _person("resident@demo.example.org", DEMO_RESIDENT)
    roles = {r.partita_iva: r for r in representation.firms_of(demo)}
    assert _hotel() in roles and _shop() in roles
    assert {r.capacity for r in roles.values()} == {"representative"}
    assert [h.partita_iva for h in hotel_guests.hotels_of(demo)] == [_hotel()]
