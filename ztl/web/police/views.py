"""Pages of the police role; the whole blueprint is guarded by role."""

from __future__ import annotations

from flask import Blueprint

from ztl.permissions import POLICE, guard_blueprint

bp = Blueprint("police", __name__, url_prefix="/polizia")
guard_blueprint(bp, POLICE)


# The home (the plate check first), the plate lookup's, the seal verifier's and the review of
# violations' routes live in their own modules, on this blueprint (and so behind its guard).
from ztl.web.police import plate_views, seal_views, violation_views  # noqa: E402, F401
