"""Races on both engines: many threads, released together, try to break a limit or a uniqueness.

Every test starts 8-12 threads, each with its own app context and so its own session and connection,
waiting on a barrier and then calling the same service at the same moment. What must hold afterwards
is checked on what was committed: one permit per approval, household and monthly limits, numbers
without gaps, one end per permit. On PostgreSQL the services' row and advisory locks hold; on SQLite,
which ignores FOR UPDATE, every unit of work takes the database's write lock at its start
(ztl.database), so the same races must end the same way.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.factories import CF_MARIO, make_representative, make_user
from ztl.applications import applicant as applications
from ztl.applications import decisions
from ztl.applications.counter import CounterRequest, RefusedAtCounter, issue_at_counter
from ztl.eligibility.service import EligibilityRequest, PlateInput, check_eligibility
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.mail import notifications
from ztl.models import (
    Application,
    Category,
    Event,
    Permit,
    PermitNumberCounter,
    PermitPlate,
    Resident,
    RevocationListState,
    User,
    Vehicle,
)
from ztl.models.enums import PermitStatus
from ztl.permits.changes import change_plate, revoke_permit, surrender_permit
from ztl.permits.from_applications import approve_application
from ztl.permits.issuance import IssueResult
from ztl.rules.results import Outcome
from ztl.values.fiscal import subject_key

THREADS = 12  # below the engine's pool (5 + 10 overflow), with room for the test's own session
ROME = ZoneInfo("Europe/Rome")
T = TypeVar("T")


@pytest.fixture(autouse=True)
def no_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """The e-mails after a commit are another test's subject (test_notifications)."""
    for name in ("notify_application_submitted", "notify_decision", "notify_permit_issued"):
        monkeypatch.setattr(notifications, name, lambda *_args: None)


