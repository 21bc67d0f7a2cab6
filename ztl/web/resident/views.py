"""Pages of the resident role; the whole blueprint is guarded by role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ztl.permissions import RESIDENTS, guard_blueprint
from ztl.services.overview import resident_overview

bp = Blueprint("resident", __name__, url_prefix="/area-personale")
guard_blueprint(bp, RESIDENTS)


@bp.get("/")
def home() -> str:
    return render_template("resident/home.html", overview=resident_overview(current_user))
