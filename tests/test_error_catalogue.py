"""One error catalogue (ztl/errors.py): every code the service refuses with has its words there,
and every entry there is a code something refuses with.

The codes are found in the source, not listed by hand: ast walks ztl/ for
- `code = "..."` class attributes of ServiceError and its subclasses (their default codes);
- calls of those classes (`ServiceError(..., code="...")`, ApplicationInputError's positional
  code, RefusedAtCounter's, `super().__init__(..., code="...")` inside them);
- the API's answers, `api_error("code", ...)`;
- payment receipts refused, `_refused("code", ...)` and `ReceiptOutcome(REFUSED, "code", ...)`;
- the codes views look up themselves, `error_text("code")`, `error_text_in(lang, "code")`,
  `error_status("code")`;
- outcome enums whose values are shown as refusals (sign-in, second factor, identity providers).
A code computed at run time (`code=f"password_{problem}"`) must be declared in DYNAMIC below with
the way to find its values, so a new computed code cannot slip past unnoticed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from ztl.accounts.second_factor import CodeOutcome
from ztl.accounts.staff import SignInFailure
from ztl.accounts.verified_identity import VerifiedRefusal
from ztl.errors import CATALOGUE, DETAIL, IDENTITY_PREFIX, error_status, error_text_in
from ztl.identity.assertion import Refusal
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models.enums import Outcome

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ztl"
CATALOGUE_FILE = "ztl/errors.py"
# Functions whose first argument is a code: the API's answers anywhere, refused payment receipts.
FIRST_ARGUMENT = {"api_error": ".py", "_refused": "applications/payment_receipts.py"}
LOOKUPS = {"error_text": 0, "error_status": 0, "uses_detail": 0, "error_text_in": 1}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    code: str | None  # None: computed at run time, see `source`
    source: str
    lookup: bool = False  # a view looking a code up, rather than a refusal raised

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.source})"


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "translations" not in path.parts:
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


MODULES = list(_modules())


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _code_attribute(item: ast.stmt) -> ast.expr | None:
    """The value of a `code = ...` (or `code: str = ...`) line in a class body."""
    if isinstance(item, ast.Assign) and [_name(t) for t in item.targets] == ["code"]:
        return item.value
    if isinstance(item, ast.AnnAssign) and _name(item.target) == "code":
        return item.value
    return None


def _error_classes() -> tuple[dict[str, int | None], list[Site]]:
    """ServiceError and its subclasses, with the position of `code` in their constructor, and
    their `code = "..."` class attributes."""
    bases: dict[str, list[str | None]] = {}
    code_index: dict[str, int | None] = {}
    attributes: dict[str, list[Site]] = {}
    for path, tree in MODULES:
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases[node.name] = [_name(b) for b in node.bases]
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    names = [a.arg for a in item.args.args[1:]]
                    code_index[node.name] = names.index("code") if "code" in names else None
                value = _code_attribute(item)
                if value is not None:
                    site = Site(path, item.lineno, _literal(value), ast.unparse(value))
                    attributes.setdefault(node.name, []).append(site)
    family = {"ServiceError"}
    grown = True
    while grown:
        grown = False
        for name, its_bases in bases.items():
            if name not in family and family.intersection(b for b in its_bases if b):
                family.add(name)
                grown = True

    def position(name: str) -> int | None:
        while name not in code_index:
            parents = [b for b in bases.get(name, []) if b in family]
            if not parents:
                return None
            name = parents[0]
        return code_index[name]

    classes = {name: position(name) for name in family}
    return classes, [site for name in family for site in attributes.get(name, [])]


def _code_argument(node: ast.Call, index: int | None) -> ast.expr | None:
    keyword = next((k.value for k in node.keywords if k.arg == "code"), None)
    if keyword is not None:
        return keyword
    if index is not None and len(node.args) > index:
        return node.args[index]
    return None


def _sites() -> list[Site]:
    classes, found = _error_classes()
    for path, tree in MODULES:
        inside_family: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in classes:
                inside_family.update(id(sub) for sub in ast.walk(node))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            callee = _name(node.func)
            lookup = False
            expression: ast.expr | None = None
            if callee in classes:
                expression = _code_argument(node, classes[callee])
            elif callee == "__init__" and id(node) in inside_family:
                expression = _code_argument(node, 1)
                if isinstance(expression, ast.Name) and expression.id == "code":
                    expression = None  # a constructor handing its own `code` parameter on
            elif callee in FIRST_ARGUMENT and path.endswith(FIRST_ARGUMENT[callee]) and node.args:
                expression = node.args[0]
            elif (
                callee == "ReceiptOutcome"
                and len(node.args) > 1
                and _name(node.args[0]) == "REFUSED"
            ):
                expression = node.args[1]
            elif callee in LOOKUPS and path != CATALOGUE_FILE:
                index = LOOKUPS[callee]
                if len(node.args) > index and isinstance(
                    node.args[index], ast.Constant | ast.JoinedStr
                ):
                    expression, lookup = node.args[index], True
            if expression is not None:
                found.append(
                    Site(path, node.lineno, _literal(expression), ast.unparse(expression), lookup)
                )
    return found


SITES = _sites()


# --- codes computed at run time: where, and how to know every value -------------------------------


def _returned_strings(path: str, function: str) -> set[str]:
    tree = dict(MODULES)[path]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return {
                sub.value
                for ret in ast.walk(node)
                if isinstance(ret, ast.Return) and ret.value is not None
                for sub in ast.walk(ret.value)
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            }
    raise AssertionError(f"{function} not found in {path}")


def _call_arguments(path: str, function: str, index: int) -> set[str]:
    return {
        value
        for node in ast.walk(dict(MODULES)[path])
        if isinstance(node, ast.Call) and _name(node.func) == function and len(node.args) > index
        for value in [_literal(node.args[index])]
        if value is not None
    }


def _plate_problems() -> set[str]:
    """The codes `PlateProblem` is raised with in ztl/values/plates.py."""
    return _call_arguments("ztl/values/plates.py", "PlateProblem", 1)


def _passwords() -> set[str]:
    return {
        f"password_{p}" for p in _returned_strings("ztl/accounts/passwords.py", "password_problem")
    }


def _refused_outcomes() -> set[str]:
    return {o.value for o in Outcome} - {Outcome.ELIGIBLE.value}


# Outcome enums whose values are refusals a person reads (the views pass the member itself).
SECOND_FACTOR_REFUSALS = {o.value for o in CodeOutcome} - {"accepted", "recovery"}
ENUM_CODES = (
    {f.value for f in SignInFailure}
    | SECOND_FACTOR_REFUSALS
    | {r.value for r in VerifiedRefusal}
    | {IDENTITY_PREFIX + r.value for r in Refusal}
)

FORWARDED: Callable[[], set[str]] = set  # a code raised elsewhere, handed on: found where raised
DYNAMIC: dict[tuple[str, str], Callable[[], set[str]]] = {
    ("ztl/accounts/staff.py", "f'password_{problem}'"): _passwords,
    ("ztl/web/supervisor/user_pages.py", "f'password_{problem}'"): _passwords,
    ("ztl/applications/decisions.py", "f'{what}_missing'"): lambda: {
        f"{what}_missing" for what in _call_arguments("ztl/applications/decisions.py", "_text", 1)
    },
    ("ztl/accounts/second_factor.py", "outcome.value"): lambda: SECOND_FACTOR_REFUSALS,
    ("ztl/applications/counter.py", "outcome.value"): _refused_outcomes,
    ("ztl/permits/changes.py", "result.verdict.outcome.value"): _refused_outcomes,
    ("ztl/api/eligibility.py", "exc"): FORWARDED,
    ("ztl/api/enforcement.py", "exc"): FORWARDED,
    ("ztl/api/payments.py", "outcome.code"): FORWARDED,
    ("ztl/api/payments.py", "exc"): FORWARDED,
    ("ztl/api/pagopa.py", "exc"): FORWARDED,
    ("ztl/applications/payment_receipts.py", "code"): FORWARDED,  # _refused's own parameter
    # The application form folds every plate problem but the country into plate_invalid.
    ("ztl/applications/applicant.py", "code"): lambda: {"country_invalid", "plate_invalid"},
    ("ztl/applications/hotel_guests.py", "exc.code"): _plate_problems,
    ("ztl/eligibility/service.py", "exc.code"): _plate_problems,
}


def _dynamic_codes() -> set[str]:
    return {code for values in DYNAMIC.values() for code in values()}


# Entries no scan above can see (a template, a message built elsewhere), each with its reason.
USED_OTHERWISE: dict[str, str] = {}


def _codes_in_use() -> set[str]:
    literal = {site.code for site in SITES if site.code is not None}
    return literal | _dynamic_codes() | ENUM_CODES | set(USED_OTHERWISE)


# --- the tests ------------------------------------------------------------------------------------


def test_the_scan_finds_the_codes_it_should() -> None:
    """A guard on the scanner itself: one code of each pattern is found."""
    found = {site.code for site in SITES}
    assert {
        "refused",  # ServiceError's class attribute
        "bad_input",  # ApplicationInputError's class attribute
        "not_found",  # ServiceError(..., code="not_found")
        "plate_twice",  # ApplicationInputError's positional code
        "guest_not_eligible",  # super().__init__(..., code=...) in GuestRefused
        "city_conflict",  # the same in CityConflict
        "unauthorized",  # api_error("unauthorized")
        "unknown_notice",  # _refused("unknown_notice", ...)
        "receipt_reused",  # ReceiptOutcome(REFUSED, "receipt_reused", ...)
        "locked_until",  # error_text("locked_until", ...) in a view
    } <= found
    assert len(found) > 100


def test_every_code_raised_has_a_message() -> None:
    missing = sorted(
        f"{code}: {site}"
        for site in SITES
        for code in [site.code]
        if code is not None and code not in CATALOGUE
    )
    missing += sorted(f"{code}: computed" for code in _dynamic_codes() if code not in CATALOGUE)
    missing += sorted(f"{code}: an outcome enum" for code in ENUM_CODES if code not in CATALOGUE)
    assert missing == [], f"codes without a message, add them to ztl/errors.py: {missing}"


def test_every_computed_code_is_declared() -> None:
    computed = {(site.path, site.source): site for site in SITES if site.code is None}
    undeclared = sorted(str(site) for key, site in computed.items() if key not in DYNAMIC)
    assert undeclared == [], (
        "a code computed at run time: declare its values in DYNAMIC (tests/test_error_catalogue.py)"
    )
    stale = sorted(
        f"{path}: {source}" for path, source in DYNAMIC if (path, source) not in computed
    )
    assert stale == [], "declared in DYNAMIC but no longer in the source"
    assert all(values() or values is FORWARDED for values in DYNAMIC.values())


def test_every_message_is_used() -> None:
    dead = sorted(set(CATALOGUE) - _codes_in_use())
    assert dead == [], f"messages no code refuses with, remove them from ztl/errors.py: {dead}"


def test_messages_name_their_parameters_simply() -> None:
    for code, entry in CATALOGUE.items():
        text = entry.msgid
        without = PLACEHOLDER.sub("", text)
        assert "%" not in without, f"{code}: only %(name)s placeholders"
        assert 400 <= entry.status <= 599, code
    detail_codes = {c for c, e in CATALOGUE.items() if f"%({DETAIL})s" in e.msgid}
    assert detail_codes <= {
        "registry_file",
        "bad_request",
        "bad_signature",
        "file_invalid",
        "file_unreadable",
        "file_not_utf8",
    }, "the detail is the service's own (English) text: for supervisors and machines only"


def test_no_table_of_messages_outside_the_catalogue() -> None:
    """The tables the catalogue replaced stay gone: no *MESSAGES or *REFUSALS mapping elsewhere."""
    tables = [
        f"{path}:{node.lineno}"
        for path, tree in MODULES
        if path != CATALOGUE_FILE
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
        and re.search(r"(MESSAGES|REFUSALS)$", target.id)
        and isinstance(node.value, ast.Dict)
    ]
    assert tables == []


def test_the_command_line_has_one_bad_input() -> None:
    defined = [
        f"{path}:{node.lineno}"
        for path, tree in MODULES
        if path.startswith("ztl/cli/")
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef) and node.name in {"BadInput", "Refused"}
    ]
    assert len(defined) == 2 and {d.split(":")[0] for d in defined} == {"ztl/cli/common.py"}, (
        defined
    )


# --- the three readers: a view, the API, the command line -----------------------------------------


def test_the_command_line_words_a_refusal_in_its_language(app: Flask) -> None:
    from ztl.cli.common import refusal_text

    refusal = ServiceError("renewal opens on 01/02/2027, 60 days before expiry", code="too_early")
    assert refusal_text(refusal, "it") == (
        "Il rinnovo si apre 60 giorni prima della scadenza. "
        "(too_early: renewal opens on 01/02/2027, 60 days before expiry)"
    )


def test_a_message_takes_its_parameters(app: Flask) -> None:
    checks = "La registrazione va fatta entro 48 ore dal transito."
    assert error_text_in("it", "guest_not_eligible", checks=checks) == (
        "Registrazione non ammessa. La registrazione va fatta entro 48 ore dal transito."
    )
    # A parameter not given reads as empty rather than failing the page.
    assert error_text_in("it", "guest_not_eligible") == "Registrazione non ammessa. "
    # An unknown code gets the general refusal, never an error.
    assert error_text_in("it", "no_such_code") == "L'operazione non è stata eseguita."


def test_the_api_answers_with_the_code_and_the_catalogues_words(client: FlaskClient) -> None:
    response = client.get("/api/v1/whoami")
    assert response.status_code == error_status("unauthorized") == 401
    assert response.json == {
        "error": "unauthorized",
        "message": error_text_in("it", "unauthorized"),
    }
    english = client.get("/api/v1/whoami", headers={"Accept-Language": "en"})
    assert english.json == {"error": "unauthorized", "message": error_text_in("en", "unauthorized")}


def test_every_message_renders_in_both_languages(app: Flask) -> None:
    for code in CATALOGUE:
        for language in ("it", "en"):
            assert error_text_in(language, code, detail="x", checks="x", time="x").strip(), code
