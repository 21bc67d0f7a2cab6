"""The guided application (issue 17, part 3): what a resident walking the portal trips on.

- giving up a permit, withdrawing an application and deactivating an account act only when the
  post carries the explicit confirmation, and the confirmation says what happens to the fee;
- an ended permit reads as ended (no PDF, no windscreen advice) and leads to its successor, and a
  replacement issued without a new payment says so;
- a permit issued at once is one click from the application page;
- a missing document reads "waiting for a document", not "not eligible";
- an application the checks refuse is sent only with a request for the office's review and its
  reason, which the clerk reads;
- the multi-step application shows where the applicant is.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import PDF, apply_online, post_form, sign_in
from tests.factories import (
    DEMO_OWN_CAR,
    DEMO_RESIDENT,
    add_household_car,
    issue_resident,
    make_user,
)
from ztl.applications import applicant as applications
from ztl.applications import documents
from ztl.applications.steps import (
    CHECKS,
    DETAILS,
    DOCUMENTS,
    DONE,
    SEND_AND_PAY,
    current_step,
    step_states,
)
from ztl.eligibility.applicant_view import WAITING_FOR_DOCUMENTS, applicant_outcome
from ztl.errors import error_text_in
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import Application, Event, Permit, User
from ztl.permits.changes import change_plate
from ztl.permits.queries import (
    ENDED_EXPIRED,
    ENDED_PLATE_CHANGE,
    ENDED_SURRENDERED,
    Payment,
    holder_view,
)
from ztl.values.display import money_text
from ztl.web.context import datetime_text

HOME = "/area-personale/"
REASON = "Il contratto di affitto lo porto allo sportello: è intestato anche a me."


def _text(response: TestResponse) -> str:
    """The page's words as a person reads them: tags dropped, entities decoded, spaces folded."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(words).split())


def _permit(number: str) -> Permit:
    db.session.expire_all()
    return db.session.scalars(select(Permit).where(Permit.number == number)).one()


def _application(application_id: int) -> Application:
    db.session.expire_all()
    found = db.session.get(Application, application_id)
    assert found is not None
    return found


def _domiciled_draft(user: User) -> int:
    """A category 15 draft (decided by a clerk, a lease required) with no document attached."""
    return applications.create_draft(
        user, applications.ApplicationInput(category="15", applicant_id="", plates=(DEMO_OWN_CAR,))
    )


# --- a) confirmation before irreversible actions ----------------------------------------------------


def test_giving_up_without_the_confirmation_changes_nothing(
    city: Flask, client: FlaskClient, quiet_mail: None
) -> None:
    number = issue_resident().number
    fee = _permit(number).fee_cents
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    page = f"{HOME}permessi/{number}"

    one_click = post_form(client, f"{page}/rinuncia", page)
    assert one_click.status_code == 303
    assert one_click.headers["Location"] == f"{page}/rinuncia"
    assert _permit(number).status == "active"
    confirmation = _text(client.get(f"{page}/rinuncia"))
    assert "Per rinunciare al permesso conferma qui sotto: la rinuncia non si annulla." in (
        confirmation
    )
    assert f"Rinunciare al permesso {number}?" in confirmation
    assert (
        f"Nessun rimborso: la tariffa pagata ({money_text(fee)}) non viene restituita."
        in confirmation
    )

    confirmed = post_form(client, f"{page}/rinuncia", f"{page}/rinuncia", confirmed="yes")
    assert (confirmed.status_code, confirmed.headers["Location"]) == (303, page)
    assert _permit(number).status == "surrendered"
    # The permit page offers the dialog's link to the confirmation page only while it is active.
    assert f'href="{page}/rinuncia"' not in client.get(page).get_data(as_text=True)


def test_the_permit_page_holds_the_dialog_with_the_same_words(
    city: Flask, client: FlaskClient
) -> None:
    number = issue_resident().number
    fee = _permit(number).fee_cents
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    body = client.get(f"{HOME}permessi/{number}").get_data(as_text=True)
    assert f'href="{HOME}permessi/{number}/rinuncia" data-ztl-confirm="confirm-surrender"' in body
    dialog = body[body.index('<dialog id="confirm-surrender"') : body.index("</dialog>")]
    assert 'aria-labelledby="confirm-surrender-title"' in dialog
    assert '<input type="hidden" name="confirmed" value="yes">' in dialog
    assert f"({money_text(fee)}) non viene restituita" in html.unescape(dialog)
    assert re.search(r'<script defer src="/static/js/confirm\.[0-9a-f]{12}\.js"></script>', body)


