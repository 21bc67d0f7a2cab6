"""The accounting office's day (ztl.records.accounting) and its page and CSV file.

The data is made by the real services: applications submitted (a pagoPA notice each), receipts
recorded by the one service that decides them (ztl.applications.payment_receipts), as the
payment system's signed notifications and the intermediary's deliver them. The totals are checked
against the rows they total, to the cent, on the page's ledger and in the CSV as a spreadsheet
reads it; the day is the municipality's local day, on the two Sundays when the clocks change too.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import PAYMENT_SECRET, audit, csrf_token, problems_of, sign_in
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, make_user
from tests.test_no_internal_codes import leaks, visible_text
from ztl.applications import applicant as applications
from ztl.applications.payment_receipts import record_receipt
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import Event, PaymentPosition, RefundRequest, User
from ztl.payments.notice_numbers import grouped
from ztl.payments.receipts import NOTIFICATION, RECONCILIATION, SIGNED, Receipt
from ztl.records import accounting
from ztl.records.accounting import Ledger, day_bounds, day_ledger, ledger_csv, local_day
from ztl.values.display import money_text
from ztl.values.spreadsheet import safe_cell

ROME = ZoneInfo("Europe/Rome")
PAGE = "/supervisione/pagamenti"
CSV_PAGE = "/supervisione/pagamenti.csv"
SECRET = PAYMENT_SECRET


def _resident() -> User:
    found = db.session.scalar(select(User).where(User.email == "paga@esempio.it"))
    return found or make_user("resident", "paga@esempio.it", codice_fiscale=DEMO_RESIDENT)


def _submitted(category: str) -> PaymentPosition:
    """A resident's application of `category`, submitted: its notice (a debt position)."""
    user = _resident()
    app_id = applications.create_draft(
        user,
        applications.ApplicationInput(category=category, applicant_id="", plates=(DEMO_OWN_CAR,)),
    )
    applications.submit_application(app_id, user, review_reason="Ho i requisiti.")
    position = db.session.scalars(
        select(PaymentPosition).where(PaymentPosition.application_id == app_id)
    ).one()
    return position


def _receipt(
    position_or_iuv: PaymentPosition | str,
    receipt_id: str,
    at: dt.datetime | None = None,
    amount: int | None = None,
    **extra: Any,
) -> str:
    """A receipt delivered at `at` (now by default); its outcome's code."""
    if isinstance(position_or_iuv, PaymentPosition):
        iuv, due = position_or_iuv.iuv, position_or_iuv.amount_cents
    else:
        iuv, due = position_or_iuv, 1600
    receipt = Receipt(
        receipt_id=receipt_id,
        iuv=iuv,
        amount_cents=due if amount is None else amount,
        paid_at=dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC),
        **extra,
    )
    outcome = record_receipt(receipt, receipt_id.encode(), at or dt.datetime.now(dt.UTC))
    db.session.expire_all()
    return outcome.code


def _busy_day() -> tuple[dt.date, dict[str, PaymentPosition]]:
    """Today with some of everything: notices of two categories, receipts accepted, replayed and
    refused for every reason, and two refunds (a double payment, a withdrawn application's)."""
    resident = _submitted("1")
    shop = _submitted("15")
    other = _submitted("15")
    withdrawn = _submitted("1")
    applications.withdraw_application(withdrawn.application_id or 0, _resident())
    assert _receipt(resident, "RCPT-1") == "paid"
    assert _receipt(resident, "RCPT-1") == "already_recorded"
    assert _receipt(resident, "RCPT-2") == "already_paid"  # a double payment: refund
    assert _receipt(shop, "RCPT-3", amount=shop.amount_cents + 1) == "amount_mismatch"
    assert _receipt(shop, "RCPT-4", payer_tax_code="RSSMRA85T10A562S") == "payer_mismatch"
    assert _receipt(shop, "RCPT-5") == "paid"
    assert _receipt(other, "RCPT-5") == "receipt_reused"
    assert _receipt(withdrawn, "RCPT-6") == "notice_cancelled"  # refund
    assert _receipt("01000000000000000", "RCPT-7") == "unknown_notice"
    day = local_day(dt.datetime.now(dt.UTC))
    return day, {"resident": resident, "shop": shop, "other": other, "withdrawn": withdrawn}


