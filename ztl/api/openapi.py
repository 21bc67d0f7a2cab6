"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, generated from the operations' declarations.

Nothing about an operation is written here: its path, method, parameters, bodies, answers, who may
call it and what it may be refused with come from its declaration beside its view
(ztl.api.operations), and the JSON Schemas of its requests and answers from the same TypedDicts
that validate the requests (pydantic writes them). What is left here is what belongs to the whole
API: the title and description, the security schemes, and the shared error answers.

Why public: a device must be able to read what to send before it has a token, and the document
holds nothing about any plate, permit or person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from werkzeug.wrappers import Response

# Each module declares its operations on import; all of them are in the document.
from ztl.api import (  # noqa: F401
    eligibility,
    enforcement,
    pagopa,
    payments,
    seals,
    transits,
    v1,
    wellknown,
)
from ztl.api.auth import PUBLIC, Error
from ztl.api.operations import (
    JSON,
    OPERATIONS,
    JsonAnswer,
    Operation,
    TextAnswer,
    api_blueprint,
    operation,
)
from ztl.models.enums import TokenRole

bp = api_blueprint("api_openapi", __name__)
Schema = dict[str, Any]
COMPONENTS = "#/components/schemas/"

# The shared refusals, all {"error", "message"} (ztl.api.auth.api_error), by status.
ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: (
        "BadRequest",
        "Bad input, named in the message: a malformed body, an unreadable plate, an unknown zone "
        "or gate, a time without an offset. Nothing is recorded.",
    ),
    401: (
        "Unauthorized",
        "No valid bearer token (missing, unknown or revoked); for eligibility, nobody signed in; "
        "for payment notifications, no valid signature.",
    ),
    403: ("Forbidden", "The token's (or the signed-in user's) role may not use this."),
    404: ("NotFound", "No such route (for instance a plate containing a slash)."),
    422: (
        "Unprocessable",
        "The question is well formed but cannot be asked (unknown category, validity).",
    ),
    429: (
        "RateLimited",
        "Too many requests for this token in the last minute (for eligibility: too many plates "
        "asked about by this account).",
    ),
    503: (
        "NotReady",
        "The server is not set up: signing keys missing (ztl keys init) or no zones configured "
        "(the municipality's rules not loaded).",
    ),
}
ERROR_HEADERS: dict[int, Schema] = {
    401: {
        "WWW-Authenticate": {
            "required": True,
            "schema": {"type": "string", "const": 'Bearer realm="ztl"'},
        }
    },
    429: {
        "Retry-After": {
            "required": True,
            "description": "Seconds to wait before the next request.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
SECURITY_SCHEMES: Schema = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token created by an admin (ztl tokens create --role "
        f"{'|'.join(role.value for role in TokenRole)} NAME), sent as Authorization: Bearer "
        "<token>.",
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
        "description": "The payment system's HMAC-SHA256 signature of the body, with the secret "
        "in ZTL_PAYMENT_NOTIFICATION_SECRET.",
    },
    "intermediaryBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "The pagoPA intermediary's credentials (ZTL_PAGOPA_NOTIFICATION_USER and "
        "ZTL_PAGOPA_NOTIFICATION_PASSWORD), over HTTPS in production.",
    },
}
INFO: Schema = {
    "title": "ZTL enforcement and verification API",
    "version": "1",
    "description": "Answers for camera gates and police devices (docs/api.md). "
    'Errors are {"error": code, "message": text}: the code is stable, the text is for people, '
    "in Italian or, with Accept-Language: en, in English. Times are ISO 8601 with an offset; a "
    "time without one is refused (400), never guessed. Enforcement answers give times in UTC (Z).",
}


class _Schemas(GenerateJsonSchema):
    """pydantic's JSON Schema, without a title on every property (the name says it already)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _typed(schema: Any) -> bool:
    return not isinstance(schema, dict)


def _request_and_answer_types(operations: list[Operation]) -> Iterator[Any]:
    for declared in operations:
        if declared.body is not None:
            yield declared.body.schema
        for answer in declared.answers.values():
            if isinstance(answer, JsonAnswer) and _typed(answer.schema):
                yield answer.schema
    yield Error


def _components(operations: list[Operation]) -> tuple[dict[int, Schema], Schema]:
    """The JSON Schema (usually a $ref) of each request and answer type, by id(type), and the
    components they refer to, in one pass so a type used twice is one component."""
    types = list({id(t): t for t in _request_and_answer_types(operations)}.values())
    refs, definitions = TypeAdapter.json_schemas(
        [(id(t), "validation", TypeAdapter(t)) for t in types],
        ref_template=COMPONENTS + "{model}",
        schema_generator=_Schemas,
    )
    return {key: schema for (key, _mode), schema in refs.items()}, definitions.get("$defs", {})


def _schema(refs: dict[int, Schema], schema: Any) -> Schema:
    return dict(schema) if not _typed(schema) else refs[id(schema)]


def _parameters(declared: Operation) -> list[Schema]:
    parameters = []
    for where, kind in (("path", declared.path_parameters), ("query", declared.query)):
        if kind is None:
            continue
        schema = TypeAdapter(kind).json_schema(schema_generator=_Schemas)
        required = set(schema.get("required", ()))
        for name, field_schema in schema["properties"].items():
            field_schema = dict(field_schema)
            parameter: Schema = {"name": name, "in": where, "required": name in required}
            if "description" in field_schema:
                parameter["description"] = field_schema.pop("description")
            parameters.append({**parameter, "schema": field_schema})
    for header in declared.access.headers:
        parameters.append(
            {"name": header, "in": "header", "required": True, "schema": {"type": "string"}}
        )
    return parameters


def _request_body(declared: Operation, refs: dict[int, Schema]) -> Schema | None:
    if declared.body is None:
        return None
    content: Schema = {JSON: {"schema": _schema(refs, declared.body.schema)}}
    for alternative in declared.alternatives:
        text: Schema = {"schema": {"type": "string", "description": alternative.description}}
        if alternative.example is not None:
            text["example"] = alternative.example
        content.update(dict.fromkeys(alternative.media_types, text))
    return {"required": True, "content": content}


def _answer(answer: JsonAnswer | TextAnswer, refs: dict[int, Schema]) -> Schema:
    if isinstance(answer, JsonAnswer):
        media: Schema = {JSON: {"schema": _schema(refs, answer.schema)}}
    else:
        text: Schema = {"schema": {"type": "string"}}
        if answer.example is not None:
            text["example"] = answer.example
        media = {answer.media_type: text}
    documented: Schema = {"description": answer.description, "content": media}
    if answer.headers:
        documented["headers"] = {
            name: {
                "required": header.required,
                **({"description": header.description} if header.description else {}),
                "schema": dict(header.schema),
            }
            for name, header in answer.headers.items()
        }
    return documented


def _operation(declared: Operation, refs: dict[int, Schema]) -> Schema:
    item: Schema = {"operationId": declared.operation_id, "summary": declared.summary}
    if declared.description:
        item["description"] = declared.description
    item["security"] = declared.access.security
    parameters = _parameters(declared)
    if parameters:
        item["parameters"] = parameters
    body = _request_body(declared, refs)
    if body is not None:
        item["requestBody"] = body
    responses = {str(status): _answer(a, refs) for status, a in sorted(declared.answers.items())}
    for status in declared.refusals:
        responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
    item["responses"] = responses
    return item


def _refusals(refs: dict[int, Schema]) -> Schema:
    error = refs[id(Error)]
    responses: Schema = {}
    for status, (name, description) in ERROR_RESPONSES.items():
        responses[name] = {"description": description, "content": {JSON: {"schema": error}}}
        if status in ERROR_HEADERS:
            responses[name]["headers"] = ERROR_HEADERS[status]
    return responses


def _referenced(document: Schema, definitions: Schema) -> Schema:
    """The definitions the document refers to, directly or through one another (pydantic also
    defines the types a check returns, such as PlateInput, which no request or answer shows)."""
    pattern = re.compile(re.escape(COMPONENTS) + r"([^\"]+)")
    wanted: set[str] = set()
    pending = set(pattern.findall(json.dumps(document)))
    while pending:
        name = pending.pop()
        wanted.add(name)
        pending |= set(pattern.findall(json.dumps(definitions[name]))) - wanted
    return {name: schema for name, schema in definitions.items() if name in wanted}


def build_document() -> Schema:
    """The document, from every operation declared (in the order they were declared)."""
    operations = list(OPERATIONS.values())
    refs, definitions = _components(operations)
    paths: Schema = {}
    for declared in operations:
        paths.setdefault(declared.path, {})[declared.method.lower()] = _operation(declared, refs)
    responses = _refusals(refs)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": SECURITY_SCHEMES,
            "schemas": _referenced({"paths": paths, "responses": responses}, definitions),
            "responses": responses,
        },
    }


@operation(
    bp,
    "GET",
    "/openapi.json",
    summary="This document",
    access=PUBLIC,
    answers={200: JsonAnswer({"type": "object"}, "The OpenAPI document.")},
)
def openapi() -> Response:
    return Response(_BODY, mimetype="application/json")


# Built and serialised once, after every operation (this one included) is declared: the document
# depends on code only, never on the request or the database.
DOCUMENT = build_document()
_BODY = json.dumps(DOCUMENT, ensure_ascii=False, indent=1).encode("utf-8")
