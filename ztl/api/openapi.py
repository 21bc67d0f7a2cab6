"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the API, public, built once in code.

Why a Python dict and not a JSON file: the limits the code enforces (plates per request, transits per
batch, seal length, token roles, verification steps) are imported from the modules that enforce them,
so the document cannot drift from them; every schema names the function whose output it describes;
and the package data needs no extra file. tests/test_openapi.py keeps the rest honest: it fuzzes the
app with schemathesis against this document and fails when an /api/v1 route is left undocumented.

Why response schemas are closed (additionalProperties false): the answers' shapes are fixed by
ztl.services (decision_json, transit_json, seal_result_json, EligibilityResult.to_dict), and a
closed schema makes the fuzzer report a field added in code but not here. Request schemas stay open:
the endpoints ignore fields they do not know.

Why public: a device must be able to read what to send before it has a token, and the document
holds nothing about any plate, permit or person.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint
from werkzeug.wrappers import Response

from ztl.api.eligibility import MAX_PLATES
from ztl.enforcement.authorizations import MAX_BATCH
from ztl.models.enums import TokenRole
from ztl.rules.results import Outcome, Status
from ztl.signing.lists import FORMAT as LIST_FORMAT
from ztl.signing.seal import MAX_TEXT, Step

bp = Blueprint("api_openapi", __name__, url_prefix="/api/v1")

Schema = dict[str, Any]
ROLES = [role.value for role in TokenRole]
JSON = "application/json"
CSV = "text/csv"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Schema]:
    """The shared error responses, all {"error", "message"} (ztl.api.auth.api_error)."""
    return {
        str(status): {"$ref": f"#/components/responses/{ERROR_NAMES[status]}"}
        for status in statuses
    }


