"""Version 1 of the API. Enforcement endpoints arrive with their issues; the guard is already here."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from werkzeug.wrappers import Response

from ztl.api.auth import require_token
from ztl.models.enums import TokenRole

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
MACHINE_ROLES = frozenset(r.value for r in TokenRole)


@bp.before_request
def _authenticate() -> tuple[Response, int] | None:
    return require_token(MACHINE_ROLES)


@bp.get("/whoami")
def whoami() -> Response:
    """The calling token's name and role: lets a device check its configuration."""
    token = g.api_token
    return jsonify({"name": token.name, "role": token.role})
