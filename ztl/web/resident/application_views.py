"""The applicant's application pages: choose a category, fill in, attach, submit, pay, withdraw.

Views parse the form, call one service, and redirect (303) with a message; the rules about what may
be done when live in ztl/applications/applicant.py and documents.py. Another person's application
is "not found" (404), never "forbidden": ids are guessable, their existence is nobody's business.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ztl.accounts import representation
from ztl.applications import applicant as applications
from ztl.applications import documents
from ztl.applications.dashboard import application_events, own_application
from ztl.applications.payment_notices import application_notice, application_notice_pdf
from ztl.applications.steps import CATEGORY, current_step, step_states
from ztl.city.rules_config import current_rules
from ztl.eligibility.applicant_view import applicant_outcome
from ztl.eligibility.service import (
    DECLARABLE_CATEGORIES,
    DECLARABLE_EURO_CLASSES,
    DECLARABLE_FUELS,
)
from ztl.errors import error_text
from ztl.i18n import current_language
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.infrastructure.uploads import max_document_bytes
from ztl.labels import CHECK_STATUS, DOCUMENT_KINDS, EVENT_LABELS, OUTCOMES
from ztl.payments.positions import refund_ends
from ztl.permits.queries import downloadable_permit_of
from ztl.records.overview import categories_in_force
from ztl.rules.wording import FUELS, name_of
from ztl.values.display import duration_text
from ztl.values.times import from_local
from ztl.web.confirmation import confirmed
from ztl.web.downloads import document_download, notice_pdf_download
from ztl.web.resident.forms import (
    DECLARABLE_CATEGORY_LABELS,
    DECLARATION_HELP,
    PLATE_HELP,
    ActionForm,
    ApplicationForm,
    DocumentForm,
    SubmitForm,
)
from ztl.web.resident.views import bp


def _refused(error: ServiceError) -> None:
    if error.code == "not_found":
        abort(404)
    flash(error_text(error), "danger")


def _category_or_404(code: str) -> Any:
    try:
        return current_rules().category(code)
    except KeyError:
        abort(404)


def _prepare(form: ApplicationForm, category: Any, current_firm: str = "") -> None:
    form.zones.choices = [(z, z) for z in category.zones]
    form.validity.choices = [(v, duration_text(v, current_language())) for v in category.validity]
    if applications.is_firm_category(category):
        # The firms the person may act for; a draft's firm stays offered even if it is no longer.
        firms = [
            (f.partita_iva, f"{f.name} ({f.partita_iva})" if f.name else f.partita_iva)
            for f in representation.firms_of(current_user)
        ]
        if current_firm and current_firm not in {value for value, _label in firms}:
            firms.append((current_firm, current_firm))
        form.applicant_id.choices = firms
    if _takes_declarations(category):
        language = current_language()
        form.declared_category.choices = [("", "—")] + [
            (code, str(DECLARABLE_CATEGORY_LABELS[code])) for code in DECLARABLE_CATEGORIES
        ]
        form.declared_fuel.choices = [("", "—")] + [
            (fuel, name_of(FUELS, fuel, language)) for fuel in DECLARABLE_FUELS
        ]
        form.declared_euro_class.choices = [("", "—")] + [
            (str(n), f"Euro {n}") for n in DECLARABLE_EURO_CLASSES
        ]
    if not form.is_submitted():
        form.zones.data = form.zones.data or list(category.zones)
        form.validity.data = form.validity.data or category.validity[0]


def _takes_declarations(category: Any) -> bool:
    policy = category.unregistered_vehicles
    return policy is not None and policy.on_declaration


def _declaring(form: ApplicationForm, category: Any) -> bool:
    """Whether the form shows the declared vehicle's fields: once the service asked for them (the
    plate is not in the register) or they carry data; a registered plate never sees them."""
    fields = (form.declared_category, form.declared_fuel, form.declared_euro_class)
    return _takes_declarations(category) and any(f.data or f.errors for f in fields)


def declared_text(application: Any) -> str | None:
    """The declared vehicle as people read it: type, fuel and Euro class, or None."""
    declared = applications.declared_vehicle(application)
    if declared is None:
        return None
    kind = DECLARABLE_CATEGORY_LABELS.get(declared.category, declared.category)
    fuel = name_of(FUELS, declared.fuel, current_language())
    return f"{kind}, {fuel}, Euro {declared.euro_class}"


def _input(form: ApplicationForm, category: Any) -> applications.ApplicationInput:
    timezone = current_rules().timezone
    details = {
        "registration_number": form.registration_number.data or "",
        "parking_spaces": str(form.parking_spaces.data or ""),
        "notes": form.notes.data or "",
    }
    return applications.ApplicationInput(
        category=category.code,
        applicant_id=form.applicant_id.data or "",
        plates=tuple(p for p in (form.plate_1.data, form.plate_2.data, form.plate_3.data) if p)[
            : category.max_plates
        ],
        zones=tuple(form.zones.data or ()),
        validity=form.validity.data or None,
        requested_from=form.requested_from.data,
        starts_at=from_local(form.starts_at.data, timezone) if form.starts_at.data else None,
        transit_at=from_local(form.transit_at.data, timezone) if form.transit_at.data else None,
        details=details,
        declared_category=form.declared_category.data or "",
        declared_fuel=form.declared_fuel.data or "",
        declared_euro_class=form.declared_euro_class.data or "",
    )


def _form_field(form: ApplicationForm, name: str) -> Any:
    return getattr(form, {"plates": "plate_1"}.get(name, name), form.plate_1)


@bp.get("/domande/nuova")
def choose_category() -> str:
    rules = {c.code: c for c in current_rules().categories}
    return render_template(
        "resident/categories.html",
        categories=[c for c in categories_in_force() if c.code in rules],
        rules=rules,
        document_kinds=DOCUMENT_KINDS,
        steps=step_states(CATEGORY),
    )


@bp.route("/domande/nuova/<path:code>", methods=["GET", "POST"])
def new_application(code: str) -> Any:
    category = _category_or_404(code)
    form = ApplicationForm()
    _prepare(form, category)
    if form.validate_on_submit():
        try:
            application_id = applications.create_draft(current_user, _input(form, category))
        except applications.ApplicationInputError as exc:
            _form_field(form, exc.field).errors = [error_text(exc)]
        else:
            flash(
                _("Bozza salvata. Controlla l'esito dei controlli, poi invia la domanda."),
                "success",
            )
            return redirect(url_for("resident.application", application_id=application_id), 303)
    return _form_page(form, category)


@bp.route("/domande/<int:application_id>/modifica", methods=["GET", "POST"])
def edit_application(application_id: int) -> Any:
    try:
        application = own_application(application_id, current_user)
    except ServiceError:
        abort(404)
    category = _category_or_404(application.category.code)
    form = ApplicationForm()
    _prepare(
        form, category, application.applicant_id if len(application.applicant_id) == 11 else ""
    )
    if not form.is_submitted():
        _fill_form(form, application)
    elif form.validate():
        try:
            applications.update_draft(application_id, current_user, _input(form, category))
        except applications.ApplicationInputError as exc:
            _form_field(form, exc.field).errors = [error_text(exc)]
        except ServiceError as exc:
            _refused(exc)
            return redirect(url_for("resident.application", application_id=application_id), 303)
        else:
            flash(_("Bozza aggiornata."), "success")
            return redirect(url_for("resident.application", application_id=application_id), 303)
    return _form_page(form, category, application)


def _form_page(form: ApplicationForm, category: Any, application: Any = None) -> Any:
    """The form, with what the category needs; 400 when a submitted form comes back with errors."""
    page = render_template(
        "resident/application_form.html",
        form=form,
        category=category,
        application=application,
        firm=applications.is_firm_category(category),
        hourly=any(v.startswith("PT") for v in category.validity),
        retroactive=applications.is_retroactive_category(category),
        plate_help=PLATE_HELP,
        declaring=_declaring(form, category),
        declaration_help=DECLARATION_HELP,
        steps=step_states(current_step(None)),
    )
    return page, (400 if form.is_submitted() else 200)


def _fill_form(form: ApplicationForm, application: Any) -> None:
    plates = [
        p.plate if p.country == "IT" else f"{p.country}:{p.plate}" for p in application.plates
    ]
    for field, plate in zip((form.plate_1, form.plate_2, form.plate_3), plates, strict=False):
        field.data = plate
    details = application.details or {}
    form.applicant_id.data = application.applicant_id if len(application.applicant_id) == 11 else ""
    form.zones.data = [z.code for z in application.zones]
    form.validity.data = details.get("validity")
    form.requested_from.data = application.requested_from
    form.registration_number.data = details.get("registration_number", "")
    form.notes.data = details.get("notes", "")
    declared = applications.declared_vehicle(application)
    if declared is not None:
        form.declared_category.data = declared.category
        form.declared_fuel.data = declared.fuel
        form.declared_euro_class.data = str(declared.euro_class)


@bp.get("/domande/<int:application_id>")
def application(application_id: int) -> str:
    try:
        found = own_application(application_id, current_user)
    except ServiceError:
        abort(404)
    upload = DocumentForm()
    upload.kind.choices = [
        (k, str(DOCUMENT_KINDS.get(k, k))) for k in documents.document_kinds(found.category.code)
    ]
    return render_template(
        "resident/application.html",
        application=found,
        events=application_events(application_id),
        upload=upload,
        action=ActionForm(),
        document_kinds=DOCUMENT_KINDS,
        event_labels=EVENT_LABELS,
        outcomes=OUTCOMES,
        check_status=CHECK_STATUS,
        total=applications.total_due(found),
        attachable=found.status in documents.ATTACHABLE,
        withdrawable=found.status in applications.WITHDRAWABLE,
        max_bytes=max_document_bytes(),
        declared=declared_text(found),
        promise=applications.clerk_promise(found),
        submit_form=SubmitForm(),
        shown_outcome=applicant_outcome(found.outcome, found.verdict),
        steps=step_states(current_step(found)),
        money=applications.withdrawal_money(found),
        permit_number=downloadable_permit_of(found.id),
        notice=application_notice(found.id),
        refund_on_rejection="rejected" in refund_ends(),
    )


@bp.get("/domande/<int:application_id>/avviso.pdf")
def application_notice_download(application_id: int) -> Response:
    """The printed pagoPA notice of the applicant's own application; 404 for anyone else."""
    try:
        pdf = application_notice_pdf(application_id, current_user)
    except ServiceError as exc:
        if exc.code == "notice_not_ready":
            flash(error_text(exc), "warning")
            return _back(application_id)
        abort(404)
    return notice_pdf_download(pdf)


