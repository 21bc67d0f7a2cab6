"""The registry of eligibility checks: everything the system keys by a check's id, declared once.

Why: a check used to be known by its id in five places that had to agree (the function, a dispatch
in the evaluator, a table of parameters, sets of ids in the services, the lock keys), and forgetting
one of them was silent: a check whose facts the service never gathered simply failed. Now a check is
one function in `ztl.rules.checks`, decorated with its declaration, and every other part asks the
registry (`ztl.rules.checks.CHECKS`):

- the loader validates a check's parameters from `params`, so a rules file cannot switch on a check
  with a misspelt or mistyped parameter;
- the evaluator runs the function with the `inputs` it declares, once per application or per plate
  (`scope`);
- the eligibility service gathers only the `needs` of the category's checks (a daily permit reads
  no anagrafe), and issuance takes the `locks` of the limits they count;
- re-checks skip what only makes sense `when` the application is made; a category with a check
  only a firm can pass (`firm_only`) is applied for with a partita IVA.

Pure like the rest of `ztl.rules`: standard library and this package only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, TypeVar

from ztl.rules.facts import ApplicationFacts, VehicleFacts
from ztl.rules.municipality import CategoryRules, CheckSpec, Municipality
from ztl.rules.results import CheckResult

Params = Mapping[str, Any]


class Fact(StrEnum):
    """What a check reads beyond the application itself.

    The applicant's id, the plates as the vehicle register describes them, the zones, the dates and
    the attached documents are always there; each fact below costs a register or permit query, so
    the service gathers it only when a check of the category declares it.
    """

    RESIDENCE = "residence"  # the anagrafe: status, address and its zones, the household
    BADGES = "badges"  # the disabled badges (CUDE) the applicant holds
    BUSINESS = "business"  # the firm in the business register, and the zones of its seat
    HOUSEHOLD_PERMITS = "household_permits"  # active permits of the category in the household
    PLATE_PERMITS = "plate_permits"  # plates already holding an active permit of the category
    DAILY_PERMITS = "daily_permits"  # daily permits of each plate in the calendar month
    TRANSIT = "transit"  # the transit a late registration covers (asked of the applicant)


class Lock(StrEnum):
    """What a limit counts among issued permits, so two issuances at once must not both pass it:
    issuance holds a lock per household member or per plate until it commits."""

    HOUSEHOLD = "household"
    PLATE = "plate"


class Scope(StrEnum):
    APPLICATION = "application"  # one result per application
    VEHICLE = "vehicle"  # one result per plate, in the order the plates were given


class When(StrEnum):
    ALWAYS = "always"  # also re-checked on active permits (a resident who moved away)
    APPLICATION_TIME = "application-time"  # documents, a late registration, a month's count


@dataclass(frozen=True)
class Param:
    """A parameter of a check in the rules file: `household_limit = { limit = 2 }`.

    kind: the TOML type (int, str, list, dict, bool); choices: the only values allowed, if any.
    """

    name: str
    kind: type
    choices: tuple[str, ...] = ()


class CheckContext(NamedTuple):
    """What a check may look at: the rules, the category, the facts and its own parameters; for a
    vehicle check also the vehicle being checked. A named tuple, not a frozen dataclass: one is
    built per check and plate of every verdict, and a tuple is built several times faster."""

    municipality: Municipality
    category: CategoryRules
    facts: ApplicationFacts
    params: Params
    vehicle_facts: VehicleFacts | None = None

    @property
    def vehicle(self) -> VehicleFacts:
        """The plate a vehicle check is looking at (an application check has none)."""
        if self.vehicle_facts is None:
            raise TypeError("an application check has no vehicle: declare scope=Scope.VEHICLE")
        return self.vehicle_facts


def _constant(value: Any) -> Callable[[Params], Any]:
    return lambda _params: value


def _no_facts(_params: Params) -> frozenset[Fact]:
    return frozenset()


def _any_applicant(_params: Params) -> bool:
    return False


@dataclass(frozen=True)
class CheckDefinition:
    """One check and everything the rest of the system needs to know about it."""

    check_id: str
    function: Callable[..., CheckResult | None]
    # The function's arguments, taken from the context: lambda c: (c.vehicle, c.params["allowed"]).
    inputs: Callable[[CheckContext], tuple[Any, ...]]
    params: tuple[Param, ...] = ()
    scope: Scope = Scope.APPLICATION
    when: When = When.ALWAYS
    locks: frozenset[Lock] = frozenset()
    # The facts it reads, and whether only a firm can pass it; may depend on its parameters
    # (vehicle_tied to the household reads the anagrafe, to the firm is for firms).
    needs_for: Callable[[Params], frozenset[Fact]] = _no_facts
    firm_only_for: Callable[[Params], bool] = _any_applicant
    # For a check that accepts a registration after the transit: how many hours after it, from its
    # parameters (the enforcement index keeps a "no" open that long).
    retroactive_hours_for: Callable[[Params], int] | None = None

    def run(self, context: CheckContext) -> CheckResult | None:
        """The check on one application (or one plate): None when there was nothing to check."""
        return self.function(*self.inputs(context))

    def results(
        self,
        municipality: Municipality,
        category: CategoryRules,
        facts: ApplicationFacts,
        params: Params,
    ) -> list[CheckResult]:
        """Its results on an application, one per plate for a vehicle check, None left out."""
        function, inputs = self.function, self.inputs
        if self.scope is Scope.VEHICLE:
            contexts = [
                CheckContext(municipality, category, facts, params, vehicle)
                for vehicle in facts.vehicles
            ]
        else:
            contexts = [CheckContext(municipality, category, facts, params)]
        results = [function(*inputs(context)) for context in contexts]
        return [result for result in results if result is not None]


F = TypeVar("F", bound=Callable[..., CheckResult | None])


class CheckRegistry:
    """The checks the engine knows, by id, and the questions the rest of the system asks of them.

    The questions take a category's `CheckSpec`s (id and parameters as the rules file gives them),
    so a check's declaration may depend on its parameters.
    """

    def __init__(self) -> None:
        self._checks: dict[str, CheckDefinition] = {}

    def check(
        self,
        check_id: str,
        *,
        inputs: Callable[[CheckContext], tuple[Any, ...]],
        params: Iterable[Param] = (),
        scope: Scope = Scope.APPLICATION,
        when: When = When.ALWAYS,
        needs: Iterable[Fact] | Callable[[Params], Iterable[Fact]] = (),
        locks: Iterable[Lock] = (),
        firm_only: bool | Callable[[Params], bool] = False,
        retroactive_hours: Callable[[Params], int] | None = None,
    ) -> Callable[[F], F]:
        """Register the decorated function as a check; the function itself is left unchanged, so
        it is tested on plain facts."""

        def register(function: F) -> F:
            self.register(
                CheckDefinition(
                    check_id=check_id,
                    function=function,
                    inputs=inputs,
                    params=tuple(params),
                    scope=scope,
                    when=when,
                    locks=frozenset(locks),
                    needs_for=_facts_rule(needs),
                    firm_only_for=firm_only if callable(firm_only) else _constant(firm_only),
                    retroactive_hours_for=retroactive_hours,
                )
            )
            return function

        return register

    def register(self, definition: CheckDefinition) -> CheckDefinition:
        if definition.check_id in self._checks:
            raise ValueError(f"check {definition.check_id!r} is already registered")
        names = [p.name for p in definition.params]
        if len(set(names)) != len(names):
            raise ValueError(f"check {definition.check_id!r} declares a parameter twice")
        self._checks[definition.check_id] = definition
        return definition

    def unregister(self, check_id: str) -> None:
        """Forget a check (tests register their own and remove it after)."""
        del self._checks[check_id]

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def __getitem__(self, check_id: str) -> CheckDefinition:
        return self._checks[check_id]

    def ids(self) -> tuple[str, ...]:
        """Every check id, sorted."""
        return tuple(sorted(self._checks))

    def facts(self, specs: Iterable[CheckSpec]) -> frozenset[Fact]:
        """The facts these checks read: what the service gathers."""
        needed: set[Fact] = set()
        for spec in specs:
            needed |= self._checks[spec.check_id].needs_for(spec.params)
        return frozenset(needed)

    def locks(self, specs: Iterable[CheckSpec]) -> frozenset[Lock]:
        """The locks issuing a permit under these checks takes."""
        return frozenset(lock for spec in specs for lock in self._checks[spec.check_id].locks)

    def firm_only(self, specs: Iterable[CheckSpec]) -> bool:
        """Whether one of these checks only a firm can pass (the category is for firms)."""
        return any(self._checks[spec.check_id].firm_only_for(spec.params) for spec in specs)

    def application_time(self) -> frozenset[str]:
        """Ids of the checks that belong to the moment of application, not re-run on a permit."""
        return frozenset(
            check_id
            for check_id, definition in self._checks.items()
            if definition.when is When.APPLICATION_TIME
        )

    def retroactive_hours(self, specs: Iterable[CheckSpec]) -> int | None:
        """The longest time after a transit these checks accept a registration; None: not at all."""
        hours = [
            rule(spec.params)
            for spec in specs
            if (rule := self._checks[spec.check_id].retroactive_hours_for) is not None
        ]
        return max(hours, default=None)


def _facts_rule(
    needs: Iterable[Fact] | Callable[[Params], Iterable[Fact]],
) -> Callable[[Params], frozenset[Fact]]:
    if callable(needs):
        rule = needs
        return lambda params: frozenset(rule(params))
    return _constant(frozenset(needs))
