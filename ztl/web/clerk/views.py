"""Pages of the clerk role; the whole blueprint is guarded by role."""

from __future__ import annotations

from flask import Blueprint, render_template

from ztl.permissions import CLERKS, guard_blueprint
from ztl.services.overview import applications_by_status, flagged_permits

bp = Blueprint("clerk", __name__, url_prefix="/ufficio")
guard_blueprint(bp, CLERKS)


@bp.get("/")
def home() -> str:
    return render_template(
        "clerk/home.html", counts=applications_by_status(), flagged=flagged_permits()
    )
