"""/sessioni: the browsers where a person is signed in, and ending any of them.

Open to every signed-in person, whatever their role: someone who left a session open on a shared
computer, or whose cookie was copied, ends it from here, and every copy of it stops working.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ztl.accounts import browser_sessions
from ztl.web.auth.forms import SessionEndForm
from ztl.web.auth.views import bp
from ztl.web.sessions import SESSION_TOKEN_KEY


@bp.get("/sessioni")
@login_required
def sessions() -> str:
    token = session.get(SESSION_TOKEN_KEY)
    return render_template(
        "auth/sessions.html",
        sessions=browser_sessions.open_sessions(int(current_user.id), token),
        form=SessionEndForm(),
    )


@bp.post("/sessioni/<int:session_id>/termina")
@login_required
def end_session(session_id: int) -> Response:
    if not SessionEndForm().validate_on_submit():
        abort(400)
    if not browser_sessions.end_own(int(current_user.id), session_id):
        abort(404)  # someone else's, or already ended
    flash(_("Sessione terminata: quel browser dovrà accedere di nuovo."), "success")
    return redirect(url_for("auth.sessions"), 303)


@bp.post("/sessioni/termina-le-altre")
@login_required
def end_other_sessions() -> Response:
    if not SessionEndForm().validate_on_submit():
        abort(400)
    ended = browser_sessions.end_others(int(current_user.id), session.get(SESSION_TOKEN_KEY))
    flash(_("Sessioni terminate: %(count)s.", count=ended), "success")
    return redirect(url_for("auth.sessions"), 303)