# --- the ledger -------------------------------------------------------------------------------


def _sums(ledger: Ledger, code: str | None) -> dict[str, int]:
    """The day's figures added up from its rows (code None: every category)."""

    def mine(row_code: str | None) -> bool:
        return code is None or row_code == code

    positions = [p for p in ledger.positions if mine(p.category_code)]
    paid = [r for r in ledger.receipts if r.outcome == "accepted" and mine(r.category_code)]
    refunds = [r for r in ledger.refunds if mine(r.category_code)]
    return {
        "issued_count": len(positions),
        "issued_cents": sum(p.amount_cents for p in positions),
        "issued_fee_cents": sum(p.fee_cents for p in positions),
        "issued_stamp_duty_cents": sum(p.stamp_duty_cents for p in positions),
        "paid_count": len(paid),
        "paid_cents": sum(r.amount_cents for r in paid),
        "refunded_count": len(refunds),
        "refunded_cents": sum(r.amount_cents for r in refunds),
    }


_FIGURES = (
    "issued_count",
    "issued_cents",
    "issued_fee_cents",
    "issued_stamp_duty_cents",
    "paid_count",
    "paid_cents",
    "refunded_count",
    "refunded_cents",
)


def _figures(total: accounting.CategoryTotal) -> dict[str, int]:
    return {name: getattr(total, name) for name in _FIGURES}


def test_the_day_s_totals_are_the_sums_of_its_rows(notified: Flask) -> None:
    day, positions = _busy_day()
    ledger = day_ledger(day)

    assert len(ledger.positions) == 4
    assert Counter(r.outcome for r in ledger.receipts) == {
        "accepted": 2,
        "replay": 1,
        "refused": 6,
    }
    assert {r.reason for r in ledger.refused} == {
        "already_paid",
        "amount_mismatch",
        "payer_mismatch",
        "receipt_reused",
        "notice_cancelled",
        "unknown_notice",
    }
    assert sorted(r.reason for r in ledger.refunds) == ["cancelled_notice", "double_payment"]
    assert [t.category_code for t in ledger.totals] == ["1", "15"]  # the catalogue's order
    for total in ledger.totals:
        assert _figures(total) == _sums(ledger, total.category_code), total.category_code
    assert _figures(ledger.grand_total) == _sums(ledger, None)
    for name in _FIGURES:  # the grand total is also the sum of the categories' totals
        assert getattr(ledger.grand_total, name) == sum(getattr(t, name) for t in ledger.totals)
    resident, shop = positions["resident"], positions["shop"]
    assert ledger.grand_total.paid_cents == resident.amount_cents + shop.amount_cents
    assert ledger.grand_total.refunded_cents == 2 * resident.amount_cents  # fee and stamps back
    unknown = next(r for r in ledger.refused if r.reason == "unknown_notice")
    assert unknown.notice_number == "301000000000000000" and unknown.category_code is None
    assert [r.reason for r in accounting.refused_receipts(day)] == [
        r.reason for r in ledger.refused
    ]
    # Nothing of this day on the next one.
    assert day_ledger(day + dt.timedelta(days=1)).receipts == []


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _column_sum(rows: list[dict[str, str]], column: str, **where: str) -> int:
    return sum(
        int(r[column] or 0) for r in rows if all(r[key] == value for key, value in where.items())
    )


