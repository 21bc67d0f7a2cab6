"""/.well-known/ztl/: the signed trust list and revocation list, public, for verifiers to cache.

Public on purpose: they hold public keys and hashes of seal ids, nothing personal, and a police
phone or a gate must be able to fetch them without an account. Declared here, with the rest of what
machines call, so the OpenAPI document describes them from the same declarations.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.api.auth import PUBLIC, api_error
from ztl.api.fields import closed, documented
from ztl.api.operations import JsonAnswer, api_blueprint, operation
from ztl.seals.trust_lists import revocation_list_document, trust_list_document
from ztl.signing.keys import KeyStoreError
from ztl.signing.lists import FORMAT

bp = api_blueprint("wellknown", __name__, url_prefix="/.well-known/ztl")


# ztl.signing.lists.sign_envelope
@closed
class SignedList(TypedDict):
    format: Annotated[str, documented({"const": FORMAT})]
    alg: Literal["ES256"]
    kid: Annotated[str, Field(pattern="^[0-9a-f]+$")]
    payload: Annotated[
        str, documented({"description": "base64url of the signed JSON (see seal-format.md)."})
    ]
    signature: str


def _document(body: bytes) -> Response:
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@operation(
    bp,
    "GET",
    "/trust-list",
    summary="The signed trust list (seal keys), for verifiers to cache",
    access=PUBLIC,
    answers={200: JsonAnswer(SignedList, "Signed by the municipality's root.")},
    refusals=(503,),  # no keys yet
)
def trust_list() -> Response | tuple[Response, int]:
    try:
        return _document(trust_list_document())
    except KeyStoreError:
        return api_error("keys_missing")


@operation(
    bp,
    "GET",
    "/revocations",
    summary="The signed revocation list, for verifiers to cache",
    access=PUBLIC,
    answers={200: JsonAnswer(SignedList, "Signed by the list signer.")},
    refusals=(503,),
)
def revocations() -> Response | tuple[Response, int]:
    try:
        return _document(revocation_list_document())
    except KeyStoreError:
        return api_error("keys_missing")