def race(app: Flask, calls: Sequence[Callable[[], T]]) -> list[T | Exception]:
    """Run the calls in threads released together; each result, or the exception it raised.

    Each thread has its own app context (so its own scoped session and connection) and removes its
    session at the end, as a request would. The test's own session is committed first, so it holds
    no snapshot or lock while the threads run, and expired so that it reads what they committed.
    """
    db.session.commit()
    barrier = threading.Barrier(len(calls), timeout=60)
    unset = object()
    results: list[Any] = [unset] * len(calls)

    def run(index: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results[index] = calls[index]()
            except Exception as exc:  # kept and judged by the test
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a racing thread hangs (a lock never released?)"
    assert not any(r is unset for r in results)
    db.session.expire_all()
    return results


def split(results: Sequence[T | Exception]) -> tuple[list[T], list[Exception]]:
    done = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    return done, failed


def assert_refusals(failed: Sequence[Exception], codes: set[str]) -> None:
    """Losers get a clear refusal, never a database error (deadlock, unique violation)."""
    for exc in failed:
        assert isinstance(exc, ServiceError), f"{type(exc).__name__}: {exc}"
        assert exc.code in codes, f"{exc.code}: {exc}"


@dataclass(frozen=True)
class Member:
    codice_fiscale: str
    plate: str


def household_with_cars(category: str = "1", at_least: int = 3) -> list[Member]:
    """Members of one demo household, each with a car of their own that passes the category alone."""
    now = dt.datetime.now(dt.UTC)
    rows = db.session.execute(
        select(Resident.household_id, Resident.codice_fiscale, Vehicle.plate)
        .join(Vehicle, Vehicle.owner_id == Resident.person_key)
        .where(Resident.status == "resident", Vehicle.status == "active")
        .order_by(Resident.household_id, Resident.codice_fiscale, Vehicle.plate)
    ).all()
    households: dict[str, list[Member]] = {}
    for household, cf, plate in rows:
        request = EligibilityRequest(category, cf, (PlateInput(plate),), now)
        if check_eligibility(request).verdict.outcome is Outcome.ELIGIBLE:
            households.setdefault(household, []).append(Member(cf, plate))
    for members in households.values():
        if len(members) >= at_least:
            return members
    raise AssertionError(f"the demo city has no household with {at_least} eligible cars")


def daily_plates(count: int) -> list[str]:
    """Registered plates that may buy daily permits in both zones."""
    now = dt.datetime.now(dt.UTC)
    found = []
    for plate in db.session.scalars(
        select(Vehicle.plate).where(Vehicle.status == "active").order_by(Vehicle.plate)
    ):
        if all(
            check_eligibility(
                EligibilityRequest(code, CF_MARIO, (PlateInput(plate),), now)
            ).verdict.outcome
            is Outcome.ELIGIBLE
            for code in ("G/A", "G/B")
        ):
            found.append(plate)
            if len(found) == count:
                return found
    raise AssertionError(f"the demo city has fewer than {count} plates for daily permits")


def active_permits(category: str, holders: set[str] | None = None) -> list[Permit]:
    query = (
        select(Permit)
        .join(Category)
        .where(Category.code == category, Permit.status == PermitStatus.ACTIVE.value)
    )
    if holders is not None:
        query = query.where(Permit.holder_id.in_(holders))
    return list(db.session.scalars(query.order_by(Permit.id)))


def plates_of(permits: Sequence[Permit]) -> list[str]:
    return [p.plate for permit in permits for p in permit.plates]


def events(subject_type: str, subject_id: int, action: str | None = None) -> list[Event]:
    query = select(Event).where(
        Event.subject_type == subject_type, Event.subject_id == str(subject_id)
    )
    if action is not None:
        query = query.where(Event.action == action)
    return list(db.session.scalars(query.order_by(Event.id)))


def counter_issue(category: str, applicant: str, plate: str, **extra: Any) -> Callable[[], Any]:
    request = CounterRequest(category, applicant, (PlateInput(plate),), **extra)
    return lambda: issue_at_counter(request, Actor.cli())


# --- 1. one approval, one permit -------------------------------------------------------------------


def test_one_application_approved_at_once_by_many_gives_one_permit(city: Flask) -> None:
    member = household_with_cars()[0]
    user = make_user("resident", "mario@example.test", codice_fiscale=member.codice_fiscale)
    # Domiciled (15) is decided by a clerk: paid, it waits in the queue.
    app_id = applications.create_draft(
        user, applications.ApplicationInput(category="15", applicant_id="", plates=(member.plate,))
    )
    applications.submit_application(
        app_id, user, review_reason="Il documento lo porto allo sportello."
    )
    applications.pay_own_application(app_id, user)
    assert db.session.get(Application, app_id).status == "under_review"  # type: ignore[union-attr]

    def approve_as(index: int) -> Callable[[], IssueResult]:
        actor = Actor(label=f"clerk-{index}")
        if index % 2:
            return lambda: decisions.approve(app_id, actor, "contratto verificato")
        return lambda: approve_application(app_id, actor, "contratto verificato")

    results = race(city, [approve_as(i) for i in range(THREADS)])

    done, failed = split(results)
    assert_refusals(failed, set())  # a retried approval is not an error: it returns the permit
    assert len(done) == THREADS
    assert len({r.number for r in done}) == 1, "everyone is told the same number"
    assert sum(r.created for r in done) == 1
    permits = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).all()
    assert [p.number for p in permits] == [done[0].number]
    assert len(events("application", app_id, "approved")) == 1
    assert len(events("application", app_id, "issued")) == 1
    assert len(events("permit", permits[0].id, "issued")) == 1
    assert db.session.get(Application, app_id).status == "issued"  # type: ignore[union-attr]


