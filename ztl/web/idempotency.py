"""Every form carries an idempotency key; a repeat of a submission gets the first one's result.

How: templates put `{{ idempotency_field() }}` beside the CSRF token, a fresh random key per
rendered form. Before a POST reaches its view, the key is claimed (ztl.infrastructure.submissions); after
the view, a redirect (post/redirect/get: every state-changing form answers with one) is
remembered as the submission's result, and a refusal or an error releases the claim so that the
corrected form can be sent again. A repeat or a simultaneous twin is sent where the first one went,
with a note that it had already been received. A POST without a key (a script, an old page) is
given one, so the same bookkeeping holds, without the protection against repeats.

Forms that change nothing (sign-in and sign-out, language, the police officer's plate query, which
is a POST only to keep plates out of URLs and logs) are not claimed.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, redirect, request, session
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import Conflict
from werkzeug.wrappers import Response

from ztl.infrastructure import submissions
from ztl.web.redirects import safe_next

KEY_FIELD = "idempotency_key"
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
# POST forms that change no state, so a repeat needs no memory (see the module's docstring).
NOT_CLAIMED = frozenset(
    {
        "auth.login",
        # The sign-in's second step: a code is accepted once (ztl.accounts.second_factor).
        "auth.second_factor_code",
        "auth.second_factor_enrol",
        "auth.logout",
        "public.set_language",
        "police.plate_lookup",
    }
)
_SKIPPED_PREFIXES = ("/api/", "/.well-known/", "/static/")


def idempotency_field() -> Markup:
    """A hidden input with a fresh key, for every form template (a Jinja global)."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        KEY_FIELD, secrets.token_urlsafe(24)
    )


def submission_scope() -> str:
    """Whose submission: the account, or before sign-in the browser's session (its CSRF secret)."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"session:{session.get('csrf_token', '')}"


def submission_key() -> str | None:
    """The key of the submission being handled (for a view that leaves a result to show)."""
    claimed = g.get("ztl_submission")
    return claimed[1] if claimed else None


def remember_result(result: dict[str, Any]) -> None:
    """Keep what a GET page shows after the redirect (a file's report): post/redirect/get."""
    g.ztl_submission_result = result


def page_sent_from() -> str:
    """The page the form was on, when it is a page of this site; else the home page. The Referer
    header is the client's word: another host or a malformed value never becomes a redirect."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return "/"
    local = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_next(local) or "/"


def register_idempotency(app: Flask) -> None:
    app.jinja_env.globals["idempotency_field"] = idempotency_field
    app.before_request(_claim)
    app.after_request(_finish)
    app.teardown_request(_release_on_error)


def _claimed_request() -> bool:
    return (
        request.method == "POST"
        and request.endpoint is not None
        and request.endpoint not in NOT_CLAIMED
        and not request.path.startswith(_SKIPPED_PREFIXES)
    )


def _claim() -> Response | None:
    if not _claimed_request():
        return None
    key = request.form.get(KEY_FIELD)
    if key is None:
        key = secrets.token_urlsafe(24)
    elif not _KEY.fullmatch(key):
        abort(400)
    user_id = int(current_user.id) if current_user.is_authenticated else None
    outcome = submissions.claim(submission_scope(), key, user_id, str(request.endpoint))
    if isinstance(outcome, int):
        g.ztl_submission = (outcome, key)
        return None
    if outcome.state == submissions.DONE:
        flash(_("Questa richiesta era già stata ricevuta: ecco il suo esito."), "info")
        return redirect(outcome.location or request.path, 303)
    if outcome.state == "released":
        flash(
            _("La richiesta precedente non è andata a buon fine: controlla e invia di nuovo."),
            "warning",
        )
        return redirect(page_sent_from(), 303)
    raise Conflict(
        _("La stessa richiesta è ancora in corso: attendi qualche secondo e ricarica la pagina.")
    )


def _finish(response: Response) -> Response:
    claimed = g.pop("ztl_submission", None)
    if claimed is None:
        return response
    submission_id, _key = claimed
    if 300 <= response.status_code < 400:
        location = response.headers.get("Location")
        submissions.finish(submission_id, location, g.pop("ztl_submission_result", None))
    elif 200 <= response.status_code < 300:
        # A page shown once in answer to the POST (a new API token's secret, never stored): a
        # repeat is told it was done and sent to the same page, without the secret.
        submissions.finish(submission_id, request.path, None)
    else:
        submissions.release(submission_id)
    return response


def _release_on_error(_error: BaseException | None) -> None:
    claimed = g.pop("ztl_submission", None)
    if claimed is not None:  # the request ended without a response (an error the handlers missed)
        submissions.release(claimed[0])
