"""Pages of the resident role; the whole blueprint is guarded by role."""

from __future__ import annotations

from flask import Blueprint, render_template

from ztl.permissions import RESIDENTS, guard_blueprint

bp = Blueprint("resident", __name__, url_prefix="/area-personale")
guard_blueprint(bp, RESIDENTS)


@bp.get("/")
def home() -> str:
    return render_template("resident/home.html")