def test_one_payment_confirmed_at_once_by_many_issues_once(city: Flask) -> None:
    """A provider calling back several times, a payer double-clicking: the notice (IUV) is the key."""
    member = household_with_cars(at_least=1)[0]
    user = make_user("resident", "pagante@example.test", codice_fiscale=member.codice_fiscale)
    # Residents (1) are decided automatically: the payment itself issues the permit.
    app_id = applications.create_draft(
        user, applications.ApplicationInput(category="1", applicant_id="", plates=(member.plate,))
    )
    applications.submit_application(app_id, user)
    iuv = db.session.get(Application, app_id).payment_reference  # type: ignore[union-attr]
    assert iuv

    def confirm(index: int) -> Callable[[], applications.SubmitOutcome]:
        return lambda: applications.confirm_payment(app_id, iuv, Actor(label=f"provider-{index}"))

    results = race(city, [confirm(i) for i in range(THREADS)])

    done, failed = split(results)
    assert_refusals(failed, set())
    assert len(done) == THREADS
    assert {r.status for r in done} == {"issued"}
    assert len({r.permit_number for r in done}) == 1, "every caller is told the same permit"
    permits = db.session.scalars(select(Permit).where(Permit.application_id == app_id)).all()
    assert len(permits) == 1
    assert len(events("application", app_id, "paid")) == 1
    assert len(events("application", app_id, "issued")) == 1


# --- 2. the household limit ----------------------------------------------------------------------


def _household_keys(members: Sequence[Member]) -> set[str]:
    resident = db.session.scalars(
        select(Resident).where(Resident.codice_fiscale == members[0].codice_fiscale)
    ).one()
    return set(
        db.session.scalars(
            select(Resident.person_key).where(Resident.household_id == resident.household_id)
        )
    )


def test_household_limit_holds_when_many_are_issued_at_the_counter_at_once(
    city: Flask,
) -> None:
    members = household_with_cars()
    calls = [
        counter_issue(
            "1", members[i % len(members)].codice_fiscale, members[i % len(members)].plate
        )
        for i in range(THREADS)
    ]

    results = race(city, calls)

    done, failed = split(results)
    assert_refusals(failed, {"not_eligible"})
    household = active_permits("1", _household_keys(members))
    assert len(household) == 2, [p.number for p in household]  # the limit, and reached
    assert len(done) == 2
    assert len(set(plates_of(household))) == 2  # never one plate twice
    # A loser asking for a plate that got its permit is refused for that plate (and maybe also
    # for the full household, depending on when it ran); one asking for another plate only
    # because the household is full.
    issued = set(plates_of(household))
    for index, outcome in enumerate(results):
        if not isinstance(outcome, Exception):
            continue
        assert isinstance(outcome, RefusedAtCounter)
        failing = {r.check_id for r in outcome.result.verdict.results if r.status.value != "pass"}
        if members[index % len(members)].plate in issued:
            assert "one_permit_per_plate" in failing, failing
        else:
            assert failing == {"household_limit"}, failing


