"""Payments through the pagoPA intermediary, end to end, on both engines.

The app is served on loopback (a threaded WSGI server) and talks over HTTP to the test intermediary
(tests/payment_intermediary: GovPay's API Pendenze, its checkout page and its notifications). Every
exchange of the app's client is checked against the contract (tests/payment_intermediary/
contract.py) by a recorder on the client's session, and every notification the intermediary sends
is checked by the intermediary itself; a test fails if any exchange broke the contract.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
from typing import Any

import pypdfium2 as pdfium
import pytest
import requests
import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import (
    PAGOPA_A2A,
    PAGOPA_CREDITOR,
    PAGOPA_NOTIFY_PASSWORD,
    PAGOPA_NOTIFY_USER,
    PAGOPA_PASSWORD,
    PAGOPA_SEGREGATION,
    PAGOPA_USER,
    PagoPA,
    login,
)
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, PASSWORD, make_user
from ztl.applications import applicant as applications
from ztl.applications import decisions
from ztl.applications.reconciliation import reconcile
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import (
    Application,
    PaymentNotification,
    PaymentPosition,
    Permit,
    RefundRequest,
)
from ztl.payments.notice_numbers import QrText, iuv_of
from ztl.records import accounting

CREDITOR, SEGREGATION, A2A = PAGOPA_CREDITOR, PAGOPA_SEGREGATION, PAGOPA_A2A
USER, SECRET = PAGOPA_USER, PAGOPA_PASSWORD
NOTIFY_USER, NOTIFY_SECRET = PAGOPA_NOTIFY_USER, PAGOPA_NOTIFY_PASSWORD


def _resident(email: str = "paga@esempio.it") -> Any:
    return make_user("resident", email, codice_fiscale=DEMO_RESIDENT)


def _submitted(
    user: Any, category: str = "1", review_reason: str | None = None, **given: Any
) -> Application:
    application_id = applications.create_draft(
        user,
        applications.ApplicationInput(
            category=category, applicant_id="", plates=given.pop("plates", (DEMO_OWN_CAR,)), **given
        ),
    )
    applications.submit_application(application_id, user, review_reason=review_reason)
    db.session.expire_all()
    found = db.session.get(Application, application_id)
    assert found is not None
    return found


def _position(application: Application) -> PaymentPosition:
    db.session.expire_all()
    found = db.session.scalars(
        select(PaymentPosition).where(PaymentPosition.application_id == application.id)
    ).one()
    return found


def _permits(application_id: int) -> int:
    db.session.expire_all()
    return int(
        db.session.scalar(
            select(func.count()).select_from(Permit).where(Permit.application_id == application_id)
        )
        or 0
    )


def _outcomes() -> list[tuple[str, str, str | None]]:
    db.session.expire_all()
    return [
        (n.channel, n.outcome, n.reason)
        for n in db.session.scalars(select(PaymentNotification).order_by(PaymentNotification.id))
    ]


def _qr_of(pdf: bytes) -> str:
    """The notice's QR as a banking app reads it: the printed page, scanned (zxing-cpp)."""
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=200 / 72).to_pil()
    finally:
        document.close()
    texts = [b.text for b in zxingcpp.read_barcodes(image) if b.text.startswith("PAGOPA|")]
    assert len(texts) == 1, texts
    return texts[0]