def test_the_csv_s_total_rows_are_the_sums_of_its_record_rows(notified: Flask) -> None:
    day, _positions = _busy_day()
    ledger = day_ledger(day)
    rows = _csv_rows(ledger_csv(ledger))

    assert list(rows[0]) == list(accounting.CSV_COLUMNS)
    assert Counter(r["record"] for r in rows) == {
        "position": 4,
        "receipt": 9,
        "refund": 2,
        "total": 3 * 3,  # issued, paid, refunded for categories 1, 15 and ALL
    }
    totals = {(r["category"], r["outcome_or_state"]): r for r in rows if r["record"] == "total"}
    for code in ("1", "15", "ALL"):
        where = {} if code == "ALL" else {"category": code}
        issued, paid, refunded = (totals[(code, k)] for k in ("issued", "paid", "refunded"))
        for column in ("amount_cents", "fee_cents", "stamp_duty_cents", "count"):
            assert int(issued[column]) == _column_sum(rows, column, record="position", **where)
        for column in ("amount_cents", "count"):
            accepted = {"record": "receipt", "outcome_or_state": "accepted", **where}
            assert int(paid[column]) == _column_sum(rows, column, **accepted)
            assert int(refunded[column]) == _column_sum(rows, column, record="refund", **where)
    assert int(totals[("ALL", "paid")]["amount_cents"]) == ledger.grand_total.paid_cents
    assert int(totals[("ALL", "refunded")]["amount_cents"]) == ledger.grand_total.refunded_cents
    # Every amount is integer cents; every time is the municipality's, with its offset.
    for row in rows:
        assert all(row[c] == "" or row[c].isdigit() for c in ("amount_cents", "fee_cents"))
        if row["local_time"]:
            moment = dt.datetime.fromisoformat(row["local_time"])
            assert moment.utcoffset() == moment.astimezone(ROME).utcoffset()
            assert moment.astimezone(ROME).date() == day
    refused = {r["reason"] for r in rows if r["outcome_or_state"] == "refused"}
    assert "amount_mismatch" in refused and "unknown_notice" in refused


def test_a_formula_from_outside_is_written_as_text(notified: Flask) -> None:
    position = _submitted("1")
    hostile = ['=HYPERLINK("http://x.example")', "+1+1", "-1+1", "@SUM(A1)"]
    for receipt_id in hostile:
        _receipt(position, receipt_id, amount=position.amount_cents + 1)  # refused, recorded
    text = ledger_csv(day_ledger(local_day(dt.datetime.now(dt.UTC))))
    cells = {r["receipt_id"] for r in _csv_rows(text) if r["record"] == "receipt"}
    assert cells == {"'" + value for value in hostile}
    assert safe_cell("RSSMRA85T10A562S") == "RSSMRA85T10A562S"
    assert safe_cell("\tx") == "'\tx"


# --- the local day --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)],  # the last Sundays of March, October
)
def test_a_day_when_the_clocks_change_is_the_local_day(
    notified: Flask, day: dt.date, hours: int
) -> None:
    start, end = day_bounds(day, "Europe/Rome")
    assert end - start == dt.timedelta(hours=hours)
    assert start.astimezone(ROME).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(0))

    position = _submitted("15")  # the office decides: paying it issues nothing on a past day
    late = dt.datetime.combine(day, dt.time(23, 30), tzinfo=ROME)  # 23:30 local time
    early = dt.datetime.combine(day, dt.time(0, 30), tzinfo=ROME)  # 00:30, the day before in UTC
    after = late + dt.timedelta(hours=1)  # 00:30 of the next local day
    assert _receipt(position, "RCPT-EARLY", at=early, amount=1) == "amount_mismatch"
    assert _receipt(position, "RCPT-LATE", at=late) == "paid"
    assert _receipt(position, "RCPT-AFTER", at=after) == "already_paid"

    ledger = day_ledger(day)
    assert (ledger.starts_at, ledger.ends_at) == (start, end)
    assert [r.receipt_id for r in ledger.receipts] == ["RCPT-EARLY", "RCPT-LATE"]
    assert ledger.grand_total.paid_cents == position.amount_cents
    following = day_ledger(day + dt.timedelta(days=1))
    assert [r.receipt_id for r in following.receipts] == ["RCPT-AFTER"]
    assert day_ledger(day - dt.timedelta(days=1)).receipts == []
    local_times = [
        r["local_time"] for r in _csv_rows(ledger_csv(ledger)) if r["record"] == "receipt"
    ]
    assert local_times[1].startswith(f"{day.isoformat()}T23:30:00+")


# --- refunds -------------------------------------------------------------------------------------


