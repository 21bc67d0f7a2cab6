"""Pages of the police role; the whole blueprint is guarded by role."""

from __future__ import annotations

from flask import Blueprint, render_template

from ztl.permissions import POLICE, guard_blueprint
from ztl.records.overview import gates, zones_with_hours

bp = Blueprint("police", __name__, url_prefix="/polizia")
guard_blueprint(bp, POLICE)


@bp.get("/")
def home() -> str:
    return render_template("police/home.html", zones=zones_with_hours(), gates=gates())


# The seal verifier's and the plate lookup's routes live in their own modules, on this blueprint
# (and so behind its guard).
from ztl.web.police import plate_views, seal_views  # noqa: E402, F401
