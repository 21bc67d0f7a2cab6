"""Delegations to act for a firm, as clerks handle them: the queue, one request with its two
documents and the firm's entry in the business register, and the decisions: approve, refuse (with
a reason the person reads), revoke (at any time, with a reason).

Each decision is its own POST route with its own form (the refusal's and the revocation's reasons
are prefixed, both being on one page); the view parses it, calls one service
(ztl/accounts/representation.py), flashes what happened and redirects (303) back to the request.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ztl.accounts import representation
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.labels import CAPACITY_LABELS, DELEGATION_STATUS_LABELS, DOCUMENT_KINDS, EVENT_LABELS
from ztl.models.enums import DelegationStatus
from ztl.web.clerk.blueprint import bp, flash_form_errors, flash_refusal
from ztl.web.clerk.forms import DelegationApproveForm, DelegationRefuseForm, DelegationRevokeForm
from ztl.web.downloads import delegation_document_download


def _back(delegation_id: int) -> Response:
    return redirect(url_for("clerk.delegation", delegation_id=delegation_id), 303)


@bp.get("/deleghe")
def delegations() -> str:
    waiting, approved = representation.delegation_queue()
    return render_template(
        "clerk/delegations.html",
        waiting=waiting,
        approved=approved,
        status_labels=DELEGATION_STATUS_LABELS,
    )


@bp.get("/deleghe/<int:delegation_id>")
def delegation(delegation_id: int) -> str:
    try:
        found = representation.delegation_file(delegation_id)
    except ServiceError:
        abort(404)
    status = found.view.delegation.status
    return render_template(
        "clerk/delegation.html",
        file=found,
        delegation=found.view.delegation,
        decidable=status == DelegationStatus.REQUESTED.value,
        revocable=status in representation.LIVE,
        approve_form=DelegationApproveForm(),
        refuse_form=DelegationRefuseForm(prefix="refuse"),
        revoke_form=DelegationRevokeForm(prefix="revoke"),
        status_labels=DELEGATION_STATUS_LABELS,
        capacities=CAPACITY_LABELS,
        document_kinds=DOCUMENT_KINDS,
        event_labels=EVENT_LABELS,
    )


def _decide(delegation_id: int, form: FlaskForm, decide: Callable[[], str]) -> Response:
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(delegation_id)
    try:
        message = decide()
    except ServiceError as exc:
        flash_refusal(exc)
        return _back(delegation_id)
    flash(message, "success")
    return _back(delegation_id)


@bp.post("/deleghe/<int:delegation_id>/approva")
def approve_delegation(delegation_id: int) -> Response:
    def run() -> str:
        representation.approve_delegation(delegation_id, current_user)
        return _("Delega approvata: la persona può operare per l'impresa.")

    return _decide(delegation_id, DelegationApproveForm(), run)


@bp.post("/deleghe/<int:delegation_id>/rifiuta")
def refuse_delegation(delegation_id: int) -> Response:
    form = DelegationRefuseForm(prefix="refuse")

    def run() -> str:
        representation.refuse_delegation(delegation_id, current_user, form.reason.data or "")
        return _("Delega rifiutata. La persona vede il motivo.")

    return _decide(delegation_id, form, run)


@bp.post("/deleghe/<int:delegation_id>/revoca")
def revoke_delegation(delegation_id: int) -> Response:
    form = DelegationRevokeForm(prefix="revoke")

    def run() -> str:
        representation.revoke_delegation(delegation_id, current_user, form.reason.data or "")
        return _("Delega revocata.")

    return _decide(delegation_id, form, run)


@bp.get("/deleghe/documenti/<int:document_id>")
def download_delegation_document(document_id: int) -> Response:
    return delegation_document_download(document_id, current_user)