def _back(application_id: int) -> Response:
    return redirect(url_for("resident.application", application_id=application_id), 303)


@bp.post("/domande/<int:application_id>/invia")
def submit_application(application_id: int) -> Response:
    form = SubmitForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Il motivo della revisione è troppo lungo: al massimo 1000 caratteri."), "danger")
        return _back(application_id)
    # The reason counts only with the box ticked: asking for a review is a deliberate choice.
    reason = (form.review_reason.data or "") if form.review_requested.data else ""
    try:
        outcome = applications.submit_application(
            application_id, current_user, review_reason=reason
        )
    except ServiceError as exc:
        _refused(exc)
        return _back(application_id)
    if outcome.permit_number:
        flash(
            _("Domanda inviata e permesso rilasciato: %(n)s.", n=outcome.permit_number), "success"
        )
    elif outcome.payment_due_cents:
        flash(_("Domanda inviata. Ora paga l'avviso pagoPA indicato qui sotto."), "success")
    else:
        flash(_("Domanda inviata all'ufficio permessi."), "success")
    return _back(application_id)


@bp.post("/domande/<int:application_id>/paga")
def pay_application(application_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        outcome = applications.pay_own_application(application_id, current_user)
    except ServiceError as exc:
        _refused(exc)
        return _back(application_id)
    if outcome.permit_number:
        flash(
            _("Pagamento registrato e permesso rilasciato: %(n)s.", n=outcome.permit_number),
            "success",
        )
    else:
        flash(_("Pagamento registrato: la domanda passa all'ufficio permessi."), "success")
    return _back(application_id)


@bp.get("/domande/<int:application_id>/ritira")
def confirm_withdrawal(application_id: int) -> str:
    """The confirmation of a withdrawal, as a page: what the dialog says (what happens to the
    fee), for a browser without the dialog's script (ztl/web/confirmation.py)."""
    try:
        found = own_application(application_id, current_user)
    except ServiceError:
        abort(404)
    return render_template(
        "confirm.html",
        kind="withdraw",
        refusal=None
        if found.status in applications.WITHDRAWABLE
        else error_text("not_withdrawable"),
        application=found,
        money=applications.withdrawal_money(found),
        action=ActionForm(),
        cancel_url=url_for("resident.application", application_id=application_id),
    )


@bp.post("/domande/<int:application_id>/ritira")
def withdraw_application(application_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    if not confirmed():
        try:  # another person's application is not found, confirmed or not
            own_application(application_id, current_user)
        except ServiceError:
            abort(404)
        flash(_("Per ritirare la domanda conferma qui sotto: il ritiro non si annulla."), "warning")
        return redirect(url_for("resident.confirm_withdrawal", application_id=application_id), 303)
    try:
        applications.withdraw_application(application_id, current_user)
    except ServiceError as exc:
        _refused(exc)
        return _back(application_id)
    flash(_("Domanda ritirata."), "success")
    return _back(application_id)


@bp.post("/domande/<int:application_id>/documenti")
def attach_document(application_id: int) -> Response:
    form = DocumentForm()
    form.kind.choices = [(k, k) for k in documents.document_kinds_all()]
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Scegli il tipo di documento e il file da allegare."), "danger")
        return _back(application_id)
    upload = form.file.data
    data = upload.read(max_document_bytes() + 1)
    try:
        documents.attach_document(
            application_id, current_user, form.kind.data, upload.filename or "", data
        )
    except ServiceError as exc:
        _refused(exc)
        return _back(application_id)
    flash(_("Documento allegato."), "success")
    return _back(application_id)


@bp.post("/documenti/<int:document_id>/elimina")
def remove_document(document_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    application_id = request.args.get("domanda", type=int) or 0
    try:
        documents.remove_document(document_id, current_user)
    except ServiceError as exc:
        _refused(exc)
    else:
        flash(_("Documento tolto."), "success")
    if application_id:
        return _back(application_id)
    return redirect(url_for("resident.home"), 303)


@bp.get("/documenti/<int:document_id>")
def download_document(document_id: int) -> Response:
    return document_download(document_id, current_user)
