"""GET /api/v1/whoami: lets a device check its configuration (which token it holds)."""

from __future__ import annotations

from flask import g, jsonify
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.api.auth import MACHINES
from ztl.api.fields import closed
from ztl.api.operations import JsonAnswer, api_blueprint, operation
from ztl.models.enums import TokenRole

bp = api_blueprint("api_v1", __name__)


@closed
class WhoAmI(TypedDict):
    name: str
    role: TokenRole


@operation(
    bp,
    "GET",
    "/whoami",
    summary="The calling token's name and role",
    access=MACHINES,
    answers={200: JsonAnswer(WhoAmI, "The token.")},
)
def whoami() -> Response:
    token = g.api_token
    return jsonify({"name": token.name, "role": token.role})