def test_a_resident_pays_a_residents_permit_online_and_it_is_issued_on_the_receipt(
    pagopa: PagoPA, client: FlaskClient
) -> None:
    user = _resident()
    application = _submitted(user)
    position = _position(application)
    # The position at the intermediary: our notice number, the payer, the fee and both stamps.
    remote = pagopa.intermediary.positions[position.remote_id]
    body = remote.body
    assert body["numeroAvviso"] == position.notice_number
    assert iuv_of(position.notice_number) == position.iuv
    assert position.iuv.startswith(SEGREGATION)
    assert body["idDominio"] == CREDITOR
    assert body["soggettoPagatore"]["identificativo"] == DEMO_RESIDENT
    assert body["soggettoPagatore"]["tipo"] == "F"
    assert [v.get("codEntrata") or v.get("tipoBollo") for v in body["voci"]] == [
        "ZTL",
        "Imposta di bollo",
        "Imposta di bollo",
    ]
    assert position.amount_cents == application.fee_cents + application.stamp_duty_cents == 4700
    assert position.state == "open" and "Residenti" in body["causale"]
    # The applicant's page: the notice, "Paga online" to the intermediary's checkout, the PDF.
    login(client, user.email, PASSWORD)
    page = client.get(f"/area-personale/domande/{application.id}").get_data(as_text=True)
    grouped = " ".join(re.findall(".{1,4}", position.notice_number))
    assert grouped in page and "€ 47,00" in page
    checkout = pagopa.intermediary.checkout_url_template.format(
        notice_number=position.notice_number, creditor=CREDITOR
    )
    assert checkout.replace("&", "&amp;") in page
    pdf = client.get(f"/area-personale/domande/{application.id}/avviso.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    scanned = QrText.parse(_qr_of(pdf.data))
    assert scanned == QrText(position.notice_number, CREDITOR, 4700)
    assert _permits(application.id) == 0
    # The resident pays on the intermediary's checkout page; its notification issues the permit.
    form = requests.get(checkout, timeout=10)
    assert form.status_code == 200 and "Paga" in form.text
    paid = requests.post(
        checkout.split("?")[0],
        data={"notice": position.notice_number, "creditor": CREDITOR},
        timeout=30,
    )
    assert paid.status_code == 200 and "Pagamento eseguito" in paid.text
    assert pagopa.intermediary.deliveries[-1][1] == 201
    assert _permits(application.id) == 1
    assert _position(application).state == "paid"
    assert _outcomes() == [("notification", "accepted", None)]
    page = client.get(f"/area-personale/domande/{application.id}").get_data(as_text=True)
    assert "Paga online" not in page


def test_a_daily_permit_is_paid_and_issued_and_the_accounting_day_reconciles(
    pagopa: PagoPA,
) -> None:
    resident = _submitted(_resident())
    user = _resident("giornaliero@esempio.it")
    application = _submitted(user, "G/A", requested_from=dt.date.today() + dt.timedelta(days=1))
    position = _position(application)
    assert position.amount_cents == 1000 and position.stamp_duty_cents == 0
    entries = pagopa.intermediary.positions[position.remote_id].body["voci"]
    assert len(entries) == 1 and entries[0]["codEntrata"] == "ZTL"
    delivery = pagopa.intermediary.pay(position.notice_number)
    assert delivery["rt"]["datiPagamento"]["identificativoUnivocoVersamento"] == position.iuv
    assert _permits(application.id) == 1
    pagopa.intermediary.pay(_position(resident).notice_number)
    assert _permits(resident.id) == 1
    # The accounting office's day: both notices issued and paid, by category, to the cent.
    ledger = accounting.day_ledger(accounting.local_day(dt.datetime.now(dt.UTC)))
    by_category = {t.category_code: t for t in ledger.totals}
    assert (by_category["G/A"].issued_cents, by_category["G/A"].paid_cents) == (1000, 1000)
    assert (by_category["1"].issued_cents, by_category["1"].paid_cents) == (4700, 4700)
    assert ledger.grand_total.paid_cents == 5700 == sum(r.amount_cents for r in ledger.receipts)
    rows = list(csv.DictReader(io.StringIO(accounting.ledger_csv(ledger))))
    receipts = [r for r in rows if r["record"] == "receipt"]
    paid_total = next(
        r
        for r in rows
        if r["record"] == "total" and r["category"] == "ALL" and r["outcome_or_state"] == "paid"
    )
    assert sum(int(r["amount_cents"]) for r in receipts) == int(paid_total["amount_cents"]) == 5700


def test_the_same_notification_twice_is_a_replay_and_issues_one_permit(pagopa: PagoPA) -> None:
    application = _submitted(_resident())
    position = _position(application)
    pagopa.intermediary.pay(position.notice_number)
    assert pagopa.intermediary.deliver(position.notice_number) == 201
    assert _permits(application.id) == 1
    assert [o[:2] for o in _outcomes()] == [
        ("notification", "accepted"),
        ("notification", "replay"),
    ]


def test_a_receipt_for_an_unknown_notice_is_refused_and_recorded(pagopa: PagoPA) -> None:
    application = _submitted(_resident())
    position = _position(application)
    # The intermediary holds a position this municipality never opened.
    other = "3" + SEGREGATION + "0000000000007"
    from tests.payment_intermediary.contract import check_digits

    number = other + check_digits(other)
    body = dict(pagopa.intermediary.positions[position.remote_id].body, numeroAvviso=number)
    answer = requests.put(
        f"{pagopa.intermediary.base_url}/pendenze/{A2A}/ALIEN-1",
        json=body,
        auth=(USER, SECRET),
        timeout=10,
    )
    assert answer.status_code == 201
    pagopa.intermediary.pay(number)
    assert pagopa.intermediary.deliveries[-1][1] == 404
    assert _outcomes() == [("notification", "refused", "no notice with this IUV")]
    assert _permits(application.id) == 0


def test_a_receipt_of_another_amount_is_refused_and_pays_nothing(pagopa: PagoPA) -> None:
    application = _submitted(_resident())
    position = _position(application)
    pagopa.intermediary.pay(position.notice_number, amount_cents=100)
    assert [o[:2] for o in _outcomes()] == [("notification", "refused")]
    assert "4700 cents" in (_outcomes()[0][2] or "")
    assert _permits(application.id) == 0 and _position(application).state == "open"


def test_a_receipt_naming_another_debtor_is_refused(pagopa: PagoPA) -> None:
    application = _submitted(_resident())
    position = _position(application)
    pagopa.intermediary.pay(position.notice_number, payer="RSSMRA80A01G999X")
    assert _outcomes() == [
        ("notification", "refused", "the receipt names another payer than the notice's debtor")
    ]
    assert _permits(application.id) == 0


def test_withdrawing_cancels_the_position_and_a_late_payment_is_refunded(pagopa: PagoPA) -> None:
    user = _resident()
    application = _submitted(user)
    position = _position(application)
    applications.withdraw_application(application.id, user)
    assert pagopa.intermediary.positions[position.remote_id].state == "ANNULLATA"
    assert _position(application).state == "cancelled"
    # A payment that slipped through anyway (paid at a counter before the cancellation arrived).
    pagopa.intermediary.pay(position.notice_number)
    assert [o[:2] for o in _outcomes()] == [("notification", "refused")]
    refunds = list(db.session.scalars(select(RefundRequest)))
    assert [(r.reason, r.amount_cents) for r in refunds] == [("cancelled_notice", 4700)]
    assert _permits(application.id) == 0


def test_a_paid_application_the_office_rejects_is_refunded_fee_and_permit_stamp(
    pagopa: PagoPA,
) -> None:
    application = _submitted(_resident(), "15", "Domiciliato per lavoro")  # a clerk decides
    position = _position(application)
    pagopa.intermediary.pay(position.notice_number)
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "under_review"  # type: ignore[union-attr]
    clerk = make_user("clerk", "impiegato@comune.it")
    decisions.reject(application.id, Actor.of_user(clerk), "Non domiciliato nella zona")
    refunds = list(db.session.scalars(select(RefundRequest)))
    # The fee (80 €) and the permit's stamp duty (16 €): the application's stamp stays.
    assert [(r.reason, r.amount_cents) for r in refunds] == [("rejected", 8000 + 1600)]
    assert _position(application).state == "paid"  # nothing to cancel at the intermediary


def test_a_lost_notification_is_found_by_the_daily_reconciliation(
    pagopa: PagoPA, runner: Any
) -> None:
    application = _submitted(_resident())
    position = _position(application)
    pagopa.intermediary.pay(position.notice_number, notify=False)
    assert _permits(application.id) == 0
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "1 payments found" in result.output
    assert _permits(application.id) == 1
    assert [o[:2] for o in _outcomes()] == [("reconciliation", "accepted")]
    again = runner.invoke(args=["payments", "reconcile"])
    assert again.exit_code == 0 and "0 positions read" in again.output  # nothing open any more


def test_the_intermediary_down_at_submission_leaves_the_notice_to_prepare(
    pagopa: PagoPA, client: FlaskClient, runner: Any
) -> None:
    user = _resident()
    pagopa.intermediary.fail_next(1)
    application = _submitted(user)
    position = _position(application)
    assert position.state == "opening" and position.last_error
    assert position.remote_id not in pagopa.intermediary.positions
    pagopa.intermediary.fail_next(1)
    failed = runner.invoke(args=["payments", "reconcile"])
    assert failed.exit_code == 1 and position.notice_number in failed.output
    # Within a minute of the failure the page does not ask again: it says the notice is coming.
    login(client, user.email, PASSWORD)
    page = client.get(f"/area-personale/domande/{application.id}").get_data(as_text=True)
    assert "in preparazione" in page and "Paga online" not in page
    assert position.remote_id not in pagopa.intermediary.positions
    # A minute later, the next look at the page opens it (the intermediary is back).
    stored = _position(application)
    stored.failed_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    db.session.commit()
    page = client.get(f"/area-personale/domande/{application.id}").get_data(as_text=True)
    assert "Paga online" in page
    assert _position(application).state == "open"
    assert pagopa.intermediary.positions[position.remote_id].puts == 1


def test_a_payment_reported_by_both_paths_at_once_issues_one_permit(
    pagopa: PagoPA, city: Flask
) -> None:
    application = _submitted(_resident())
    position = _position(application)
    pagopa.intermediary.pay(position.notice_number, notify=False)
    barrier = threading.Barrier(2, timeout=30)
    results: dict[str, Any] = {}

    def notify() -> None:
        barrier.wait()
        results["notification"] = pagopa.intermediary.deliver(position.notice_number)

    def reconciliation() -> None:
        with city.app_context():
            barrier.wait()
            results["reconciliation"] = reconcile()
            db.session.remove()

    threads = [threading.Thread(target=notify), threading.Thread(target=reconciliation)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results["notification"] == 201
    assert _permits(application.id) == 1
    outcomes = sorted(o[1] for o in _outcomes())
    assert outcomes == ["accepted", "replay"]


def test_the_notification_endpoint_wants_the_intermediary_s_credentials(
    pagopa: PagoPA, city: Flask
) -> None:
    application = _submitted(_resident())
    position = _position(application)
    url = f"{pagopa.base}/api/v1/pagopa/pagamenti/{CREDITOR}/{position.iuv}"
    anonymous = requests.post(url, json={"rt": {}}, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    wrong = requests.post(url, json={"rt": {}}, auth=(NOTIFY_USER, "guess"), timeout=10)
    assert wrong.status_code == 401
    city.config["ZTL_ENV"] = "production"
    plain = requests.post(url, json={"rt": {}}, auth=(NOTIFY_USER, NOTIFY_SECRET), timeout=10)
    assert plain.status_code == 403 and plain.json()["error"] == "tls_required"
    city.config["ZTL_ENV"] = "development"
    broken = requests.post(url, json={"rt": {}}, auth=(NOTIFY_USER, NOTIFY_SECRET), timeout=10)
    assert broken.status_code == 400
    assert _outcomes() == [] and _permits(application.id) == 0


def test_a_hotel_booklet_is_paid_through_the_intermediary(pagopa: PagoPA, city: Flask) -> None:
    from tests.factories import hotel_in_zone_a
    from ztl.applications import hotel_guests

    hotel = hotel_in_zone_a(accommodation=True)
    user = make_user("resident", "albergo@esempio.it", codice_fiscale=DEMO_RESIDENT)
    booklet = hotel_guests.buy_booklet(user, hotel)
    position = db.session.scalars(
        select(PaymentPosition).where(PaymentPosition.booklet_id == booklet.id)
    ).one()
    assert position.payer_tax_code == hotel and position.payer_kind == "G"
    pagopa.intermediary.pay(position.notice_number)
    db.session.expire_all()
    assert db.session.get(type(booklet), booklet.id).paid_at is not None  # type: ignore[union-attr]


def test_opening_a_position_twice_finds_the_same_one(pagopa: PagoPA) -> None:
    from ztl.payments.active import payment_provider
    from ztl.payments.positions import Debt, create_position, position_request

    user = _resident()
    application = _submitted(user)
    position = _position(application)
    # The same application asks again (a retry after a lost answer): the same position here...
    with db.session.begin_nested():
        again = create_position(
            db.session,
            Debt("application", "1", 1500, 3200, DEMO_RESIDENT, "x", "y", application.id),
            dt.datetime.now(dt.UTC),
        )
    assert again.id == position.id
    # ...and at the intermediary, where the same call answers the same notice.
    payment_provider().open_position(position_request(position))
    remote = pagopa.intermediary.positions[position.remote_id]
    assert remote.puts == 2 and len(pagopa.intermediary.positions) == 1
    assert remote.body["numeroAvviso"] == position.notice_number


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"ZTL_PAGOPA_URL": None}, "ZTL_PAGOPA_URL must be set"),
        ({"ZTL_PAGOPA_URL": "http://govpay.example/api"}, "must be an https:// address"),
        ({"ZTL_PAGOPA_SEGREGATION_CODE": "7"}, "ZTL_PAGOPA_SEGREGATION_CODE must be the two"),
        ({"ZTL_PAGOPA_STATION": "01234567890"}, "ZTL_PAGOPA_STATION must be the station's id"),
        ({"ZTL_PAGOPA_CHECKOUT_URL": "https://pay.example/"}, "must contain {notice_number}"),
        ({"ZTL_PAGOPA_NOTIFICATION_PASSWORD": "short"}, "at least 32 characters in production"),
        ({"ZTL_PAYMENT_PROVIDER": "demo"}, "refused in production"),
    ],
)
def test_production_refuses_an_incomplete_or_insecure_pagopa_setting(
    change: dict[str, Any], problem: str
) -> None:
    from ztl.payments.providers import check_payment_settings

    settings: dict[str, Any] = {
        "ZTL_ENV": "production",
        "ZTL_PAYMENT_PROVIDER": "pagopa",
        "ZTL_PAGOPA_URL": "https://govpay.partner.example/govpay/backend/api/pendenze/rs/v1",
        "ZTL_PAGOPA_USER": "ztl",
        "ZTL_PAGOPA_PASSWORD": "secret",
        "ZTL_PAGOPA_A2A": "ZTL_PRATO",
        "ZTL_PAGOPA_SEGREGATION_CODE": "47",
        "ZTL_PAGOPA_STATION": "01234567890_01",
        "ZTL_PAGOPA_FEE_ENTRY": "ZTL",
        "ZTL_PAGOPA_CHECKOUT_URL": "https://pay.example/?n={notice_number}",
        "ZTL_PAGOPA_NOTIFICATION_USER": "govpay",
        "ZTL_PAGOPA_NOTIFICATION_PASSWORD": "n" * 40,
    }
    assert check_payment_settings(settings) == []
    settings.update(change)
    problems = check_payment_settings(settings)
    assert len(problems) == 1 and problem in problems[0], problems


