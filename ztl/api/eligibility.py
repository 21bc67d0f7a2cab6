"""POST /api/v1/eligibility: the verdict with every check, for a signed-in person.

A resident asks for themself, a clerk or supervisor for anyone. The caller is a browser session, so
the request must carry the CSRF token (X-CSRFToken header), like every form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Annotated, Any, NotRequired

from flask import jsonify
from flask_login import current_user
from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict
from werkzeug.wrappers import Response

from ztl.api.auth import Session, api_error, rate_limited
from ztl.api.fields import INSTANT, checked, closed, documented, json_object
from ztl.api.operations import JsonAnswer, JsonBody, api_blueprint, operation
from ztl.api.rate_limit import RateLimit
from ztl.cluster.counters import SharedWindow
from ztl.eligibility.applicant_view import result_for_applicant
from ztl.eligibility.service import (
    DECLARABLE_CATEGORIES,
    DECLARABLE_EURO_CLASSES,
    DECLARABLE_FUELS,
    EligibilityInputError,
    EligibilityRequest,
    PlateInput,
    check_eligibility,
    checked_declaration,
    record_question,
)
from ztl.models import utcnow
from ztl.permissions import CLERKS, RESIDENTS, has_role
from ztl.rules.results import Outcome, Status
from ztl.values import InvalidValue
from ztl.values.fiscal import parse_subject_id, subject_key
from ztl.values.times import parse_date, parse_instant

bp = api_blueprint("api_eligibility", __name__)
MAX_PLATES = 10
MAX_TEXT = 100
MAX_LIST = 20


# Plates asked about per account and minute (ZTL_ELIGIBILITY_RATE_PER_MINUTE; per worker process
# on one machine, for all the nodes together with ZTL_REDIS_URL):
# enough for a person and a clerk, not for resolving the city's plates one after the other.
_PLATES_ASKED = SharedWindow("plates-asked")
PLATES_ASKED = RateLimit(
    "ZTL_ELIGIBILITY_RATE_PER_MINUTE",
    30,
    lambda: _PLATES_ASKED,
    "Too many plates asked about by this account in the last minute.",
)


# --- the question ---------------------------------------------------------------------------------


def _text(value: Any, name: str) -> str | None:
    """Null or text of at most MAX_TEXT characters, as sent (empty text included)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise InvalidValue(f"'{name}' must be text of at most {MAX_TEXT} characters")
    return value


def _applicant(value: Any, name: str) -> str:
    """The person asked about: a resident's own codice fiscale when left out."""
    applicant = _text(value, name) or (current_user.codice_fiscale or "")
    if not applicant:
        raise InvalidValue("'applicant' is required")
    return applicant


def _category(value: Any, name: str) -> str:
    if value is None:
        raise InvalidValue("'category' is required")
    return _text(value, name) or ""


def _instant(value: Any, name: str) -> dt.datetime | None:
    text = _text(value, name)
    return parse_instant(text) if text else None


def _date(value: Any, name: str) -> dt.date | None:
    text = _text(value, name)
    return parse_date(text) if text else None


@dataclass(frozen=True)
class AskedPlate:
    """A plate as asked, with the vehicle's data the applicant declares, as sent (or None): the
    service checks their values (checked_declaration), refused with its codes (422)."""

    plate: PlateInput
    declared: dict[str, Any] | None = None

    def checked(self) -> PlateInput:
        """The plate with its declaration checked; EligibilityInputError on a value that cannot
        be declared."""
        if self.declared is None:
            return self.plate
        declared = checked_declaration(
            self.declared.get("category"),
            self.declared.get("fuel"),
            self.declared.get("euro_class"),
        )
        return replace(self.plate, declared=declared)


