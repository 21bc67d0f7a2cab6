"""A hotel's page: its booklets (40 registrations each), and guest registration, one or a file.

The hotel's receptionist signs in with their own account and acts for the hotel as its legal
representative or an approved delegate (ztl.accounts.representation); each booklet belongs to the
hotel (its partita IVA), and registrations are made only against a paid booklet of that hotel
(ztl.applications.hotel_guests). Hotels are shown by their name in the business register.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ztl.accounts import representation
from ztl.applications import hotel_guests
from ztl.applications.payment_notices import booklet_notice_pdf, booklet_notices
from ztl.city.rules_config import current_rules
from ztl.errors import error_text
from ztl.i18n import current_language
from ztl.infrastructure import submissions
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.values.times import from_local
from ztl.web.downloads import notice_pdf_download
from ztl.web.idempotency import remember_result, submission_key, submission_scope
from ztl.web.resident.forms import ActionForm, BookletForm, GuestBatchForm, GuestForm
from ztl.web.resident.views import bp

MAX_CSV_BYTES = 256 * 1024


def _label(partita_iva: str, names: dict[str, str]) -> str:
    """A hotel as people know it: its name, then its partita IVA."""
    name = names.get(partita_iva)
    return f"{name} ({partita_iva})" if name else partita_iva


def _forms(booklets: list[Any] | None = None) -> tuple[GuestForm, GuestBatchForm, dict[str, str]]:
    """The guest forms, offering the hotels with a paid booklet; and the hotels' names."""
    booklets = hotel_guests.booklets_of(current_user) if booklets is None else booklets
    names = representation.firm_names(b.holder_id for b in booklets)
    hotels = sorted({b.holder_id for b in booklets if b.paid_at}, key=lambda h: _label(h, names))
    guest, batch = GuestForm(prefix="guest"), GuestBatchForm(prefix="batch")
    guest.hotel.choices = batch.hotel.choices = [(h, _label(h, names)) for h in hotels]
    return guest, batch, names


def _report_lines(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A guest file's report as the reader reads it: a refused line's words come from the error
    catalogue in the page's language, with the checks' own sentences for a refused registration."""
    language = current_language()
    shown = []
    for line in report:
        code = line.get("problem_code")
        reasons = line.get("reasons_en" if language == "en" else "reasons_it") or ""
        problem = error_text(code, checks=reasons) if code else None
        shown.append({**line, "problem": problem})
    return shown


def _page(report: list[dict[str, Any]] | None = None, status: int = 200) -> tuple[str, int]:
    booklets = hotel_guests.booklets_of(current_user)
    guest, batch, names = _forms(booklets)
    hotels = hotel_guests.hotels_of(current_user)
    booklet_form = BookletForm(prefix="booklet")
    booklet_form.hotel.choices = [
        (h.partita_iva, _label(h.partita_iva, {h.partita_iva: h.name or ""})) for h in hotels
    ]
    return render_template(
        "resident/hotel.html",
        booklets=booklets,
        notices=booklet_notices([b.id for b in booklets]),
        hotels=hotels,
        hotel_names=names,
        permits=hotel_guests.guest_permits(current_user),
        booklet_form=booklet_form,
        guest_form=guest,
        batch_form=batch,
        action=ActionForm(),
        report=_report_lines(report) if report else None,
    ), status


@bp.get("/albergo")
def hotel() -> tuple[str, int]:
    return _page()


def _back() -> Response:
    return redirect(url_for("resident.hotel"), 303)


@bp.post("/albergo/blocchetti")
def buy_booklet() -> Response:
    form = BookletForm(prefix="booklet")
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Scegli l'albergo del blocchetto."), "danger")
        return _back()
    try:
        hotel_guests.buy_booklet(current_user, form.hotel.data or "")
    except ServiceError as exc:
        flash(error_text(exc), "danger")
        return _back()
    flash(_("Blocchetto richiesto: paga l'avviso pagoPA per usarlo."), "success")
    return _back()


@bp.get("/albergo/blocchetti/<int:booklet_id>/avviso.pdf")
def booklet_notice_download(booklet_id: int) -> Response:
    """The booklet's printed pagoPA notice, for whoever may act for its hotel; 404 otherwise."""
    try:
        pdf = booklet_notice_pdf(booklet_id, current_user)
    except ServiceError as exc:
        if exc.code == "notice_not_ready":
            flash(error_text(exc), "warning")
            return _back()
        abort(404)
    return notice_pdf_download(pdf)


@bp.post("/albergo/blocchetti/<int:booklet_id>/paga")
def pay_booklet(booklet_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        hotel_guests.pay_booklet(booklet_id, current_user)
    except ServiceError as exc:
        if exc.code == "not_found":
            abort(404)
        flash(error_text(exc), "danger")
        return _back()
    flash(_("Pagamento del blocchetto registrato."), "success")
    return _back()


@bp.post("/albergo/ospiti")
def register_guest() -> Response | tuple[str, int]:
    form, _batch, _names = _forms()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Controlla i dati dell'ospite."), "danger")
        return _page(status=400)
    arrival = from_local(form.arrival.data, current_rules().timezone)
    guest = hotel_guests.GuestRegistration(form.plate.data or "", arrival, form.nights.data or 1)
    try:
        number = hotel_guests.register_guest(current_user, form.hotel.data or "", guest)
    except hotel_guests.GuestRefused as exc:
        flash(error_text(exc, checks=exc.reasons_in(current_language())), "danger")
        return _back()
    except ServiceError as exc:
        flash(error_text(exc), "danger")
        return _back()
    flash(_("Ospite registrato: permesso %(n)s.", n=number), "success")
    return _back()


@bp.post("/albergo/ospiti/file")
def register_guest_file() -> Response | tuple[str, int]:
    _guest, form, _names = _forms()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Scegli l'albergo e il file CSV."), "danger")
        return _page(status=400)
    raw = form.file.data.read(MAX_CSV_BYTES + 1)
    try:
        if len(raw) > MAX_CSV_BYTES:
            raise ServiceError("file too large", code="too_large")
        text = raw.decode("utf-8-sig")
        report = hotel_guests.register_guest_batch(current_user, form.hotel.data or "", text)
    except UnicodeDecodeError:
        flash(_("Il file non è un CSV in UTF-8."), "danger")
        return _page(status=400)
    except ServiceError as exc:
        flash(error_text(exc), "danger")
        return _page(status=400)
    # Post/redirect/get: a reload of the report's page shows it again, it never registers again.
    remember_result({"report": [dataclasses.asdict(line) for line in report]})
    return redirect(url_for("resident.guest_file_report", key=submission_key()), 303)


@bp.get("/albergo/ospiti/esito/<key>")
def guest_file_report(key: str) -> tuple[str, int]:
    """A guest file's report, line by line, to the receptionist who sent it."""
    shown = submissions.result_of(submission_scope(), key)
    if shown is None:
        abort(404)
    return _page(list(shown.get("report") or []))
