"""Supervisors' API token pages: list, create (the secret shown once), revoke.

The plaintext of a new token is put in the page that answers the creation and nowhere else: not in
the session, not in a flash message, not in a log line; only its hash is stored (ztl.accounts.api_tokens).
The answer is marked no-store so that no cache keeps it either.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ztl.accounts.api_tokens import TokenError, create_token, list_tokens, revoke_token
from ztl.errors import error_text
from ztl.web.supervisor.blueprint import acting_user, bp
from ztl.web.supervisor.forms import ActionForm, TokenForm


def _page(form: TokenForm, status: int = 200, created: tuple[str, str] | None = None) -> Response:
    html = render_template(
        "supervisor/tokens.html",
        form=form,
        tokens=list_tokens(),
        action=ActionForm(),
        created=created,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/token", methods=["GET", "POST"])
def tokens() -> Response:
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, 400 if request.method == "POST" else 200)
    try:
        token, plaintext = create_token(form.name.data or "", form.role.data or "", acting_user())
    except TokenError as exc:
        form.name.errors = [error_text(exc)]
        return _page(form, 422)
    return _page(TokenForm(formdata=None), 201, created=(token.name, plaintext))


@bp.post("/token/<name>/revoca")
def revoke_api_token(name: str) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        revoke_token(name, acting_user())
    except TokenError as exc:
        if exc.code == "not_found":
            abort(404)
        raise
    flash(_("Il token %(name)s è revocato: non è più accettato.", name=name), "success")
    return redirect(url_for("supervisor.tokens"), 303)
