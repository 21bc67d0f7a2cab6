"""How a request's fields are checked and documented: one declaration does both.

A request schema is a TypedDict whose fields are `Annotated[type, <check>]`. The check is a pydantic
`PlainValidator` made here from a plain function and the JSON Schema the field is documented with
(`json_schema_input_type`), so the limit a check enforces and the limit the OpenAPI document states
come from the same arguments and cannot drift apart.

Why plain functions and not pydantic's own constraints (`max_length=...`): the API's refusals are
sentences clients and tests already know ("'plate' must be text of 1 to 20 characters", "transit 3:
..."), and a blank string, a number where text belongs and a missing key each get the same one. A
check raises `InvalidValue` with that sentence (the same exception the value parsers in ztl.values
raise, so their messages pass through unchanged); `checked` turns it into a pydantic error of type
`bad_request` carrying the text, which the operation answers as a 400 (ztl.api.operations).
pydantic still does what it is good at: walking the structure, knowing where a value sits (which
transit of a batch), compiling each schema once, and writing the JSON Schema of the document.

Why TypedDicts and not BaseModels: the transits of a batch are validated ten thousand at a time on
the enforcement path, and a dict per item costs half of what a model instance does (measured with
10,000 transits: 54 ms against 94 ms, parsing the instants included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    with_config,
)
from pydantic_core import PydanticCustomError

from ztl.values import InvalidValue
from ztl.values.times import parse_date, parse_instant

T = TypeVar("T")
REFUSAL = "bad_request"  # the pydantic error type of a check's refusal; its text is in ctx


# Answers are closed (additionalProperties false): their shapes are fixed by the services, and a
# closed schema makes the tests that check real answers against the document report a field added
# in code but not in the schema. Requests stay open: the operations ignore fields they do not know.
closed = with_config(ConfigDict(extra="forbid"))


def refusal(detail: str) -> PydanticCustomError:
    """A refusal naming what is wrong, in the words the API answers with."""
    return PydanticCustomError(REFUSAL, "{detail}", {"detail": detail})


def first_refusal(error: ValidationError) -> str:
    """The text of the first problem, in the order the fields are declared (and so checked).

    Anything but a check's own refusal means a schema used a pydantic constraint directly; its
    location and pydantic's text are answered rather than a 500.
    """
    first = error.errors(include_url=False, include_input=False)[0]
    context = first.get("ctx") or {}
    if first["type"] == REFUSAL and "detail" in context:
        return str(context["detail"])
    where = ".".join(str(part) for part in first["loc"])
    return f"'{where}': {first['msg']}" if where else str(first["msg"])


def checked(check: Callable[[Any, str], Any], documented_as: Any) -> PlainValidator:
    """A field checked by `check(value, field_name)` and documented as the type `documented_as`.

    The check receives the raw JSON value (or query text), returns what the view gets, and raises
    InvalidValue to refuse.
    """

    def run(value: Any, info: ValidationInfo) -> Any:
        try:
            return check(value, info.field_name or "")
        except InvalidValue as exc:
            raise refusal(str(exc)) from None

    return PlainValidator(run, json_schema_input_type=documented_as)


def json_object(
    message: str, required: Collection[str], then: Callable[[dict[str, Any]], None] | None = None
) -> BeforeValidator:
    """Placed before a TypedDict: anything but an object is refused with `message`; a required key
    that is missing is passed to its field's check as None, so it is refused in that field's words
    ("'plate' must be text ...") and not pydantic's ("Field required"). `then` checks the object
    as a whole (say, "'gate' or 'zone' is required") before its fields are."""
    wanted = frozenset(required)

    def run(value: Any) -> Any:
        if not isinstance(value, dict):
            raise refusal(message)
        if then is not None:
            try:
                then(value)
            except InvalidValue as exc:
                raise refusal(str(exc)) from None
        missing = wanted.difference(value)
        return {**value, **dict.fromkeys(missing)} if missing else value

    return BeforeValidator(run)


def numbered(label: str) -> WrapValidator:
    """On a list: a refusal inside item n is answered as "<label> n: <refusal>" (counting from 1)."""

    def run(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            position = first["loc"][0] if first["loc"] else None
            text = first_refusal(exc)
            if isinstance(position, int):
                text = f"{label} {position + 1}: {text}"
            raise refusal(text) from None

    return WrapValidator(run)


def documented(schema: Mapping[str, Any]) -> Any:
    """`Field` keyword arguments for the document only (description, examples, format...)."""
    extra = dict(schema)
    description = extra.pop("description", None)
    examples = extra.pop("examples", None)
    return Field(description=description, examples=examples, json_schema_extra=extra or None)


# --- the checks shared by several operations -------------------------------------------------------

Check = Callable[[Any, str], T]


def text_check(most: int) -> Check[str]:
    """Text of 1 to `most` characters, not blank; stripped. (The enforcement API's rule.)"""

    def check(value: Any, name: str) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > most:
            raise InvalidValue(f"'{name}' must be text of 1 to {most} characters")
        return value.strip()

    return check


def text(most: int, **doc: Any) -> PlainValidator:
    """Required text of 1 to `most` characters, not blank, given to the view stripped."""
    return checked(
        text_check(most), Annotated[str, Field(min_length=1, max_length=most), documented(doc)]
    )


def optional_text(most: int, **doc: Any) -> PlainValidator:
    """As `text`, but null (or absent) is allowed and given to the view as None."""
    required = text_check(most)

    def check(value: Any, name: str) -> str | None:
        return None if value is None else required(value, name)

    documented_as = Annotated[str | None, Field(min_length=1, max_length=most), documented(doc)]
    return checked(check, documented_as)


def instant(most: int, **doc: Any) -> PlainValidator:
    """Required text of 1 to `most` characters that is an ISO 8601 instant with an offset."""
    required = text_check(most)

    def check(value: Any, name: str) -> dt.datetime:
        return parse_instant(required(value, name))

    return checked(check, Annotated[str, Field(max_length=most), documented(INSTANT | doc)])


def calendar_date(most: int, **doc: Any) -> PlainValidator:
    """Required text of 1 to `most` characters that is an ISO date (YYYY-MM-DD)."""
    required = text_check(most)

    def check(value: Any, name: str) -> dt.date:
        return parse_date(required(value, name))

    return checked(
        check, Annotated[str, Field(max_length=most), documented({"format": "date"} | doc)]
    )


EXAMPLE_AT = "2026-06-01T08:30:00+02:00"
# Answers give instants in UTC with a Z (ztl.values.times.instant_text).
UtcInstant = Annotated[
    str, documented({"format": "date-time", "examples": ["2026-06-01T08:30:00Z"]})
]
Window = Annotated[
    str,
    Field(pattern="^[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}$"),
    documented(
        {"description": "Daily window in local time; the end may be past midnight (19:00-02:00)."}
    ),
]
# How every instant a client sends is documented.
INSTANT: dict[str, Any] = {
    "format": "date-time",
    "description": "ISO 8601 with an offset (Z or +01:00). A time without an offset is a 400.",
    "examples": [EXAMPLE_AT],
}