def test_the_pagopa_provider_needs_the_rules_file_s_payments_table(tmp_path: Any) -> None:
    from ztl.config import ConfigurationError
    from ztl.rules.loader import DEFAULT_RULES

    rules = DEFAULT_RULES.read_text(encoding="utf-8")
    start = rules.index("[payments]")
    end = rules.index("\n[", start + 1)
    without = tmp_path / "senza-pagamenti.toml"
    without.write_text(rules[:start] + rules[end + 1 :], encoding="utf-8")
    settings = {
        "ZTL_PAYMENT_PROVIDER": "pagopa",
        "ZTL_PAGOPA_URL": "https://govpay.example/api",
        "ZTL_PAGOPA_USER": "u",
        "ZTL_PAGOPA_PASSWORD": "p",
        "ZTL_PAGOPA_A2A": "ZTL",
        "ZTL_PAGOPA_SEGREGATION_CODE": "47",
        "ZTL_PAGOPA_STATION": "01234567890_01",
        "ZTL_PAGOPA_CHECKOUT_URL": "https://pay.example/?n={notice_number}",
        "ZTL_PAGOPA_NOTIFICATION_USER": "govpay",
        "ZTL_PAGOPA_NOTIFICATION_PASSWORD": "n" * 40,
        "ZTL_RULES_FILE": str(without),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db.sqlite3",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test",
    }
    from ztl import create_app

    with pytest.raises(ConfigurationError, match=r"needs the rules file's \[payments\] table"):
        create_app(settings)
