"""/.well-known/ztl/: the signed trust list and revocation list, public, for verifiers to cache.

Public on purpose: they hold public keys and hashes of seal ids, nothing personal, and a police
phone or a gate must be able to fetch them without an account.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from ztl.errors import error_status, error_text
from ztl.seals.trust_lists import revocation_list_document, trust_list_document
from ztl.signing.keys import KeyStoreError

bp = Blueprint("wellknown", __name__, url_prefix="/.well-known/ztl")


def _document(body: bytes) -> Response:
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _unavailable(exc: KeyStoreError) -> tuple[Response, int]:
    response = jsonify({"error": "keys_missing", "message": error_text("keys_missing")})
    return response, error_status("keys_missing")


@bp.get("/trust-list")
def trust_list() -> Response | tuple[Response, int]:
    try:
        return _document(trust_list_document())
    except KeyStoreError as exc:
        return _unavailable(exc)


@bp.get("/revocations")
def revocations() -> Response | tuple[Response, int]:
    try:
        return _document(revocation_list_document())
    except KeyStoreError as exc:
        return _unavailable(exc)
