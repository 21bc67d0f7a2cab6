"""The accounting office's page: a day's payments by category, the receipts refused that day, the
refunds still to pay, the notices the intermediary has not confirmed, and the day as a CSV file.

The day is the municipality's local day (ztl.records.accounting says how it is bounded), chosen
with `?giorno=YYYY-MM-DD`, today by default. A day that cannot be read is answered with today's
page and a message saying so, never an error page: it is a link a person typed or kept. Marking a
refund done is confirmed first, in a dialog or without script on its own page, and a post without
the confirmation goes to that page (ztl/web/confirmation.py); a repeat changes nothing. The pages
and the file are no-store: they name payers.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ztl.infrastructure.unit_of_work import ServiceError
from ztl.labels import (
    PAYMENT_CHANNEL_LABELS,
    POSITION_STATE_LABELS,
    RECEIPT_REASON_LABELS,
    REFUND_REASON_LABELS,
)
from ztl.payments.notice_numbers import grouped
from ztl.records.accounting import (
    RefundRow,
    day_ledger,
    ledger_csv,
    local_day,
    mark_refund_done,
    open_refunds,
    positions_needing_attention,
    refund_row,
)
from ztl.values import InvalidValue
from ztl.values.times import MAX_YEAR, MIN_YEAR, parse_date
from ztl.web.confirmation import confirmed
from ztl.web.supervisor.blueprint import acting_user, bp
from ztl.web.supervisor.forms import ActionForm

DAY_ARGUMENT = "giorno"


def _day(raw: str | None) -> tuple[dt.date, bool]:
    """The day asked for, or today (local) when none is; False when the one given is unusable."""
    today = local_day(dt.datetime.now(dt.UTC))
    if not (raw or "").strip():
        return today, True
    try:
        day = parse_date(raw or "")
    except InvalidValue:
        return today, False
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        return today, False
    return day, True


def _bad_day_message(raw: str) -> str:
    return _(
        "Il giorno «%(raw)s» non è una data valida: scrivila come AAAA-MM-GG, per esempio "
        "2026-12-05. Ecco i pagamenti di oggi.",
        raw=raw[:40],
    )


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(day: dt.date, confirming: RefundRow | None = None) -> Response:
    ledger = day_ledger(day)
    html = render_template(
        "supervisor/payments.html",
        ledger=ledger,
        refunds=open_refunds(),
        attention=positions_needing_attention(),
        previous_day=(day - dt.timedelta(days=1)).isoformat() if day.year > MIN_YEAR else None,
        next_day=(day + dt.timedelta(days=1)).isoformat() if day.year < MAX_YEAR else None,
        action=ActionForm(),
        confirming=confirming,
        timezone=ledger.timezone,
        reasons=RECEIPT_REASON_LABELS,
        refund_reasons=REFUND_REASON_LABELS,
        channels=PAYMENT_CHANNEL_LABELS,
        states=POSITION_STATE_LABELS,
    )
    return _no_store(make_response(html, 200))


@bp.get("/pagamenti")
def payments() -> Response:
    raw = request.args.get(DAY_ARGUMENT, "")
    day, readable = _day(raw)
    if not readable:
        flash(_bad_day_message(raw), "warning")
    return _page(day)


@bp.get("/pagamenti.csv")
def payments_csv() -> Response:
    raw = request.args.get(DAY_ARGUMENT, "")
    day, readable = _day(raw)
    if not readable:  # a file cannot carry the message: the page does
        flash(_bad_day_message(raw), "warning")
        return redirect(url_for("supervisor.payments"), 303)
    response = make_response(ledger_csv(day_ledger(day)), 200)
    response.mimetype = "text/csv"
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="pagamenti-{day.isoformat()}.csv"'
    )
    return _no_store(response)


def _back_day() -> str:
    """The day of the page the button was on, when it is a day (else today's page)."""
    day, readable = _day(request.args.get(DAY_ARGUMENT, ""))
    return day.isoformat() if readable else ""


@bp.get("/pagamenti/rimborsi/<int:refund_id>/eseguito")
def confirm_refund_done(refund_id: int) -> Response:
    """The confirmation of a refund paid, as a page, for a browser without the dialog's script."""
    found = refund_row(refund_id)
    if found is None:
        abort(404)
    day, _readable = _day(request.args.get(DAY_ARGUMENT, ""))
    return _page(day, confirming=found)


@bp.post("/pagamenti/rimborsi/<int:refund_id>/eseguito")
def refund_done(refund_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    day = _back_day()
    found = refund_row(refund_id)
    if found is None:
        abort(404)
    if not confirmed():
        flash(_("Per segnare il rimborso come eseguito conferma qui sotto."), "warning")
        target = url_for("supervisor.confirm_refund_done", refund_id=refund_id, giorno=day or None)
        return redirect(target, 303)
    try:
        mark_refund_done(refund_id, acting_user(), dt.datetime.now(dt.UTC))
    except ServiceError as exc:
        if exc.code == "not_found":
            abort(404)
        raise
    if found.done:
        flash(
            _(
                "Il rimborso dell'avviso %(notice)s era già segnato come eseguito.",
                notice=grouped(found.notice_number),
            ),
            "info",
        )
    else:
        flash(
            _(
                "Rimborso dell'avviso %(notice)s segnato come eseguito.",
                notice=grouped(found.notice_number),
            ),
            "success",
        )
    return redirect(url_for("supervisor.payments", giorno=day or None), 303)
