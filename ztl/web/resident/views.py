"""Pages of the resident role (applicants: people, firms, hotels); the blueprint is role-guarded.

The dashboard is here; applications, permits and the hotel page live in their own modules, on
this blueprint (and so behind its guard).
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ztl.permissions import RESIDENTS, guard_blueprint
from ztl.services.resident_portal import dashboard

bp = Blueprint("resident", __name__, url_prefix="/area-personale")
guard_blueprint(bp, RESIDENTS)


@bp.get("/")
def home() -> str:
    return render_template("resident/home.html", board=dashboard(current_user))


from ztl.web.resident import application_views, hotel_views, permit_views  # noqa: E402, F401
