"""The clerks' blueprint, guarded as a whole, and what its page modules share.

Why a module of its own: the pages live in several modules (queue, application, permit), and each
registers its routes on this one blueprint, whose role guard they therefore cannot forget.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash
from flask_login import current_user
from flask_wtf import FlaskForm

from ztl.errors import error_text
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.permissions import CLERKS, guard_blueprint

bp = Blueprint("clerk", __name__, url_prefix="/ufficio")
guard_blueprint(bp, CLERKS)


def acting_clerk() -> Actor:
    """The signed-in clerk as the actor of events (their e-mail is what the history shows)."""
    return Actor.of_user(current_user)


def flash_refusal(error: ServiceError) -> None:
    """A refused decision becomes a message on the page it came from; a missing object, a 404."""
    if error.code == "not_found":
        abort(404)
    flash(error_text(error), "danger")


def flash_form_errors(form: FlaskForm) -> None:
    """A decision form without its required text: say what is missing on the page it came from."""
    flash(" ".join(str(e) for f in form if f.errors for e in f.errors), "danger")