def _closed(properties: dict[str, Schema]) -> Schema:
    """An object with exactly these fields, all present (how the services build their answers)."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


EXAMPLE_AT = "2026-06-01T08:30:00+02:00"
INSTANT = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with an offset (Z or +01:00). A time without an offset is a 400.",
    "examples": [EXAMPLE_AT],
}
# Answers always give UTC with a Z (the services' _iso helpers).
UTC_INSTANT = {"type": "string", "format": "date-time", "examples": ["2026-06-01T08:30:00Z"]}
TEXT = {"type": "string"}
TEXTS = {"type": "array", "items": TEXT}
WINDOW = {
    "type": "string",
    "pattern": "^[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}$",
    "description": "Daily window in local time; the end may be past midnight (19:00-02:00).",
}

ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    422: "Unprocessable",
    429: "RateLimited",
    503: "NotReady",
}


def _error_responses() -> dict[str, Schema]:
    error = _ref("Error")
    return {
        "BadRequest": _json(
            error,
            "Bad input, named in the message: a malformed body, an unreadable plate, an unknown "
            "zone or gate, a time without an offset. Nothing is recorded.",
        ),
        "Unauthorized": {
            **_json(
                error,
                "No valid bearer token (missing, unknown or revoked); for eligibility, nobody "
                "signed in.",
            ),
            "headers": {
                "WWW-Authenticate": {
                    "required": True,
                    "schema": {"type": "string", "const": 'Bearer realm="ztl"'},
                }
            },
        },
        "Forbidden": _json(error, "The token's (or the signed-in user's) role may not use this."),
        "NotFound": _json(error, "No such route (for instance a plate containing a slash)."),
        "Unprocessable": _json(
            error, "The question is well formed but cannot be asked (unknown category, validity)."
        ),
        "RateLimited": {
            **_json(
                error,
                "Too many requests for this token in the last minute (for eligibility: too "
                "many plates asked about by this account).",
            ),
            "headers": {
                "Retry-After": {
                    "required": True,
                    "description": "Seconds to wait before the next request.",
                    "schema": {"type": "integer", "minimum": 1},
                }
            },
        },
        "NotReady": _json(
            error,
            "The server is not set up: signing keys missing (ztl keys init) or no zones "
            "configured (the municipality's rules not loaded).",
        ),
    }


def _schemas() -> dict[str, Schema]:
    permit_fields: dict[str, Schema] = {
        "number": TEXT,
        "category": TEXT,
        "zones": TEXTS,
        "valid_from": UTC_INSTANT,
        "valid_to": UTC_INSTANT,
        "windows": {
            "type": "array",
            "items": WINDOW,
            "description": "Empty when the permit covers every hour.",
        },
    }
    return {
        "Error": _closed({"error": TEXT, "message": TEXT}),
        # ztl.applications.payment_receipts.parse_receipt
        "PaymentReceipt": {
            "type": "object",
            "required": ["receipt_id", "iuv", "amount_cents", "paid_at"],
            "properties": {
                "receipt_id": {"type": "string", "minLength": 1, "maxLength": 64},
                "iuv": {"type": "string", "minLength": 1, "maxLength": 40},
                "amount_cents": {"type": "integer", "minimum": 1},
                "paid_at": {"type": "string", "description": "An instant with its offset."},
            },
        },
        "ReceiptAnswer": {
            "type": "object",
            "required": ["outcome", "code", "message"],
            "properties": {
                "outcome": {"enum": ["accepted", "replay"]},
                "code": TEXT,
                "message": TEXT,
                "permit": {**TEXT, "description": "The permit the payment issued, if any."},
            },
            "additionalProperties": False,
        },
        "WhoAmI": _closed({"name": TEXT, "role": {"enum": ROLES}}),
        # ztl.enforcement.authorizations.permit_json
        "Permit": _closed(permit_fields),
        # ztl.enforcement.authorizations.decision_json
        "Authorization": _closed(
            {
                "plate": {**TEXT, "description": "Normalised: upper case, no separators."},
                "at": UTC_INSTANT,
                "zone": TEXT,
                "authorized": {"type": "boolean"},
                "reason": {**TEXT, "description": "Italian / English, to be read to a driver."},
                "permits": {
                    "type": "array",
                    "items": _ref("Permit"),
                    "description": "Every permit the plate holds, whatever its zones and dates.",
                },
            }
        ),
        # ztl.api.enforcement._transits_from_json
        "Transit": {
            "type": "object",
            "required": ["plate", "at"],
            "properties": {
                "plate": {"type": "string", "minLength": 1, "maxLength": 20},
                "at": {**INSTANT, "maxLength": 40},
                "gate": {"type": ["string", "null"], "minLength": 1, "maxLength": 10},
                "zone": {"type": ["string", "null"], "minLength": 1, "maxLength": 10},
            },
            "anyOf": [
                {"required": ["gate"], "properties": {"gate": {"type": "string"}}},
                {"required": ["zone"], "properties": {"zone": {"type": "string"}}},
            ],
            "description": "A camera reading; the gate decides the zone when both are given.",
            "examples": [{"plate": "AB123CD", "gate": "A1", "at": EXAMPLE_AT}],
        },
        "TransitBatch": {
            "type": "object",
            "required": ["transits"],
            "properties": {
                "transits": {"type": "array", "items": _ref("Transit"), "maxItems": MAX_BATCH}
            },
        },
        # ztl.enforcement.authorizations.transit_json
        "TransitResult": _closed(
            {
                "plate": TEXT,
                "at": UTC_INSTANT,
                "zone": TEXT,
                "authorized": {"type": "boolean"},
                "reason": TEXT,
                "pending_until": {
                    **UTC_INSTANT,
                    "type": ["string", "null"],
                    "description": "Set when the plate is not authorized now but a retroactive "
                    "registration (hotel guests, CUDE) may still arrive before then: not a "
                    "violation yet.",
                },
            }
        ),
        "TransitResults": _closed(
            {
                "results": {
                    "type": "array",
                    "items": _ref("TransitResult"),
                    "description": "One result per transit, in the order sent.",
                }
            }
        ),
        # ztl.api.seals.verify
        "SealQuestion": {
            "type": "object",
            "required": ["seal"],
            "properties": {
                "seal": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_TEXT,
                    "description": "The text of the QR code (ZTL1:...).",
                },
                "plate": {"type": ["string", "null"], "maxLength": 40},
                "zone": {
                    "type": ["string", "null"],
                    "maxLength": 10,
                    "description": "Where the vehicle is. When the zone's calendar says it is "
                    "not restricted at `at`, the permit's hours do not matter (zone_inactive).",
                },
                "at": {**INSTANT, "type": ["string", "null"], "maxLength": 40},
            },
            "description": "plate, zone and at are optional (null or empty means not asked); "
            "at defaults to now.",
            "examples": [{"seal": "ZTL1:...", "plate": "AB123CD", "zone": "A"}],
        },
        # ztl.seals.verification.seal_result_json
        "SealAnswer": _closed(
            {
                "valid": {"type": "boolean"},
                "reason": TEXT,
                "step": {
                    "enum": [*(step.value for step in Step), None],
                    "description": "The first failed step; null when valid.",
                },
                "revoked": {"type": "boolean"},
                "zone_inactive": {
                    "type": "boolean",
                    "description": "The zone asked about is not restricted at that time (its "
                    "calendar: weekdays, seasons, public holidays, night windows), so no permit "
                    "is needed there and the permit's own hours were not applied.",
                },
                "kid": {"type": ["string", "null"], "pattern": "^[0-9a-f]+$"},
                "permit": {
                    "oneOf": [
                        {"type": "null"},
                        _closed({**permit_fields, "plates": TEXTS}),
                    ],
                    "description": "The seal's claims; null when it could not be read.",
                },
            }
        ),
        # ztl.api.eligibility._request_from
        "EligibilityQuestion": {
            "type": "object",
            "required": ["category", "plates"],
            "properties": {
                "category": {"type": "string", "maxLength": 100},
                "applicant": {
                    "type": "string",
                    "maxLength": 100,
                    "description": "Codice fiscale or VAT number. A resident's own by default; "
                    "required from clerks.",
                },
                "plates": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_PLATES,
                    "items": {
                        "oneOf": [
                            TEXT,
                            {
                                "type": "object",
                                "required": ["plate"],
                                "properties": {"plate": TEXT, "country": TEXT},
                            },
                        ]
                    },
                },
                "at": {**INSTANT, "maxLength": 100},
                "transit_at": {**INSTANT, "maxLength": 100},
                "valid_from": {"type": "string", "format": "date", "maxLength": 100},
                "validity": {"type": "string", "maxLength": 100, "examples": ["P1Y", "P2Y"]},
                "zones": {"type": "array", "items": TEXT, "maxItems": 20},
                "documents": {"type": "array", "items": TEXT, "maxItems": 20},
            },
            "examples": [{"category": "1", "plates": ["AB123CD"]}],
        },
        # ztl.eligibility.service.EligibilityResult.to_dict
        "EligibilityAnswer": _closed(
            {
                "outcome": {"enum": [o.value for o in Outcome]},
                "checks": {
                    "type": "array",
                    "items": _closed(
                        {
                            "id": TEXT,
                            "status": {"enum": [s.value for s in Status]},
                            "message": _closed({"it": TEXT, "en": TEXT}),
                            "evidence": {"type": "object"},
                        }
                    ),
                },
                "category": TEXT,
                "applicant": TEXT,
                "plates": TEXTS,
                "zones": TEXTS,
                "at": {"type": "string", "format": "date-time"},
                "validity": TEXT,
                "fee_cents": {"type": "integer"},
                "stamp_duty_cents": {"type": "integer"},
                "total_cents": {"type": "integer"},
            }
        ),
        # ztl.signing.lists.sign_envelope
        "SignedList": _closed(
            {
                "format": {"const": LIST_FORMAT},
                "alg": {"const": "ES256"},
                "kid": {"type": "string", "pattern": "^[0-9a-f]+$"},
                "payload": {
                    "type": "string",
                    "description": "base64url of the signed JSON (see seal-format.md).",
                },
                "signature": {"type": "string"},
            }
        ),
    }


BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
PUBLIC: list[dict[str, list[str]]] = []


def _paths() -> dict[str, Schema]:
    token_errors = (401, 403, 429)
    return {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": PUBLIC,
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
        "/api/v1/whoami": {
            "get": {
                "operationId": "whoami",
                "summary": "The calling token's name and role",
                "security": BEARER,
                "responses": {"200": _json(_ref("WhoAmI"), "The token."), **_errors(*token_errors)},
            }
        },
        "/api/v1/authorizations/{plate}": {
            "get": {
                "operationId": "authorization",
                "summary": "May this plate be in this zone at this time?",
                "description": "Authorized when an active permit covers the plate, the zone and "
                "the time of day, or when the zone is not active then. Without a zone: authorized "
                "in some zone. Every lookup is recorded (who, when, plate, answer).",
                "security": BEARER,
                "parameters": [
                    {
                        "name": "plate",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "examples": ["AB123CD"]},
                        "description": "Any case and separators (ab 123-cd); at most 12 letters "
                        "and digits.",
                    },
                    {
                        "name": "at",
                        "in": "query",
                        "required": False,
                        "schema": INSTANT,
                        "description": "Defaults to now.",
                    },
                    {
                        "name": "zone",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "examples": ["A"]},
                        "description": "A zone code; empty or absent means any zone.",
                    },
                ],
                "responses": {
                    "200": _json(_ref("Authorization"), "The answer."),
                    **_errors(400, *token_errors, 404, 503),
                },
            }
        },
        "/api/v1/transits/check": {
            "post": {
                "operationId": "checkTransits",
                "summary": "One answer per camera reading",
                "description": f"At most {MAX_BATCH} transits; recorded in one insert. A bad "
                "transit refuses the whole batch (400 naming it).",
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {
                        JSON: {"schema": _ref("TransitBatch")},
                        CSV: {
                            "schema": {
                                "type": "string",
                                "description": "Rows plate,gate,at: UTF-8, any line ends, an "
                                "optional header row.",
                            },
                            "example": "plate,gate,at\nAB123CD,A1,2026-06-01T08:30:00+02:00\n",
                        },
                        "application/csv": {"schema": {"type": "string"}},
                    },
                },
                "responses": {
                    "200": _json(_ref("TransitResults"), "The answers, in order."),
                    **_errors(400, *token_errors),
                },
            }
        },
        "/api/v1/whitelist": {
            "get": {
                "operationId": "whitelist",
                "summary": "The gates' whitelist for a zone and a day",
                "description": "One row per authorized plate interval touching that local date.",
                "security": BEARER,
                "parameters": [
                    {
                        "name": "zone",
                        "in": "query",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 10,
                            "examples": ["A"],
                        },
                    },
                    {
                        "name": "date",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "format": "date", "examples": ["2026-06-01"]},
                        "description": "YYYY-MM-DD, the municipality's local day.",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "CSV plate,zone,valid_from,valid_to,windows; windows are "
                        "space-separated, empty when any hour.",
                        "headers": {
                            "Content-Disposition": {
                                "required": True,
                                "schema": {"type": "string"},
                            },
                            "ZTL-Zone-Active-Hours": {
                                "required": True,
                                "description": "When the zone is restricted that local day, from "
                                "its calendar (weekdays, seasons, holidays), as space-separated "
                                "HH:MM-HH:MM; empty when it is not restricted that day.",
                                "schema": {"type": "string", "examples": ["07:30-20:00"]},
                            },
                        },
                        "content": {
                            CSV: {
                                "schema": {"type": "string"},
                                "example": "plate,zone,valid_from,valid_to,windows\n"
                                "AB123CD,A,2026-01-01T00:00:00Z,2028-01-01T00:00:00Z,\n",
                            }
                        },
                    },
                    **_errors(400, *token_errors),
                },
            }
        },
        "/api/v1/seals/verify": {
            "post": {
                "operationId": "verifySeal",
                "summary": "Verify a scanned seal against the published keys and revocations",
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("SealQuestion")}},
                },
                "responses": {
                    "200": _json(_ref("SealAnswer"), "The verdict; reason names the failed step."),
                    **_errors(400, *token_errors, 503),
                },
            }
        },
        "/api/v1/payments/notifications": {
            "post": {
                "operationId": "paymentNotification",
                "summary": "The payment system reports that a notice was paid",
                "description": "Signed by the payment system with the shared secret: header "
                "ZTL-Payment-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + body>, "
                "within five minutes of the server's clock. A receipt is accepted once; the same "
                "receipt again is answered as the first time (outcome replay). Closed (404) "
                "unless ZTL_PAYMENT_PROVIDER=notified.",
                "security": [{"paymentSignature": []}],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("PaymentReceipt")}},
                },
                "responses": {
                    "200": _json(_ref("ReceiptAnswer"), "Accepted, or already recorded."),
                    **_errors(400, 401, 404, 422),
                },
            }
        },
        "/api/v1/eligibility": {
            "post": {
                "operationId": "eligibility",
                "summary": "The eligibility verdict with every check (signed-in people)",
                "description": "For the web pages, not for machines: a resident asks about "
                "themself, a clerk or supervisor about anyone. Needs the session cookie and the "
                "form's CSRF token in X-CSRFToken; a bearer token is not accepted.",
                "security": [{"session": []}],
                "parameters": [
                    {
                        "name": "X-CSRFToken",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {JSON: {"schema": _ref("EligibilityQuestion")}},
                },
                "responses": {
                    "200": _json(_ref("EligibilityAnswer"), "The verdict, the checks, the fee."),
                    **_errors(400, 401, 403, 422, 429),
                },
            }
        },
        "/.well-known/ztl/trust-list": {
            "get": {
                "operationId": "trustList",
                "summary": "The signed trust list (seal keys), for verifiers to cache",
                "security": PUBLIC,
                "responses": {
                    "200": _json(_ref("SignedList"), "Signed by the municipality's root."),
                    **_errors(503),
                },
            }
        },
        "/.well-known/ztl/revocations": {
            "get": {
                "operationId": "revocations",
                "summary": "The signed revocation list, for verifiers to cache",
                "security": PUBLIC,
                "responses": {
                    "200": _json(_ref("SignedList"), "Signed by the list signer."),
                    **_errors(503),
                },
            }
        },
    }


def build_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ZTL enforcement and verification API",
            "version": "1",
            "description": "Answers for camera gates and police devices (enforcement-api.md). "
            'Errors are {"error": code, "message": text}: the code is stable, the text is for '
            "people, in Italian or, with Accept-Language: en, in English. Times are ISO 8601 with "
            "an offset; a time without one is refused (400), never guessed. Enforcement answers "
            "give times in UTC (Z).",
        },
        "security": BEARER,
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token created by an admin (ztl tokens create --role "
                    f"{'|'.join(ROLES)} NAME), sent as Authorization: Bearer <token>.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The web session of a signed-in person.",
                },
                "paymentSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "ZTL-Payment-Signature",
                    "description": "The payment system's HMAC-SHA256 signature of the body, "
                    "with the secret in ZTL_PAYMENT_NOTIFICATION_SECRET.",
                },
            },
            "schemas": _schemas(),
            "responses": _error_responses(),
        },
    }


# Built and serialised once: the document depends on code only, never on the request or database.
DOCUMENT = build_document()
_BODY = json.dumps(DOCUMENT, ensure_ascii=False, indent=1).encode("utf-8")


@bp.get("/openapi.json")
def openapi() -> Response:
    return Response(_BODY, mimetype="application/json")