def test_household_limit_holds_when_many_applications_are_paid_at_once(city: Flask) -> None:
    members = household_with_cars()
    users = [
        make_user("resident", f"member{i}@example.test", codice_fiscale=m.codice_fiscale)
        for i, m in enumerate(members)
    ]
    # Each member applies for every car of the household (tied to the household: allowed), so
    # more applications than cars, and each car asked for several times.
    pending: list[tuple[int, int]] = []  # (application, user)
    for i in range(THREADS):
        user = users[i % len(users)]
        plate = members[(i // len(users)) % len(members)].plate
        app_id = applications.create_draft(
            user, applications.ApplicationInput(category="1", applicant_id="", plates=(plate,))
        )
        applications.submit_application(app_id, user)
        pending.append((app_id, user.id))

    def pay(app_id: int, user_id: int) -> Callable[[], applications.SubmitOutcome]:
        def call() -> applications.SubmitOutcome:
            user = db.session.get(User, user_id)
            assert user is not None
            return applications.pay_own_application(app_id, user)

        return call

    results = race(city, [pay(a, u) for a, u in pending])

    done, failed = split(results)
    assert_refusals(failed, set())
    assert Counter(r.status for r in done) == {"issued": 2, "under_review": THREADS - 2}
    household = active_permits("1", _household_keys(members))
    assert len(household) == 2
    assert len(set(plates_of(household))) == 2
    statuses = db.session.scalars(
        select(Application.status).where(Application.id.in_([a for a, _ in pending]))
    ).all()
    assert Counter(statuses) == {"issued": 2, "under_review": THREADS - 2}


# --- 3. numbers ------------------------------------------------------------------------------------


def test_numbers_are_one_to_n_without_gaps_under_parallel_issuance(city: Flask) -> None:
    plates = daily_plates(THREADS)
    day = dt.datetime.now(ROME).date() + dt.timedelta(days=1)
    calls = [counter_issue("G/A", CF_MARIO, plate, valid_from=day) for plate in plates]

    results = race(city, calls)

    done, failed = split(results)
    assert not failed, failed
    year = dt.datetime.now(ROME).year  # the year of issue (not of validity) numbers the permit
    serials = sorted(int(r.number.rsplit("-", 1)[1]) for r in done)
    assert serials == list(range(1, THREADS + 1))
    assert all(r.number.startswith(f"PO-{year}-") for r in done)
    stored = db.session.scalars(select(Permit.serial).where(Permit.year == year)).all()
    assert sorted(stored) == serials
    counter = db.session.get(PermitNumberCounter, year)
    assert counter is not None and counter.last_serial == THREADS


# --- 4. the monthly limit of daily permits ---------------------------------------------------------


def test_monthly_limit_of_daily_permits_holds_under_parallel_purchases(city: Flask) -> None:
    plate = daily_plates(1)[0]
    today = dt.datetime.now(ROME).date()
    month = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)  # next month: all free
    # Two daily permits already this month, given up by the holder: they still count (only a
    # revocation gives a day back) but no longer block a new permit of the same category.
    for code, day in (("G/A", 1), ("G/B", 2)):
        result = counter_issue(code, CF_MARIO, plate, valid_from=month.replace(day=day))()
        surrender_permit(result.number, Actor.cli())
    calls = [
        counter_issue(("G/A", "G/B")[i % 2], CF_MARIO, plate, valid_from=month.replace(day=3 + i))
        for i in range(THREADS)
    ]

    results = race(city, calls)

    done, failed = split(results)
    assert_refusals(failed, {"not_eligible"})
    in_month = db.session.scalar(
        select(func.count())
        .select_from(Permit)
        .join(PermitPlate)
        .join(Category)
        .where(
            PermitPlate.plate == plate,
            Category.code.in_(("G/A", "G/B")),
            Permit.status != PermitStatus.REVOKED.value,
        )
    )
    assert in_month == 3
    assert len(done) == 1
    for exc in failed:
        assert isinstance(exc, RefusedAtCounter) and "daily_monthly_limit" in str(exc)


# --- 5. plate change against revocation ------------------------------------------------------------


def _end_events(permit_id: int) -> list[Event]:
    return [e for e in events("permit", permit_id) if e.action != "issued"]


def test_plate_change_racing_revocation_ends_the_permit_once(city: Flask) -> None:
    members = household_with_cars()
    first = counter_issue("1", members[0].codice_fiscale, members[0].plate)()
    sequence_before = db.session.scalar(select(RevocationListState.sequence)) or 0

    def change() -> IssueResult:
        return change_plate(first.number, members[0].plate, members[1].plate, Actor.cli())

    def revoke() -> None:
        revoke_permit(first.number, Actor(label="clerk"), "veicolo venduto")

    results = race(city, [change if i % 2 else revoke for i in range(THREADS)])

    done, failed = split(results)
    assert_refusals(failed, {"not_active"})
    assert len(done) == 1, "exactly one of the changes and revocations ends the permit"
    old = db.session.scalars(select(Permit).where(Permit.number == first.number)).one()
    # The winner says which end: a plate change returns the new permit, a revocation nothing.
    ended_by_change = isinstance(done[0], IssueResult)
    assert old.status == (PermitStatus.REPLACED if ended_by_change else PermitStatus.REVOKED).value
    # One end, one event, one step of the revocation list, and they agree.
    ended = _end_events(old.id)
    assert [e.action for e in ended] == [old.status]
    sequence = db.session.scalar(select(RevocationListState.sequence))
    assert sequence == sequence_before + 1
    assert ended[0].data["revocation_list"] == sequence
    successors = db.session.scalars(select(Permit).where(Permit.id != old.id)).all()
    if old.status == PermitStatus.REPLACED.value:
        assert isinstance(done[0], IssueResult)
        assert [p.number for p in successors] == [done[0].number]
        assert successors[0].status == PermitStatus.ACTIVE.value
        assert plates_of(successors) == [members[1].plate]
        assert old.replaced_by_id == successors[0].id
        assert ended[0].data["replaced_by"] == done[0].number
    else:
        assert done == [None] and successors == [] and old.replaced_by_id is None
    # Never two active permits coming from the same original.
    holders = {subject_key(members[0].codice_fiscale)}
    assert len(active_permits("1", holders)) == (1 if old.status == "replaced" else 0)


def test_two_permits_changed_to_the_same_plate_at_once_give_it_one_permit(
    city: Flask,
) -> None:
    members = household_with_cars()
    ours = [counter_issue("1", m.codice_fiscale, m.plate)() for m in members[:2]]
    target = members[2].plate  # a third car of the household, free

    def change(index: int) -> Callable[[], IssueResult]:
        number, plate = ours[index % 2].number, members[index % 2].plate
        return lambda: change_plate(number, plate, target, Actor.cli())

    results = race(city, [change(i) for i in range(THREADS)])

    done, failed = split(results)
    assert_refusals(failed, {"not_active", "not_eligible"})
    assert len(done) == 1
    on_target = [p for p in active_permits("1") if target in plates_of([p])]
    assert [p.number for p in on_target] == [done[0].number]
    assert len(active_permits("1", _household_keys(members))) == 2


# --- 7. a hotel's booklet ------------------------------------------------------------------------


def test_a_booklet_is_never_used_past_its_size_under_parallel_registrations(
    city: Flask,
) -> None:
    """Guests registered at once by several desks of one hotel: 40 registrations, not one more."""
    from tests.factories import hotel_in_zone_a
    from ztl.applications import hotel_guests
    from ztl.models import HotelBooklet

    user = make_user("resident", "albergo@example.test", codice_fiscale=CF_MARIO)
    hotel = hotel_in_zone_a()
    make_representative(hotel, user)
    booklet = hotel_guests.buy_booklet(user, hotel)
    hotel_guests.pay_booklet(booklet.id, user)
    left = 5
    db.session.get(HotelBooklet, booklet.id).used = booklet.size - left  # type: ignore[union-attr]
    db.session.commit()
    arrival = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    user_id, booklet_id = user.id, booklet.id  # read here: the threads must not touch this session
    plates = list(
        db.session.scalars(
            select(Vehicle.plate).where(Vehicle.status == "active").order_by(Vehicle.plate)
        )
    )[:THREADS]  # guests' cars are in the vehicle register

    def register(index: int) -> Callable[[], str]:
        def call() -> str:
            desk = db.session.get(User, user_id)
            assert desk is not None
            guest = hotel_guests.GuestRegistration(plates[index], arrival, 1)
            number = hotel_guests.register_guest(desk, hotel, guest)
            assert number is not None  # registered cars: issued at once, never queued
            return number

        return call

    results = race(city, [register(i) for i in range(THREADS)])

    done, failed = split(results)
    assert_refusals(failed, {"no_booklet"})
    assert len(done) == left and len(set(done)) == left
    stored = db.session.get(HotelBooklet, booklet_id)
    assert stored is not None and stored.used == stored.size
    guests = active_permits(hotel_guests.GUEST_CATEGORY)
    assert sorted(p.number for p in guests) == sorted(done)
