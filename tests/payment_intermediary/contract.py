"""The contract between the app and its pagoPA intermediary (GovPay's API Pendenze v1, our subset).

Why a contract of our own: the app's payment client and the test intermediary (server.py) are both
written here, so a test that passes could simply mean both sides share the same mistake. The
schemas in api_pendenze.json were written from GovPay's published API documents, not from either
side's code, and every exchange in the tests goes through them: the intermediary checks what it
receives and what it answers, and `ContractRecorder` checks what the app's `requests` session sees.

JSON Schema says the shapes; this module adds the rules a schema cannot state: a notice number's
check digits, an amount equal to the sum of its lines counted in cents, at most two decimals in
euros, real calendar dates, a receipt time in Italian local time without an offset, and that an
answer speaks about the position the request named.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import requests

SPEC_FILE = Path(__file__).with_name("api_pendenze.json")
NOTICE_AUX_DIGIT = "3"
AMOUNT_KEYS = frozenset({"importo", "importoTotalePagato", "singoloImportoPagato"})
DATE_KEYS = frozenset({"dataValidita", "dataScadenza", "dataEsitoSingoloPagamento", "data"})


class ContractError(AssertionError):
    """An exchange the contract does not allow; the message says which rule and where."""


class UnknownOperation(ContractError):
    """A method and path that are no operation of the contract (a server answers 404)."""


@dataclass(frozen=True)
class Operation:
    """One operation of api_pendenze.json, with its schemas compiled once."""

    name: str
    method: str
    template: tuple[str, ...]
    request: jsonschema_rs.Validator | None
    responses: Mapping[str, jsonschema_rs.Validator | bool | None]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path's parameters when method and path are this operation's, else None."""
        segments = tuple(path.strip("/").split("/"))
        if method.upper() != self.method or len(segments) != len(self.template):
            return None
        parameters: dict[str, str] = {}
        for pattern, segment in zip(self.template, segments, strict=True):
            if pattern.startswith("{") and pattern.endswith("}"):
                if not segment:
                    return None
                parameters[pattern[1:-1]] = segment
            elif pattern != segment:
                return None
        return parameters

    def response_schema(self, status: int) -> jsonschema_rs.Validator | bool | None:
        """The schema for this status (None: no body, True: any body); refuses other statuses."""
        for key in (str(status), f"{status // 100}XX"):
            if key in self.responses:
                return self.responses[key]
        raise ContractError(f"{self.name}: status {status} is not one of {sorted(self.responses)}")


@dataclass(frozen=True)
class Spec:
    operations: Mapping[str, Operation]
    parameters: Mapping[str, jsonschema_rs.Validator]


def _compile(schema: object, defs: object) -> jsonschema_rs.Validator:
    """A validator for one schema of the document, its `$ref`s resolved against the shared $defs."""
    if not isinstance(schema, dict):
        raise TypeError(f"not a schema: {schema!r}")
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs, **schema}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


@functools.cache
def spec() -> Spec:
    """api_pendenze.json, compiled once per test process."""
    document = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    defs = document["$defs"]
    operations: dict[str, Operation] = {}
    for name, operation in document["operations"].items():
        responses: dict[str, jsonschema_rs.Validator | bool | None] = {}
        for status, schema in operation["responses"].items():
            responses[status] = (
                schema if schema is None or schema is True else _compile(schema, defs)
            )
        request = operation["request"]
        operations[name] = Operation(
            name=name,
            method=operation["method"],
            template=tuple(operation["path"].strip("/").split("/")),
            request=None if request is None else _compile(request, defs),
            responses=responses,
        )
    parameters = {name: _compile(schema, defs) for name, schema in document["parameters"].items()}
    return Spec(operations, parameters)


def operation_for(method: str, path: str) -> tuple[Operation, dict[str, str]]:
    """The operation a request is (path relative to its base, query string ignored)."""
    bare = urlsplit(path).path
    for operation in spec().operations.values():
        parameters = operation.match(method, bare)
        if parameters is not None:
            _check_schema(spec().parameters, parameters, "path")
            return operation, parameters
    raise UnknownOperation(f"{method} {bare}: no operation of the contract")


def _check_schema(
    validators: Mapping[str, jsonschema_rs.Validator], values: Mapping[str, str], where: str
) -> None:
    for name, value in values.items():
        _validate(validators[name], value, f"{where} parameter {name}")


