"""Pages of the admin role; the whole blueprint is guarded by role."""

from __future__ import annotations

from flask import Blueprint, render_template

from ztl.permissions import ADMINS, guard_blueprint
from ztl.records.overview import users_by_role

bp = Blueprint("admin", __name__, url_prefix="/amministrazione")
guard_blueprint(bp, ADMINS)


@bp.get("/")
def home() -> str:
    return render_template("admin/home.html", users=users_by_role())
