"""Pages of the resident role (applicants: people, firms, hotels); the blueprint is role-guarded.

The dashboard is here; applications, permits, the firms page and the hotel page live in their own
modules, on this blueprint (and so behind its guard).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template
from flask_login import current_user

from ztl.applications.dashboard import dashboard
from ztl.permissions import RESIDENTS, guard_blueprint
from ztl.permits.queries import holder_views
from ztl.records.personal_data import personal_data

bp = Blueprint("resident", __name__, url_prefix="/area-personale")
guard_blueprint(bp, RESIDENTS)


@bp.get("/")
def home() -> str:
    board = dashboard(current_user)
    return render_template(
        "resident/home.html", board=board, permit_views=holder_views(board.permits)
    )


@bp.get("/i-miei-dati.json")
def personal_data_export() -> Response:
    """Everything held about the signed-in person, as a JSON download (GDPR access and portability).

    Never cached: it is the most complete picture of a person the service holds.
    """
    body = json.dumps(personal_data(current_user), ensure_ascii=False, indent=2)
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="i-miei-dati-ztl.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


from ztl.web.resident import (  # noqa: E402, F401
    application_views,
    firm_views,
    hotel_views,
    permit_views,
)