def test_withdrawing_needs_the_confirmation_and_says_nothing_was_paid(
    city: Flask, client: FlaskClient
) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = apply_online(client)
    page = f"{HOME}domande/{app_id}"

    one_click = post_form(client, f"{page}/ritira", page)
    assert (one_click.status_code, one_click.headers["Location"]) == (303, f"{page}/ritira")
    assert _application(app_id).status == "draft"
    confirmation = _text(client.get(f"{page}/ritira"))
    assert "Per ritirare la domanda conferma qui sotto: il ritiro non si annulla." in confirmation
    assert "Non hai pagato nulla per questa domanda: non c'è nulla da rimborsare." in confirmation

    confirmed = post_form(client, f"{page}/ritira", f"{page}/ritira", confirmed="yes")
    assert (confirmed.status_code, confirmed.headers["Location"]) == (303, page)
    assert _application(app_id).status == "withdrawn"
    again = client.get(f"{page}/ritira")
    assert again.status_code == 200
    assert "La domanda non può più essere ritirata." in _text(again)
    assert 'name="confirmed"' not in again.get_data(as_text=True)


def test_what_a_withdrawal_does_to_the_money(city: Flask, quiet_mail: None) -> None:
    user = make_user("resident", "mario@example.org", codice_fiscale=DEMO_RESIDENT)
    app_id = _domiciled_draft(user)
    assert applications.withdrawal_money(_application(app_id)) == applications.WithdrawalMoney(
        0, False
    )
    applications.submit_application(app_id, user, review_reason=REASON)
    # Submitted, not paid: the pagoPA notice is cancelled by the withdrawal.
    assert applications.withdrawal_money(_application(app_id)) == applications.WithdrawalMoney(
        0, True
    )
    applications.pay_own_application(app_id, user)
    paid = _application(app_id)
    assert paid.status == "under_review"
    # Paid: nothing is refunded (withdraw_application only changes the status).
    assert applications.withdrawal_money(paid) == applications.WithdrawalMoney(
        applications.total_due(paid), False
    )


def test_a_paid_withdrawal_says_the_amount_is_not_refunded(
    city: Flask, client: FlaskClient, quiet_mail: None
) -> None:
    user = sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = _domiciled_draft(user)
    applications.submit_application(app_id, user, review_reason=REASON)
    applications.pay_own_application(app_id, user)
    due = applications.total_due(_application(app_id))
    confirmation = _text(client.get(f"{HOME}domande/{app_id}/ritira"))
    assert (
        f"Nessun rimborso: l'importo già pagato ({money_text(due)}) non viene restituito."
        in confirmation
    )


def test_deactivating_an_account_needs_the_confirmation(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "supervisor")
    target = make_user("clerk", "bersaglio@esempio.it")
    users = "/supervisione/utenti"
    path = f"{users}/{target.id}/disattiva"

    one_click = post_form(client, path, users)
    assert (one_click.status_code, one_click.headers["Location"]) == (303, path)
    db.session.expire_all()
    assert db.session.get(User, target.id).active is True  # type: ignore[union-attr]
    confirmation = _text(client.get(path))
    assert "Disattivare l'account di bersaglio@esempio.it?" in confirmation
    assert "tutte le sue sessioni aperte terminano subito" in confirmation

    confirmed = post_form(client, path, path, confirmed="yes")
    assert (confirmed.status_code, confirmed.headers["Location"]) == (303, users)
    db.session.expire_all()
    assert db.session.get(User, target.id).active is False  # type: ignore[union-attr]
    assert client.get(f"{users}/999999/disattiva").status_code == 404


# --- b) ended permits ----------------------------------------------------------------------------


def test_a_replaced_permit_reads_as_ended_and_leads_to_its_successor(
    city: Flask, client: FlaskClient
) -> None:
    old = issue_resident().number
    fee = _permit(old).fee_cents
    new_car = add_household_car("GA123BC")
    new = change_plate(old, DEMO_OWN_CAR, new_car, Actor.cli()).number
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)

    response = client.get(f"{HOME}permessi/{old}")
    body, words = response.get_data(as_text=True), _text(response)
    assert f"{HOME}permessi/{old}/pdf" not in body
    assert "parabrezza" not in words
    assert (
        f"Sostituito il {_ended(old)} dopo il cambio di targa (da {DEMO_OWN_CAR} a {new_car})."
        in (words)
    )
    assert f'<a href="{HOME}permessi/{new}">' in body
    assert f"Vai al permesso che lo sostituisce: {new}" in words
    assert "Cambia la targa" not in words and "Rinuncia al permesso" not in words

    successor = _text(client.get(f"{HOME}permessi/{new}"))
    assert (
        f"Nessun nuovo pagamento: sostituisce il permesso {old}, per cui è stata pagata la "
        f"tariffa di {money_text(fee)}." in successor
    )
    assert "€ 0,00" not in successor
    assert "Esponi la parte con il codice QR sul parabrezza." in successor

    home = client.get(HOME).get_data(as_text=True)
    assert f'sostituito da <a href="{HOME}permessi/{new}">{new}</a>' in home


