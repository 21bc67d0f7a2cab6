"""The registry of checks: a check declared in one place is validated, run, and served its facts.

The check `household_size` below exists only in this file. Declaring it (one decorated function) is
all it takes for the rules file to accept it, the evaluator to run it and the eligibility service to
read the anagrafe for it, in a category (the daily permit) that otherwise reads none.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT
from ztl.city.rules_config import EXTENSION_KEY
from ztl.demo.loader import load_demo
from ztl.eligibility.service import (
    EligibilityRequest,
    PlateInput,
    check_eligibility,
    gather_facts,
)
from ztl.registries.sql import SqlRegistryAdapter
from ztl.rules.checks import CHECKS
from ztl.rules.evaluate import evaluate
from ztl.rules.facts import ApplicantFacts, ApplicationFacts, ResidenceFacts, VehicleFacts
from ztl.rules.loader import DEFAULT_RULES, RulesFileError, load_rules, parse_rules
from ztl.rules.registry import CheckDefinition, CheckRegistry, Fact, Lock, Param, Scope, When
from ztl.rules.results import CheckResult, Message, Status

PRATO = DEFAULT_RULES.read_text(encoding="utf-8")
MUNICIPALITIES = sorted(DEFAULT_RULES.parent.glob("*.toml"))
RULES_DOC = Path(__file__).parent.parent / "docs" / "rules-file.md"
DAILY_CHECKS = "daily_monthly_limit = { limit = 3 }"  # the first is the daily permit G/A's
AT = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
MARIO = "RSSMRA85T10A562S"
CAR = VehicleFacts("AB123CD", "IT", True, "M1", "petrol", 6, MARIO, "", "owned", "active")


@pytest.fixture
def household_size() -> Iterator[CheckDefinition]:
    """A check only this test knows, registered for the test and forgotten after it."""

    @CHECKS.check(
        "household_size",
        params=[Param("at_most", int)],
        needs={Fact.RESIDENCE},
        inputs=lambda c: (c.facts.residence, c.params["at_most"]),
    )
    def check(residence: ResidenceFacts | None, at_most: int) -> CheckResult:
        members = len(residence.household_keys) if residence is not None else 0
        status = Status.PASS if members <= at_most else Status.FAIL
        return CheckResult(
            "household_size",
            status,
            Message(f"Nucleo di {members} persone.", f"A household of {members}."),
            {"members": members, "at_most": at_most},
        )

    try:
        yield CHECKS["household_size"]
    finally:
        CHECKS.unregister("household_size")


def _with_daily_check(line: str) -> str:
    assert DAILY_CHECKS in PRATO
    return PRATO.replace(DAILY_CHECKS, f"{DAILY_CHECKS}\n{line}", 1)


def _facts(residence: ResidenceFacts | None) -> ApplicationFacts:
    return ApplicationFacts(
        category="G/A",
        at=AT,
        valid_from=AT.date(),
        zones=("A",),
        applicant=ApplicantFacts(MARIO, MARIO, True),
        vehicles=(CAR,),
        residence=residence,
    )


def _home(members: int) -> ResidenceFacts:
    keys = tuple(f"PERSON{n:02d}" for n in range(members))
    return ResidenceFacts("resident", "Via Ricasoli", "12", ("A",), "H1", keys)


def test_a_new_check_is_loaded_and_run_from_its_declaration(
    household_size: CheckDefinition,
) -> None:
    rules = parse_rules(_with_daily_check("household_size = { at_most = 4 }"), "prato.toml")
    daily = rules.category("G/A")
    assert [s.check_id for s in daily.checks][-1] == "household_size"
    assert CHECKS.facts(daily.checks) == {Fact.RESIDENCE, Fact.DAILY_PERMITS}

    small = evaluate(rules, _facts(_home(4))).result("household_size")
    assert small is not None and small.status is Status.PASS
    assert dict(small.evidence) == {"members": 4, "at_most": 4}
    large = evaluate(rules, _facts(_home(5))).result("household_size")
    assert large is not None and large.status is Status.FAIL
    # A category that does not switch it on never runs it.
    assert evaluate(load_rules(), _facts(_home(5))).result("household_size") is None


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('household_size = { at_most = "four" }', "at_most must be a whole number"),
        ("household_size = { at_most = true }", "at_most must be a whole number"),
        ("household_size = {}", "missing parameter(s): at_most"),
        ("household_size = { at_most = 4, adults = 2 }", "unknown parameter 'adults'"),
        ("household_size = 4", "parameters must be a table, {} for none"),
    ],
)
def test_parameters_the_declaration_refuses_stop_the_rules_file(
    household_size: CheckDefinition, line: str, problem: str
) -> None:
    broken = _with_daily_check(line)
    with pytest.raises(RulesFileError) as info:
        parse_rules(broken, "prato.toml")
    error = info.value
    assert error.field == "categories[9].checks.household_size" and error.problem == problem
    assert error.line is not None and "household_size" in broken.splitlines()[error.line - 1]
    assert str(error) == f"prato.toml, line {error.line}, {error.field}: {problem}"


def test_a_value_outside_the_declared_choices_is_refused() -> None:
    old = 'vehicle_tied = { to = "household" }'
    assert old in PRATO
    with pytest.raises(RulesFileError) as info:
        parse_rules(PRATO.replace(old, 'vehicle_tied = { to = "neighbour" }', 1), "prato.toml")
    assert info.value.field == "categories[0].checks.vehicle_tied"
    assert info.value.problem == "to must be one of applicant, household, firm"


def test_an_unregistered_check_is_unknown_to_the_rules_file() -> None:
    with pytest.raises(RulesFileError) as info:
        parse_rules(_with_daily_check("household_size = { at_most = 4 }"), "prato.toml")
    assert info.value.problem.startswith("unknown check 'household_size'; known: ")
    assert info.value.problem.endswith(", ".join(CHECKS.ids()))


def test_the_service_gathers_the_facts_a_new_check_declares(
    app: Flask, household_size: CheckDefinition, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_demo()
    request = EligibilityRequest("G/A", DEMO_RESIDENT, (PlateInput(DEMO_OWN_CAR),), AT)
    prato = load_rules()
    plain = gather_facts(prato, prato.category("G/A"), request, SqlRegistryAdapter())
    assert plain.residence is None  # a daily permit reads no anagrafe

    rules = parse_rules(_with_daily_check("household_size = { at_most = 9 }"), "prato.toml")
    monkeypatch.setitem(app.extensions, EXTENSION_KEY, rules)
    result = check_eligibility(request)
    assert result.facts.residence is not None and result.facts.residence.street == "Via Ricasoli"
    size = result.verdict.result("household_size")
    assert size is not None and size.status is Status.PASS
    assert size.evidence["members"] == len(result.facts.residence.household_keys)
    assert [r.check_id for r in result.verdict.results][-1] == "household_size"


def test_every_check_id_in_use_is_registered() -> None:
    """The municipalities' rules files and the table of checks people read name registered checks,
    with the parameters each declares."""
    in_files = {
        check_id
        for path in MUNICIPALITIES
        for category in tomllib.loads(path.read_text(encoding="utf-8"))["categories"]
        for check_id in category["checks"]
    }
    assert in_files and in_files <= set(CHECKS.ids()), in_files - set(CHECKS.ids())

    rows = _documented_checks()
    assert rows and set(rows) <= set(CHECKS.ids()), set(rows) - set(CHECKS.ids())
    for check_id, parameters in rows.items():
        for param in CHECKS[check_id].params:
            assert f"`{param.name}`" in parameters, (check_id, param.name)
            for choice in param.choices:
                assert f'`"{choice}"`' in parameters, (check_id, param.name, choice)
        if not CHECKS[check_id].params:
            assert parameters == "none", check_id


def _documented_checks() -> dict[str, str]:
    """The rows of the table under "### Checks" in docs/rules-file.md: check id -> parameters."""
    text = RULES_DOC.read_text(encoding="utf-8")
    section = re.split(r"\n##+ ", text.split("\n### Checks\n", 1)[1], maxsplit=1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    return {check_id: parameters.strip() for check_id, parameters in rows}


def test_the_declarations_answer_what_the_services_used_to_list() -> None:
    """The sets the services kept before the registry, now asked of it."""
    assert CHECKS.application_time() == {
        "documents_attached",
        "retroactive_window",
        "daily_monthly_limit",
    }
    prato = load_rules()
    firms = {c.code for c in prato.categories if CHECKS.firm_only(c.checks)}
    assert firms == {"4", "63", "3", "8A"}
    residents = prato.category("1").checks
    assert CHECKS.locks(residents) == {Lock.HOUSEHOLD, Lock.PLATE}
    assert CHECKS.facts(residents) == {
        Fact.RESIDENCE,
        Fact.HOUSEHOLD_PERMITS,
        Fact.PLATE_PERMITS,
    }
    assert CHECKS.locks(prato.category("G/A").checks) == {Lock.PLATE}
    assert CHECKS.locks(prato.category("T").checks) == frozenset()
    assert CHECKS.retroactive_hours(prato.category("H").checks) == 48
    assert CHECKS.retroactive_hours(prato.category("1").checks) is None
    garages = prato.category("6").checks  # vehicle_tied to the applicant: no anagrafe
    assert Fact.RESIDENCE not in CHECKS.facts(garages)


def test_a_check_id_is_registered_once() -> None:
    registry = CheckRegistry()

    @registry.check("twice", inputs=lambda c: ())
    def first() -> CheckResult | None:
        return None

    with pytest.raises(ValueError, match="'twice' is already registered"):
        registry.check("twice", inputs=lambda c: ())(first)
    with pytest.raises(ValueError, match="declares a parameter twice"):
        registry.check("limits", params=[Param("n", int), Param("n", int)], inputs=lambda c: ())(
            first
        )
    assert registry.ids() == ("twice",)


def test_a_vehicle_check_runs_once_per_plate_and_leaves_out_none() -> None:
    registry = CheckRegistry()

    @registry.check(
        "italian_plate",
        scope=Scope.VEHICLE,
        when=When.APPLICATION_TIME,
        inputs=lambda c: (c.vehicle,),
    )
    def italian_plate(vehicle: VehicleFacts) -> CheckResult | None:
        if vehicle.country != "IT":
            return None
        return CheckResult("italian_plate", Status.PASS, Message(vehicle.plate, vehicle.plate))

    prato = load_rules()
    foreign = VehicleFacts("MAB1234", country="DE")
    facts = dataclasses.replace(_facts(None), vehicles=(CAR, foreign, CAR))
    results = list(registry["italian_plate"].results(prato, prato.category("T"), facts, {}))
    assert [r.message.it for r in results] == ["AB123CD", "AB123CD"]
    assert registry.application_time() == {"italian_plate"}
