"""Pages of the supervisor role; the whole blueprint is guarded by role."""

from __future__ import annotations

from flask import Blueprint, render_template

from ztl.permissions import SUPERVISORS, guard_blueprint
from ztl.services.overview import api_tokens, recent_imports

bp = Blueprint("supervisor", __name__, url_prefix="/supervisione")
guard_blueprint(bp, SUPERVISORS)


@bp.get("/")
def home() -> str:
    return render_template("supervisor/home.html", imports=recent_imports(), tokens=api_tokens())