def _refund_events() -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.action == "refund_done")))


def test_marking_a_refund_done_twice_changes_it_once(notified: Flask) -> None:
    day, positions = _busy_day()
    supervisor = make_user("supervisor", "conti@comune.example.org")
    refund = next(r for r in accounting.open_refunds() if r.reason == "double_payment")
    first = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)

    accounting.mark_refund_done(refund.refund_id, Actor.of_user(supervisor), first)
    accounting.mark_refund_done(
        refund.refund_id, Actor.of_user(supervisor), first + dt.timedelta(days=1)
    )

    db.session.expire_all()
    stored = db.session.get(RefundRequest, refund.refund_id)
    assert stored is not None and stored.done_at == first and stored.done_by_id == supervisor.id
    events = _refund_events()
    assert len(events) == 1
    assert events[0].subject_id == positions["resident"].iuv
    assert events[0].data == {"receipt_id": "RCPT-2", "amount_cents": refund.amount_cents}
    assert [r.reason for r in accounting.open_refunds()] == ["cancelled_notice"]
    assert sorted(r.done for r in day_ledger(day).refunds) == [False, True]
    with pytest.raises(ServiceError) as unknown:
        accounting.mark_refund_done(999_999, Actor.of_user(supervisor), first)
    assert unknown.value.code == "not_found"


def test_positions_needing_attention(notified: Flask) -> None:
    position = _submitted("1")
    assert accounting.positions_needing_attention() == []
    stored = db.session.get(PaymentPosition, position.id)
    assert stored is not None
    stored.last_error = "intermediary unavailable"
    db.session.commit()
    assert [p.notice_number for p in accounting.positions_needing_attention()] == [
        position.notice_number
    ]
    withdrawn = _submitted("15")
    stored = db.session.get(PaymentPosition, withdrawn.id)
    assert stored is not None
    stored.state = "cancelling"
    db.session.commit()
    assert len(accounting.positions_needing_attention()) == 2


# --- the page and the file ------------------------------------------------------------------------