def _ended(number: str) -> str:
    """The end of a permit as the pages write it (ztl.web.context.datetime_text)."""
    ended_at = _permit(number).ended_at
    assert ended_at is not None
    return datetime_text(ended_at)


def test_the_holders_reading_of_a_permit(city: Flask) -> None:
    number = issue_resident().number
    permit = _permit(number)
    live = holder_view(permit)
    assert (live.usable, live.status, live.ended_how, live.successor) == (
        True,
        "active",
        None,
        None,
    )
    assert live.payment == Payment(permit.fee_cents)
    # Past its end before the nightly expiry ran: ended all the same.
    late = holder_view(permit, permit.valid_to + dt.timedelta(seconds=1))
    assert (late.usable, late.status, late.ended_how, late.ended_at) == (
        False,
        "expired",
        ENDED_EXPIRED,
        permit.valid_to,
    )

    new_car = add_household_car("GA123BC")
    new = change_plate(number, DEMO_OWN_CAR, new_car, Actor.cli()).number
    replaced = holder_view(_permit(number))
    assert (replaced.usable, replaced.ended_how, replaced.successor) == (
        False,
        ENDED_PLATE_CHANGE,
        new,
    )
    assert (replaced.old_plate, replaced.new_plate) == (DEMO_OWN_CAR, new_car)
    assert holder_view(_permit(new)).payment == Payment(0, number, permit.fee_cents)


def test_a_surrendered_permit_page_says_so(
    city: Flask, client: FlaskClient, quiet_mail: None
) -> None:
    number = issue_resident().number
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    page = f"{HOME}permessi/{number}"
    post_form(client, f"{page}/rinuncia", page, confirmed="yes")
    assert holder_view(_permit(number)).ended_how == ENDED_SURRENDERED
    response = client.get(page)
    words = _text(response)
    assert f"Hai rinunciato al permesso il {_ended(number)}." in words
    assert "Non esporlo sul parabrezza: non autorizza più l'accesso alla ZTL." in words
    assert f"{page}/pdf" not in response.get_data(as_text=True)


# --- c) the PDF one click away ---------------------------------------------------------------------


def test_a_permit_issued_on_payment_is_one_click_from_the_application(
    city: Flask, client: FlaskClient, quiet_mail: None
) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = apply_online(client)
    page = f"{HOME}domande/{app_id}"
    assert post_form(client, f"{page}/invia", page).status_code == 303
    assert post_form(client, f"{page}/paga", page).status_code == 303
    number = db.session.scalars(select(Permit.number).where(Permit.application_id == app_id)).one()
    body = client.get(page).get_data(as_text=True)
    assert (
        f'<a class="btn btn-primary me-2 mb-2" id="permit-pdf" href="{HOME}permessi/{number}/pdf" '
        "download>Scarica il permesso (PDF)</a>" in body
    )
    assert 'id="application-steps"' not in body  # every step done: nothing left to guide
    download = client.get(f"{HOME}permessi/{number}/pdf")
    assert download.status_code == 200 and download.get_data().startswith(b"%PDF")


# --- d) waiting for a document ---------------------------------------------------------------------


def test_a_missing_document_reads_as_waiting_not_as_refused(
    city: Flask, client: FlaskClient
) -> None:
    user = sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = _domiciled_draft(user)
    draft = _application(app_id)
    assert draft.outcome == "not_eligible"  # the rules' verdict is unchanged
    assert applicant_outcome(draft.outcome, draft.verdict) == WAITING_FOR_DOCUMENTS
    words = _text(client.get(f"{HOME}domande/{app_id}"))
    assert "Esito complessivo: in attesa di un documento" in words
    assert "requisiti non soddisfatti" not in words
    assert "Manca solo un documento obbligatorio" in words

    documents.attach_document(app_id, user, "lease_or_deed", "contratto.pdf", PDF)
    attached = _application(app_id)
    assert applicant_outcome(attached.outcome, attached.verdict) == "needs_review"