def _validate(validator: jsonschema_rs.Validator, instance: object, where: str) -> None:
    problems = [
        f"{where}{_pointer(error.instance_path)}: {error.message}"
        for error in validator.iter_errors(instance)
    ]
    if problems:
        raise ContractError("; ".join(problems))


def _pointer(path: object) -> str:
    parts = list(path) if isinstance(path, list | tuple) else []
    return "".join(f"/{part}" for part in parts)


# ---- rules beyond the schema -------------------------------------------------------------------


def check_digits(digits: str) -> str:
    """pagoPA's check digits: the remainder modulo 93 of the digits before them, aux digit first."""
    return f"{int(digits) % 93:02d}"


def check_iuv(iuv: object, where: str) -> None:
    """17 digits whose last two are the check digits of "3" + the first 15 (aux digit 3)."""
    if not isinstance(iuv, str) or not re.fullmatch(r"[0-9]{17}", iuv):
        raise ContractError(f"{where}: an IUV is 17 digits, not {iuv!r}")
    if iuv[15:] != check_digits(NOTICE_AUX_DIGIT + iuv[:15]):
        raise ContractError(f"{where}: {iuv} does not end with its check digits")


def check_notice_number(number: object, where: str) -> None:
    """18 digits: the aux digit 3, then a well-formed IUV."""
    if not isinstance(number, str) or not re.fullmatch(r"3[0-9]{17}", number):
        raise ContractError(f"{where}: a notice number is 3 then 17 digits, not {number!r}")
    check_iuv(number[1:], where)


def cents(amount: object, where: str) -> int:
    """An amount in euros as integer cents; refuses more than two decimals.

    Floats are read through their shortest text (what the JSON said), so 12.5 is 1250 cents and
    12.345 is refused instead of being rounded.
    """
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        raise ContractError(f"{where}: an amount is a number, not {amount!r}")
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except InvalidOperation as error:
        raise ContractError(f"{where}: {amount!r} is not an amount") from error
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ContractError(f"{where}: {amount!r} has more than two decimals")
    return int(value * 100)