def _text(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_page_shows_the_day_to_supervisors_in_words(
    notified: Flask, client: FlaskClient
) -> None:
    day, positions = _busy_day()
    sign_in(client, "supervisor")
    response = client.get(f"{PAGE}?giorno={day.isoformat()}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = _text(response)
    ledger = day_ledger(day)
    assert "Totali del " in page and "€ " in page
    assert f"/supervisione/pagamenti.csv?giorno={day.isoformat()}" in page
    for phrase in (
        "Importo diverso da quello dell'avviso",
        "Pagatore diverso dal debitore dell'avviso",
        "Nessun avviso con questo numero",
        "Codice della ricevuta già usato per un altro pagamento",
        "Doppio pagamento",
    ):
        assert phrase in page, phrase
    assert money_text(ledger.grand_total.paid_cents) in page
    # The refund buttons are named by their notice, never by a database id.
    names = {" ".join(n.name.split()) for n in audit(response.get_data(as_text=True)).named}
    for position in (positions["resident"], positions["withdrawn"]):
        name = f"Rimborso eseguito per l'avviso {grouped(position.notice_number)}"
        assert name in names
    for code in ("amount_mismatch", "double_payment", "notification", "cancelled_notice"):
        assert f">{code}<" not in page


@pytest.mark.parametrize("viewer", ["anonymous", "resident", "clerk", "police"])
def test_the_page_and_the_file_are_for_supervisors_only(
    notified: Flask, client: FlaskClient, viewer: str
) -> None:
    if viewer != "anonymous":
        sign_in(client, viewer)
    for path in (PAGE, CSV_PAGE):
        response = client.get(path)
        if viewer == "anonymous":
            assert response.status_code == 302 and "/accedi" in response.headers["Location"]
        else:
            assert response.status_code == 403, (viewer, path)


def test_the_file_is_the_day_s_csv(notified: Flask, client: FlaskClient) -> None:
    day, _positions = _busy_day()
    sign_in(client, "admin")
    response = client.get(f"{CSV_PAGE}?giorno={day.isoformat()}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="pagamenti-{day.isoformat()}.csv"'
    )
    assert response.get_data(as_text=True) == ledger_csv(day_ledger(day))
    assert "€" not in response.get_data(as_text=True)


@pytest.mark.parametrize("raw", ["2026-13-45", "ieri", "9999-12-31", "0001-01-01", "2026-1-1x"])
def test_a_day_that_cannot_be_read_gets_a_message_not_an_error(
    notified: Flask, client: FlaskClient, raw: str
) -> None:
    sign_in(client, "supervisor")
    response = client.get(PAGE, query_string={"giorno": raw})
    assert response.status_code == 200
    page = _text(response)
    assert "non è una data valida" in page and "AAAA-MM-GG" in page
    today = local_day(dt.datetime.now(dt.UTC))
    assert f'value="{today.isoformat()}"' in page
    file = client.get(CSV_PAGE, query_string={"giorno": raw})
    assert file.status_code == 303 and file.headers["Location"].endswith(PAGE)
    assert "non è una data valida" in _text(client.get(file.headers["Location"]))


def test_a_refund_is_marked_done_from_the_page_once_after_confirmation(
    notified: Flask, client: FlaskClient
) -> None:
    day, _positions = _busy_day()
    supervisor = sign_in(client, "supervisor")
    refund = next(r for r in accounting.open_refunds() if r.reason == "cancelled_notice")
    action = f"{PAGE}/rimborsi/{refund.refund_id}/eseguito?giorno={day.isoformat()}"

    token = csrf_token(client, PAGE)
    unconfirmed = client.post(action, data={"csrf_token": token})
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["Location"].endswith(action)  # the confirmation page
    confirmation = client.get(unconfirmed.headers["Location"])
    assert confirmation.status_code == 200
    assert "Segnare come eseguito il rimborso dell'avviso" in _text(confirmation)
    assert _refund_events() == []

    for attempt in range(2):
        done = client.post(action, data={"csrf_token": token, "confirmed": "yes"})
        assert done.status_code == 303, attempt
        assert done.headers["Location"].endswith(f"{PAGE}?giorno={day.isoformat()}")
        message = _text(client.get(done.headers["Location"]))
        expected = "segnato come eseguito" if attempt == 0 else "era già segnato come eseguito"
        assert expected in message
    db.session.expire_all()
    stored = db.session.get(RefundRequest, refund.refund_id)
    assert stored is not None and stored.done_by_id == supervisor.id
    assert len(_refund_events()) == 1
    assert refund.refund_id not in {r.refund_id for r in accounting.open_refunds()}
    missing = client.post(
        f"{PAGE}/rimborsi/999999/eseguito", data={"csrf_token": token, "confirmed": "yes"}
    )
    assert missing.status_code == 404
    assert client.get(f"{PAGE}/rimborsi/999999/eseguito").status_code == 404


def test_the_channel_label_of_every_receipt_channel() -> None:
    from ztl.labels import PAYMENT_CHANNEL_LABELS

    assert set(PAYMENT_CHANNEL_LABELS) == {NOTIFICATION, RECONCILIATION, SIGNED, "counter"}


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_page_and_its_confirmation_pass_the_audit(
    notified: Flask, client: FlaskClient, language: str
) -> None:
    _busy_day()
    supervisor = sign_in(client, "supervisor")
    supervisor.full_name = "Luca Neri"  # a person's name, not the role's code
    db.session.commit()
    if language != "it":
        token = csrf_token(client, PAGE)
        client.post("/lingua", data={"lang": language, "next": "/", "csrf_token": token})
    refund = accounting.open_refunds()[0]
    position = db.session.get(PaymentPosition, _submitted("15").id)
    assert position is not None
    position.last_error = "intermediary unavailable"
    db.session.commit()
    pages = {
        "page": client.get(PAGE),
        "confirmation": client.get(f"{PAGE}/rimborsi/{refund.refund_id}/eseguito"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        text = response.get_data(as_text=True)
        assert problems_of(audit(text), language) == [], name
        assert leaks(visible_text(text), language) == [], name