def _plates(value: Any, name: str) -> tuple[AskedPlate, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_PLATES:
        raise InvalidValue(f"'plates' must be a list of 1 to {MAX_PLATES} plates")
    plates = []
    for item in value:
        if isinstance(item, str):
            plates.append(AskedPlate(PlateInput(item)))
        elif isinstance(item, dict) and isinstance(item.get("plate"), str):
            country = item.get("country", "IT")
            if not isinstance(country, str):
                raise InvalidValue("'plates[].country' must be two letters")
            declared = item.get("declared")
            if declared is not None and not isinstance(declared, dict):
                raise InvalidValue(
                    "'plates[].declared' must be an object with category, fuel and euro_class"
                )
            plates.append(AskedPlate(PlateInput(item["plate"], country), declared))
        else:
            raise InvalidValue('each plate is a string or {"plate", "country"}')
    return tuple(plates)


def _texts(value: Any, name: str) -> tuple[str, ...]:
    """A list of at most MAX_LIST texts; null or left out is none."""
    value = [] if value is None else value
    if (
        not isinstance(value, list)
        or not all(isinstance(v, str) for v in value)
        or len(value) > MAX_LIST
    ):
        raise InvalidValue(f"'{name}' must be a list of text")
    return tuple(value)


def _zones(value: Any, name: str) -> tuple[str, ...]:
    return tuple(zone.upper() for zone in _texts(value, name))


TEXT = Annotated[str, Field(max_length=MAX_TEXT)]
TEXTS = Annotated[list[str], Field(max_length=MAX_LIST)]


class VehicleDeclaration(TypedDict):
    category: Annotated[str, documented({"enum": list(DECLARABLE_CATEGORIES)})]
    fuel: Annotated[str, documented({"enum": list(DECLARABLE_FUELS)})]
    euro_class: Annotated[
        int, Field(ge=min(DECLARABLE_EURO_CLASSES), le=max(DECLARABLE_EURO_CLASSES))
    ]


class PlateWithCountry(TypedDict):
    plate: str
    country: NotRequired[str]
    declared: NotRequired[
        Annotated[
            VehicleDeclaration,
            documented(
                {
                    "description": "The vehicle's data as the applicant declares them, for a plate "
                    "outside the vehicle register (foreign, or Italian and not in it) in a category "
                    "that decides such vehicles on the applicant's declaration; ignored otherwise. "
                    "A value that cannot be declared is a 422 (declared_category_invalid, "
                    "declared_fuel_invalid, declared_euro_invalid)."
                }
            ),
        ]
    ]


@with_config(ConfigDict(json_schema_extra={"examples": [{"category": "1", "plates": ["AB123CD"]}]}))
class EligibilityQuestion(TypedDict):
    # In the order they are checked: a question with several mistakes is answered with the first.
    applicant: NotRequired[
        Annotated[
            str,
            checked(
                _applicant,
                Annotated[
                    TEXT,
                    documented(
                        {
                            "description": "Codice fiscale or VAT number. A resident's own by "
                            "default; required from clerks."
                        }
                    ),
                ],
            ),
        ]
    ]
    at: NotRequired[
        Annotated[dt.datetime | None, checked(_instant, Annotated[TEXT, documented(INSTANT)])]
    ]
    valid_from: NotRequired[
        Annotated[dt.date | None, checked(_date, Annotated[TEXT, documented({"format": "date"})])]
    ]
    transit_at: NotRequired[
        Annotated[dt.datetime | None, checked(_instant, Annotated[TEXT, documented(INSTANT)])]
    ]
    category: Annotated[str, checked(_category, TEXT)]
    plates: Annotated[
        tuple[AskedPlate, ...],
        checked(
            _plates,
            Annotated[list[str | PlateWithCountry], Field(min_length=1, max_length=MAX_PLATES)],
        ),
    ]
    zones: NotRequired[Annotated[tuple[str, ...], checked(_zones, TEXTS)]]
    validity: NotRequired[
        Annotated[
            str | None, checked(_text, Annotated[TEXT, documented({"examples": ["P1Y", "P2Y"]})])
        ]
    ]
    documents: NotRequired[Annotated[tuple[str, ...], checked(_texts, TEXTS)]]


QUESTION = Annotated[
    EligibilityQuestion,
    # Every field is checked, present or not: the applicant's default, the required category.
    json_object(
        "the body must be a JSON object",
        (
            "applicant",
            "at",
            "valid_from",
            "transit_at",
            "category",
            "plates",
            "zones",
            "validity",
            "documents",
        ),
    ),
]


# --- the answer (ztl.eligibility.service.EligibilityResult.to_dict) --------------------------------


@closed
class Message(TypedDict):
    it: str
    en: str


@closed
class Check(TypedDict):
    id: str
    status: Status
    message: Message
    evidence: dict[str, Any]


@closed
class EligibilityAnswer(TypedDict):
    outcome: Outcome
    checks: list[Check]
    category: str
    applicant: str
    plates: list[str]
    zones: list[str]
    at: Annotated[str, documented({"format": "date-time"})]
    validity: str
    fee_cents: int
    stamp_duty_cents: int
    total_cents: int


@operation(
    bp,
    "POST",
    "/eligibility",
    summary="The eligibility verdict with every check (signed-in people)",
    description="For the web pages, not for machines: a resident asks about themself, a clerk or "
    "supervisor about anyone. Needs the session cookie and the form's CSRF token in X-CSRFToken; a "
    "bearer token is not accepted.",
    access=Session(RESIDENTS | CLERKS),
    body=JsonBody(QUESTION),
    answers={200: JsonAnswer(EligibilityAnswer, "The verdict, the checks, the fee.")},
    refusals=(422,),  # a question that cannot be asked: unknown category, validity, declaration
    rate_limit=PLATES_ASKED,
)
def eligibility(body: EligibilityQuestion) -> tuple[Response, int] | Response:
    if has_role(current_user, RESIDENTS) and not _is_self(body["applicant"]):
        return api_error("forbidden")
    try:  # a declaration's values, checked before anything is charged or asked
        plates = tuple(asked.checked() for asked in body["plates"])
    except EligibilityInputError as exc:
        return api_error(exc)
    # Charged after the checks above: a refused question spends nothing.
    wait = PLATES_ASKED.wait(f"eligibility:{current_user.id}", cost=len(body["plates"]))
    if wait is not None:
        return rate_limited(wait)
    question = EligibilityRequest(
        category=body["category"],
        applicant_id=body["applicant"],
        plates=plates,
        at=body.get("at") or dt.datetime.now(dt.UTC),
        zones=body.get("zones", ()),
        valid_from=body.get("valid_from"),
        validity=body.get("validity"),
        documents=body.get("documents", ()),
        transit_at=body.get("transit_at"),
    )
    try:
        result = check_eligibility(question)
    except EligibilityInputError as exc:
        return api_error(exc)
    record_question(int(current_user.id), str(current_user.email), result, utcnow())
    answer = result.to_dict()
    if has_role(current_user, RESIDENTS):  # clerks see the evidence; applicants their own facts
        answer = result_for_applicant(answer)
    return jsonify(answer)


def _is_self(applicant_id: str) -> bool:
    try:
        return subject_key(parse_subject_id(applicant_id)) == current_user.person_key
    except InvalidValue:
        return False
