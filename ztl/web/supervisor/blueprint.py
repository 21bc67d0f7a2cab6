"""The supervisors' blueprint, guarded as a whole, and what its page modules share.

Why a module of its own: the pages live in several modules (dashboard, users, tokens, imports), and
each registers its routes on this one blueprint, whose guard they therefore cannot forget.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from ztl.infrastructure.unit_of_work import Actor
from ztl.permissions import SUPERVISORS, guard_blueprint

bp = Blueprint("supervisor", __name__, url_prefix="/supervisione")
guard_blueprint(bp, SUPERVISORS)


def acting_user() -> Actor:
    """The signed-in supervisor as the actor of events (their e-mail is what the history shows)."""
    return Actor(label=str(current_user.email)[:100], user_id=int(current_user.id))