def _iso_date(text: object, where: str) -> date:
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ContractError(f"{where}: a date is YYYY-MM-DD, not {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ContractError(f"{where}: {text} is not a calendar date") from error


def _walk(value: object, path: str = "") -> Iterator[tuple[str, str, object]]:
    """Every (pointer, key, value) under value; the opaque `rpt` objects are not entered."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}/{key}", key, item
            if key != "rpt":
                yield from _walk(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}/{index}")


def _check_amounts_and_dates(body: object, where: str) -> None:
    for pointer, key, value in _walk(body):
        if key in AMOUNT_KEYS:
            cents(value, f"{where}{pointer}")
        elif key in DATE_KEYS:
            _iso_date(value, f"{where}{pointer}")


def _check_lines_add_up(body: dict[str, Any], where: str) -> None:
    total = cents(body["importo"], f"{where}/importo")
    lines = sum(cents(line["importo"], f"{where}/voci") for line in body["voci"])
    if total != lines:
        raise ContractError(
            f"{where}: importo is {total} cents but its voci add up to {lines} cents"
        )


def _check_validity_before_expiry(body: dict[str, Any], where: str) -> None:
    valid = _iso_date(body["dataValidita"], f"{where}/dataValidita")
    expires = _iso_date(body["dataScadenza"], f"{where}/dataScadenza")
    if expires < valid:
        raise ContractError(f"{where}: dataScadenza {expires} is before dataValidita {valid}")


def check_position_request(body: dict[str, Any]) -> None:
    where = "request"
    check_notice_number(body["numeroAvviso"], f"{where}/numeroAvviso")
    _check_amounts_and_dates(body, where)
    _check_lines_add_up(body, where)
    _check_validity_before_expiry(body, where)


def check_receipt(receipt: dict[str, Any], where: str) -> None:
    """A receipt: a real local time without offset, a well-formed IUV, a total that adds up."""
    written = receipt["dataOraMessaggioRicevuta"]
    try:
        moment = datetime.fromisoformat(written)
    except ValueError as error:
        raise ContractError(f"{where}/dataOraMessaggioRicevuta: {written!r} is no time") from error
    if moment.tzinfo is not None:
        raise ContractError(f"{where}/dataOraMessaggioRicevuta: pagoPA writes no offset")
    payment = receipt["datiPagamento"]
    check_iuv(payment["identificativoUnivocoVersamento"], f"{where}/datiPagamento")
    _check_amounts_and_dates(receipt, where)
    total = cents(payment["importoTotalePagato"], f"{where}/datiPagamento/importoTotalePagato")
    parts = sum(
        cents(part["singoloImportoPagato"], f"{where}/datiPagamento/datiSingoloPagamento")
        for part in payment["datiSingoloPagamento"]
    )
    if total != parts:
        raise ContractError(
            f"{where}/datiPagamento: importoTotalePagato is {total} cents, its parts {parts}"
        )


def qr_text(notice_number: str, creditor: str, amount_cents: int) -> str:
    """The text of the notice's QR code, as banking apps scan it."""
    return f"PAGOPA|002|{notice_number}|{creditor}|{amount_cents}"


def check_notice(notice: dict[str, Any], request: object) -> None:
    """A PUT's answer: a consistent notice about the position the request described."""
    where = "response"
    check_notice_number(notice["numeroAvviso"], f"{where}/numeroAvviso")
    _check_amounts_and_dates(notice, where)
    _check_validity_before_expiry(notice, where)
    amount = cents(notice["importo"], f"{where}/importo")
    expected_qr = qr_text(notice["numeroAvviso"], notice["idDominio"], amount)
    if notice["qrcode"] != expected_qr:
        raise ContractError(f"{where}/qrcode: {notice['qrcode']!r}, expected {expected_qr!r}")
    if isinstance(request, dict):
        for key in ("numeroAvviso", "idDominio"):
            if notice[key] != request.get(key):
                raise ContractError(
                    f"{where}/{key}: {notice[key]!r}, the request said {request.get(key)!r}"
                )
        if amount != cents(request.get("importo"), "request/importo"):
            raise ContractError(f"{where}/importo: not the amount of the request")


def check_position(position: dict[str, Any], parameters: Mapping[str, str]) -> None:
    """A GET's answer: the position asked for, adding up, paid exactly when a receipt says so."""
    where = "response"
    for key in ("idA2A", "idPendenza"):
        if position[key] != parameters[key]:
            raise ContractError(
                f"{where}/{key}: {position[key]!r}, the path said {parameters[key]!r}"
            )
    check_notice_number(position["numeroAvviso"], f"{where}/numeroAvviso")
    _check_amounts_and_dates(position, where)
    _check_lines_add_up(position, where)
    _check_validity_before_expiry(position, where)
    iuv = position["numeroAvviso"][1:]
    receipts = [attempt["rt"] for attempt in position["rpp"] if "rt" in attempt]
    for index, receipt in enumerate(receipts):
        check_receipt(receipt, f"{where}/rpp/{index}/rt")
        if receipt["datiPagamento"]["identificativoUnivocoVersamento"] != iuv:
            raise ContractError(f"{where}/rpp/{index}/rt: a receipt of another IUV")
    paid = position["stato"] == "ESEGUITA"
    if paid and not receipts:
        raise ContractError(f"{where}: ESEGUITA without a receipt in rpp")
    line_states = {line["stato"] for line in position["voci"]}
    expected = {"Eseguito"} if paid else {"Non eseguito"}
    if line_states != expected:
        raise ContractError(
            f"{where}/voci: {sorted(line_states)} for a position {position['stato']}"
        )


def check_notification(notification: dict[str, Any], parameters: Mapping[str, str]) -> None:
    """A payment notification about the notice in its path, whose collections add up to the receipt."""
    where = "notification"
    check_iuv(parameters["iuv"], "path")
    check_receipt(notification["rt"], f"{where}/rt")
    paid_iuv = notification["rt"]["datiPagamento"]["identificativoUnivocoVersamento"]
    if paid_iuv != parameters["iuv"]:
        raise ContractError(
            f"{where}/rt: receipt of IUV {paid_iuv}, the path says {parameters['iuv']}"
        )
    collections = notification["riscossioni"]
    for index, collection in enumerate(collections):
        if (
            collection["idDominio"] != parameters["idDominio"]
            or collection["iuv"] != parameters["iuv"]
        ):
            raise ContractError(
                f"{where}/riscossioni/{index}: not the creditor and IUV of the path"
            )
    indexes = [collection["indice"] for collection in collections]
    if len(set(indexes)) != len(indexes):
        raise ContractError(f"{where}/riscossioni: indice repeats: {indexes}")
    collected = sum(cents(c["importo"], f"{where}/riscossioni") for c in collections)
    total = cents(notification["rt"]["datiPagamento"]["importoTotalePagato"], f"{where}/rt")
    if collected != total:
        raise ContractError(f"{where}/riscossioni: {collected} cents collected, {total} paid")


# ---- the public checks ------------------------------------------------------------------------


def validate_request(method: str, path: str, body: object | None) -> str:
    """The operation a request is, after checking its path and body; raises ContractError.

    path is relative to the API's base (e.g. "/pendenze/A2A/ID"), or to the app's notification
    base for notifyPayment.
    """
    operation, parameters = operation_for(method, path)
    if operation.request is None:
        if body is not None:
            raise ContractError(f"{operation.name}: the request has no body")
        return operation.name
    if body is None:
        raise ContractError(f"{operation.name}: the request needs a JSON body")
    _validate(operation.request, body, "request")
    assert isinstance(body, dict)  # the schemas only accept objects
    semantic: dict[str, Callable[[dict[str, Any]], None]] = {
        "createPosition": check_position_request,
        "notifyPayment": lambda notification: check_notification(notification, parameters),
    }
    if operation.name in semantic:
        semantic[operation.name](body)
    return operation.name


def validate_response(
    method: str, path: str, request_body: object | None, status: int, response_body: object | None
) -> str:
    """Checks an answer against the operation its request was; returns the operation's name."""
    operation, parameters = operation_for(method, path)
    schema = operation.response_schema(status)
    if isinstance(schema, bool):  # true: any body (the app's answers to notifications)
        return operation.name
    if schema is None:
        if response_body is not None:
            raise ContractError(f"{operation.name}: status {status} has no body")
        return operation.name
    if response_body is None:
        raise ContractError(f"{operation.name}: status {status} needs a JSON body")
    _validate(schema, response_body, f"{operation.name} {status} response")
    assert isinstance(response_body, dict)  # the schemas only accept objects
    if operation.name == "createPosition" and status in (200, 201):
        check_notice(response_body, request_body)
    elif operation.name == "readPosition" and status == 200:
        check_position(response_body, parameters)
    return operation.name


def validate_exchange(
    method: str, path: str, request_body: object | None, status: int, response_body: object | None
) -> str:
    """Checks a whole exchange (request, then answer); returns the operation's name.

    A request the contract refuses may only be answered with a 400 (or a 401/5XX before the body
    is read): the intermediary refusing it is the contract working, anything else is not.
    """
    try:
        validate_request(method, path, request_body)
    except ContractError:
        if status not in (400, 401) and status < 500:
            raise
    return validate_response(method, path, request_body, status, response_body)


def validate_notification(path: str, body: object) -> None:
    """Checks a payment notification as the app receives it (path relative to its base)."""
    name = validate_request("POST", path, body)
    if name != "notifyPayment":
        raise ContractError(f"POST {path} is {name}, not a payment notification")


# ---- watching a client ------------------------------------------------------------------------


def _json_or_none(content: object, where: str) -> object | None:
    if content is None or content in (b"", ""):
        return None
    if not isinstance(content, bytes | str):
        raise ContractError(f"{where}: a streamed body, which the contract cannot read")
    try:
        return json.loads(content)
    except ValueError as error:
        raise ContractError(f"{where}: not JSON") from error


class ContractRecorder:
    """Checks every exchange a `requests.Session` has with the intermediary's API.

    Attached to the app's payment session in tests, it sees exactly what went over the wire
    (the bytes the session sent, the answer it got), so the app's client is held to the contract
    without the test having to repeat what the client sends. Calls to other URLs (the checkout
    page, anything else) are ignored.
    """

    def __init__(self) -> None:
        self.exchanges: list[tuple[str, int]] = []
        self.errors: list[str] = []

    def attach(self, session: requests.Session, base_url: str) -> None:
        base = urlsplit(base_url)
        prefix = base.path.rstrip("/")

        def record(response: requests.Response, **_options: object) -> requests.Response:
            request = response.request
            url = urlsplit(request.url or "")
            if url.netloc != base.netloc or not url.path.startswith(prefix + "/"):
                return response
            path = url.path[len(prefix) :]
            method = request.method or ""
            try:
                name = validate_exchange(
                    method,
                    path,
                    _json_or_none(request.body, f"{method} {path} request"),
                    response.status_code,
                    _json_or_none(response.content, f"{method} {path} response"),
                )
            except ContractError as error:
                self.errors.append(f"{method} {path} -> {response.status_code}: {error}")
                name = "?"
            self.exchanges.append((name, response.status_code))
            return response

        session.hooks["response"].append(record)

    def assert_clean(self) -> None:
        """Raises ContractError listing every exchange that broke the contract."""
        if self.errors:
            raise ContractError("\n".join(self.errors))
