"""Each API operation declared once, beside its view; one guard before every view.

    bp = api_blueprint("api_enforcement", __name__)

    @operation(
        bp, "GET", "/whitelist",
        summary="The gates' whitelist for a zone and a day",
        access=MACHINES,
        query=WhitelistQuery,
        answers={200: TextAnswer(CSV, "CSV plate,zone,...")},
    )
    def whitelist(query: WhitelistQuery) -> Response: ...

The declaration is the one place that says, for an operation:
- its route: the blueprint's prefix, the rule and the method;
- who may call it: `access` (ztl.api.auth), which `guard` asks before the view runs;
- what it reads: `path`, `query`, `body` (JSON) and `alternatives` (other media types), each a
  schema (ztl.api.fields) that is validated here before the view is called, so the view receives
  checked values (`query=`, `body=` keyword arguments) and bad input is answered 400 with the
  check's own words, whichever operation it is;
- what it answers: `answers` by status, and `refusals` beyond those its access and its input
  already imply (401/403/429 for tokens, 400 for input...);
- a per-caller rate limit other than the token's (`rate_limit`, charged by the view where its
  order matters, and documented as 429).
ztl.api.openapi builds the OpenAPI document from these declarations alone. Adding an operation is
writing one declared view (and its tests); tests/test_api_operations.py fails for a route under
/api/ that is not declared, and tests/test_openapi.py checks real answers against the document.

Why a before_request guard rather than a decorator per view: it runs for every method of the rule,
HEAD and OPTIONS included, and for an API view somebody forgot to declare (refused, 403).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from flask import Blueprint, request
from pydantic import TypeAdapter, ValidationError

from ztl.api.auth import Access, Refusal, api_error
from ztl.api.fields import first_refusal, json_object
from ztl.api.rate_limit import RateLimit
from ztl.extensions import csrf
from ztl.values import InvalidValue

View = TypeVar("View", bound=Callable[..., Any])
JSON = "application/json"


@dataclass(frozen=True)
class JsonBody:
    """A JSON request body validated by `schema`.

    By default it is read as Flask reads JSON: a body that is not JSON, or not labelled so, is
    None, which the schema refuses in its own words. `any_media_type` reads the bytes as JSON
    whatever the Content-Type says, refusing bytes that are not JSON with `unreadable`.
    """

    schema: Any
    any_media_type: bool = False
    unreadable: str = "the body is not JSON"


@dataclass(frozen=True)
class TextBody:
    """A body of another media type (say CSV), read by `read(bytes)` into what the view gets from
    the JSON body; `read` refuses with InvalidValue. Chosen when the Content-Type is one of
    `media_types`."""

    media_types: tuple[str, ...]
    read: Callable[[bytes], Any]
    description: str
    example: str | None = None


@dataclass(frozen=True)
class Header:
    """A header of an answer."""

    description: str = ""
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = True


@dataclass(frozen=True)
class JsonAnswer:
    """A JSON answer: `schema` is a TypedDict (ztl.api.fields.closed) or a JSON Schema dict."""

    schema: Any
    description: str
    headers: Mapping[str, Header] = field(default_factory=dict)


@dataclass(frozen=True)
class TextAnswer:
    """An answer of another media type (the whitelist's CSV)."""

    media_type: str
    description: str
    example: str | None = None
    headers: Mapping[str, Header] = field(default_factory=dict)


Answer = JsonAnswer | TextAnswer


@dataclass(frozen=True)
class Operation:
    """One declared operation (see the module's docstring); made by `operation`."""

    endpoint: str
    method: str
    path: str  # as the OpenAPI document writes it: /api/v1/authorizations/{plate}
    operation_id: str
    summary: str
    description: str
    access: Access
    answers: Mapping[int, Answer]
    refusals: tuple[int, ...]
    path_parameters: Any = None
    query: Any = None
    body: JsonBody | None = None
    alternatives: tuple[TextBody, ...] = ()
    rate_limit: RateLimit | None = None


# Every declared operation by its endpoint ("blueprint.view"), in the order they were declared.
OPERATIONS: dict[str, Operation] = {}


def guard() -> Refusal | None:
    """The one guard of the API, run before every view of every API blueprint: the operation's
    declared access decides. A view on an API blueprint that was not declared is refused."""
    declared = OPERATIONS.get(request.endpoint or "")
    if declared is None:
        return api_error("forbidden")
    return declared.access.refuse()


def api_blueprint(name: str, import_name: str, url_prefix: str = "/api/v1") -> Blueprint:
    """A blueprint of the API: its views are guarded by `guard`, and it takes no CSRF token of
    its own (token clients send no cookies; `Session` access checks the token itself)."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix)
    blueprint.before_request(guard)
    csrf.exempt(blueprint)
    return blueprint


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def openapi_path(rule: str) -> str:
    """/api/v1/authorizations/<plate> (Flask) -> /api/v1/authorizations/{plate} (OpenAPI)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def operation(
    blueprint: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    access: Access,
    answers: Mapping[int, Answer],
    description: str = "",
    operation_id: str | None = None,
    path: Any = None,
    query: Any = None,
    body: JsonBody | None = None,
    alternatives: Iterable[TextBody] = (),
    refusals: Iterable[int] = (),
    rate_limit: RateLimit | None = None,
) -> Callable[[View], View]:
    """Declare the decorated view as an operation of `blueprint` and route it (see the module's
    docstring). `path` and `query` are TypedDicts of the parameters, documented by their fields."""

    def declare(view: View) -> View:
        endpoint = f"{blueprint.name}.{view.__name__}"
        if endpoint in OPERATIONS:
            raise ValueError(f"operation {endpoint} declared twice")
        statuses = set(access.refusals) | set(refusals)
        if query is not None or body is not None or alternatives:
            statuses.add(400)  # bad input
        if rate_limit is not None:
            statuses.add(429)
        declared = Operation(
            endpoint=endpoint,
            method=method.upper(),
            path=openapi_path((blueprint.url_prefix or "") + rule),
            operation_id=operation_id or _camel(view.__name__),
            summary=summary,
            description=description,
            access=access,
            answers=dict(answers),
            refusals=tuple(sorted(statuses - set(answers))),
            path_parameters=path,
            query=query,
            body=body,
            alternatives=tuple(alternatives),
            rate_limit=rate_limit,
        )
        OPERATIONS[endpoint] = declared
        blueprint.add_url_rule(
            rule, view.__name__, _validated(view, declared), methods=[declared.method]
        )
        return view

    return declare


def _validated(view: Callable[..., Any], declared: Operation) -> Callable[..., Any]:
    """The view, called with the validated `query` and `body` when the operation reads them; bad
    input is answered 400 (code bad_request) naming the first problem, and the view is not run."""
    # Built once: a TypeAdapter compiles its schema (the costly part) when it is made.
    query: TypeAdapter[Any] | None = None
    if declared.query is not None:
        # A query parameter the schema requires is checked even when absent, in its own words.
        required = declared.query.__required_keys__
        schema = declared.query
        if required:
            schema = Annotated[schema, json_object("", required)]
        query = TypeAdapter(schema)
    body: TypeAdapter[Any] | None = None
    if declared.body is not None:
        body = TypeAdapter(declared.body.schema)
    json_body, alternatives = declared.body, declared.alternatives

    @functools.wraps(view)
    def run(**arguments: Any) -> Any:
        try:
            if query is not None:
                arguments["query"] = query.validate_python(request.args.to_dict())
            if body is not None and json_body is not None:
                alternative = next(
                    (a for a in alternatives if request.mimetype in a.media_types), None
                )
                if alternative is not None:
                    arguments["body"] = alternative.read(request.get_data())
                else:
                    arguments["body"] = body.validate_python(_json(json_body))
        except ValidationError as exc:
            return api_error("bad_request", detail=first_refusal(exc))
        except InvalidValue as exc:
            return api_error("bad_request", detail=str(exc))
        return view(**arguments)

    return run


def _json(declared: JsonBody) -> Any:
    if not declared.any_media_type:
        return request.get_json(silent=True)
    try:
        return json.loads(request.get_data())
    except ValueError as exc:  # UnicodeDecodeError included
        raise InvalidValue(declared.unreadable) from exc