def test_the_applicants_outcome_from_the_failing_checks() -> None:
    missing = {"id": "documents_attached", "status": "fail"}
    other = {"id": "residence_in_zone", "status": "fail"}
    passed = {"id": "vehicle_owned", "status": "pass"}
    assert applicant_outcome("not_eligible", [missing, passed]) == WAITING_FOR_DOCUMENTS
    assert applicant_outcome("not_eligible", [missing, other]) == "not_eligible"
    assert applicant_outcome("not_eligible", []) == "not_eligible"
    assert applicant_outcome("eligible", [passed]) == "eligible"
    assert applicant_outcome(None, None) is None


# --- e) a review asked for, with a reason ------------------------------------------------------------


def test_submitting_a_refused_application_needs_a_review_request(
    city: Flask, client: FlaskClient, quiet_mail: None
) -> None:
    user = sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    app_id = _domiciled_draft(user)
    page = f"{HOME}domande/{app_id}"
    refusal = error_text_in("it", "review_reason_required")

    plain = post_form(client, f"{page}/invia", page)
    assert (plain.status_code, plain.headers["Location"]) == (303, page)
    assert refusal in _text(client.get(page))
    assert _application(app_id).status == "draft"
    # The box without a reason, or a reason without the box, is no request.
    post_form(client, f"{page}/invia", page, review_requested="y", review_reason="  ")
    post_form(client, f"{page}/invia", page, review_reason=REASON)
    assert _application(app_id).status == "draft"

    asked = post_form(client, f"{page}/invia", page, review_requested="y", review_reason=REASON)
    assert asked.status_code == 303
    assert _application(app_id).status == "submitted"
    (event,) = db.session.scalars(
        select(Event).where(
            Event.subject_type == "application",
            Event.subject_id == str(app_id),
            Event.action == "submitted",
        )
    ).all()
    assert event.data == {"review_reason": REASON}

    clerk = city.test_client()
    sign_in(clerk, "clerk")
    clerk_page = _text(clerk.get(f"/ufficio/domande/{app_id}"))
    assert "Il richiedente chiede la revisione dell'ufficio" in clerk_page
    assert REASON in clerk_page


def test_the_service_refuses_without_a_reason(city: Flask, quiet_mail: None) -> None:
    user = make_user("resident", "mario@example.org", codice_fiscale=DEMO_RESIDENT)
    app_id = _domiciled_draft(user)
    with pytest.raises(ServiceError) as refused:
        applications.submit_application(app_id, user, review_reason=" \n ")
    assert refused.value.code == "review_reason_required"
    assert _application(app_id).status == "draft"


# --- f) the step indicator ---------------------------------------------------------------------------


def test_the_steps_follow_the_application(city: Flask, quiet_mail: None) -> None:
    assert current_step(None) == DETAILS
    assert step_states(CHECKS) == [
        ("category", "done"),
        ("details", "done"),
        ("checks", "current"),
        ("documents", "todo"),
        ("send_and_pay", "todo"),
    ]
    assert [state for _step, state in step_states(DONE)] == ["done"] * 5
    user = make_user("resident", "mario@example.org", codice_fiscale=DEMO_RESIDENT)
    waiting = _domiciled_draft(user)
    assert current_step(_application(waiting)) == DOCUMENTS
    ready = applications.create_draft(
        user, applications.ApplicationInput(category="1", applicant_id="", plates=(DEMO_OWN_CAR,))
    )
    assert current_step(_application(ready)) == SEND_AND_PAY
    applications.submit_application(ready, user)
    assert current_step(_application(ready)) == SEND_AND_PAY  # the notice is to be paid
    applications.pay_own_application(ready, user)
    assert current_step(_application(ready)) == DONE


def test_the_pages_show_the_current_step(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "resident", "mario@example.org", DEMO_RESIDENT)
    categories = client.get(f"{HOME}domande/nuova").get_data(as_text=True)
    assert re.findall(
        r'aria-current="step">\s*<span class="visually-hidden">([^<]*)</span>([^<]*)', categories
    ) == [("Passaggio 1 di 5: ", "Categoria")]
    form = client.get(f"{HOME}domande/nuova/1").get_data(as_text=True)
    assert re.findall(
        r'aria-current="step">\s*<span class="visually-hidden">([^<]*)</span>([^<]*)', form
    ) == [("Passaggio 2 di 5: ", "Dati e targhe")]
    app_id = apply_online(client)
    page = client.get(f"{HOME}domande/{app_id}").get_data(as_text=True)
    assert re.findall(
        r'aria-current="step">\s*<span class="visually-hidden">([^<]*)</span>([^<]*)', page
    ) == [("Passaggio 5 di 5: ", "Invio e pagamento")]
    assert page.count("(completato)") == 4
