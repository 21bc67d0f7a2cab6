"""One application as a clerk sees it (data, checks with evidence, documents, history) and the
decisions on it: approve (and issue), reject, ask for documents.

Each decision is its own POST route with its own form, so a missing reason cannot turn into an
approval. The view parses the form, calls one service, flashes what happened and redirects (303)
back to the application; a refusal (already decided, no reason) is a message, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ztl.applications import decisions
from ztl.applications.clerk_queue import application_file
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.web.clerk.blueprint import acting_clerk, bp, flash_form_errors, flash_refusal
from ztl.web.clerk.forms import (
    ApproveForm,
    DocumentsRequestForm,
    OverrulingApproveForm,
    RejectForm,
)
from ztl.web.clerk.texts import DETAIL_LABELS, labels
from ztl.web.downloads import document_download


def _back(application_id: int) -> Response:
    return redirect(url_for("clerk.application", application_id=application_id), 303)


@bp.get("/domande/<int:application_id>")
def application(application_id: int) -> str:
    try:
        found = application_file(application_id)
    except ServiceError:
        abort(404)
    return render_template(
        "clerk/application.html",
        file=found,
        application=found.application,
        decidable=found.application.status in decisions.OPEN_FOR_DECISION,
        approve_form=OverrulingApproveForm() if found.failed_checks else ApproveForm(),
        reject_form=RejectForm(),
        documents_form=DocumentsRequestForm(),
        detail_labels=DETAIL_LABELS,
        **labels(),
    )


def _decide(application_id: int, form: FlaskForm, decide: Callable[[], str]) -> Response:
    """Validate the form's shape, run the decision, and say what happened on the application page."""
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(application_id)
    try:
        message = decide()
    except ServiceError as exc:
        flash_refusal(exc)
        return _back(application_id)
    flash(message, "success")
    return _back(application_id)


@bp.post("/domande/<int:application_id>/approva")
def approve(application_id: int) -> Response:
    form = ApproveForm()

    def run() -> str:
        result = decisions.approve(application_id, acting_clerk(), form.note.data or None)
        if not result.created:
            return _(
                "La domanda era già approvata: il permesso %(n)s esisteva già.", n=result.number
            )
        return _("Domanda approvata: rilasciato il permesso %(n)s.", n=result.number)

    return _decide(application_id, form, run)


@bp.post("/domande/<int:application_id>/respingi")
def reject(application_id: int) -> Response:
    form = RejectForm()

    def run() -> str:
        decisions.reject(application_id, acting_clerk(), form.reason.data or "")
        return _("Domanda respinta. Il richiedente vede il motivo.")

    return _decide(application_id, form, run)


@bp.post("/domande/<int:application_id>/chiedi-documenti")
def request_documents(application_id: int) -> Response:
    form = DocumentsRequestForm()

    def run() -> str:
        decisions.request_documents(application_id, acting_clerk(), form.message.data or "")
        return _("Richiesta di documenti inviata al richiedente.")

    return _decide(application_id, form, run)


@bp.get("/documenti/<int:document_id>")
def download_document(document_id: int) -> Response:
    return document_download(document_id, current_user)
