"""Issuing permits: number, validity, seal, PDF and signature in one transaction, retry-safe.

Every path that creates a permit comes through here: the clerk's approval, automatic approval, the
counter (`ztl permits issue`), plate changes and renewals. Nothing is half-issued: the number
counter, the permit with its plates, zones and windows, the seal, the signed PDF, the application's
new status and the events commit together or not at all (a signing failure also gives the number
back, so numbers stay without gaps). Retrying an issuance that already committed returns the
permit that exists instead of issuing a second one.

Limits that count what was already issued (household limit, one permit per plate and category, the
monthly limit of daily permits) are re-checked under a lock on what they count (see
`checked_under_limit_locks`): otherwise two transactions could both count before either commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ztl.city.rules_config import current_rules
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError
from ztl.models import (
    Application,
    Category,
    Permit,
    PermitNumberCounter,
    PermitPlate,
    PermitWindow,
    Zone,
)
from ztl.models.enums import PermitStatus
from ztl.pdf.pool import SigningPool
from ztl.permits.documents import (
    IssuanceError,
    holder_of,
    render_and_sign_all,
    seal_document,
    signing_keys,
)
from ztl.registries.sql import SqlRegistryAdapter
from ztl.rules.checks import CHECKS
from ztl.rules.registry import Lock
from ztl.rules.validity import Period
from ztl.seals.keys import key_store

if TYPE_CHECKING:
    from ztl.eligibility.service import EligibilityResult
    from ztl.rules.facts import ApplicationFacts


@dataclass(frozen=True)
class IssueResult:
    permit_id: int
    number: str
    seal: str
    pdf: bytes
    valid_from: dt.datetime
    valid_to: dt.datetime
    created: bool  # False when the permit already existed: a retried request


@dataclass(frozen=True)
class PermitSpec:
    """What a new permit is: who, which category, which plates and zones, for when, paid how much."""

    category: Category
    holder_id: str
    plates: tuple[tuple[str, str], ...]  # (plate, country)
    zone_codes: tuple[str, ...]
    period: Period
    fee_cents: int
    stamp_duty_cents: int
    holder_user_id: int | None = None
    application_id: int | None = None
    holder_name: str = ""
    replaces_id: int | None = None  # the permit this one replaces (plate change, renewal)


def issue_result(permit: Permit, created: bool) -> IssueResult:
    return IssueResult(
        permit.id,
        permit.number,
        permit.seal_text or "",
        permit.pdf or b"",
        permit.valid_from,
        permit.valid_to,
        created,
    )


def number_prefix(municipality_code: str) -> str:
    """IT-PO -> PO: the province-style prefix of permit numbers."""
    return municipality_code.split("-")[-1]


def next_serial(session: AnySession, year: int, count: int = 1) -> int:
    """The first of `count` next numbers of the year, under a row lock held until commit:
    concurrent issuances queue, none repeats, and a rollback gives the numbers back."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(PermitNumberCounter)
        .values(year=year, last_serial=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    counter = session.execute(
        select(PermitNumberCounter).where(PermitNumberCounter.year == year).with_for_update()
    ).scalar_one()
    first = counter.last_serial + 1
    counter.last_serial += count
    return first


# --- limits that count issued permits, under concurrency -------------------------------------------


def plate_lock_key(plate: str) -> str:
    return f"plate:{plate}"


def limit_lock_keys(facts: ApplicationFacts) -> set[str]:
    """What a new permit on these facts is counted against, as lock names, from the locks its
    category's checks declare: every member of the household (`Lock.HOUSEHOLD`: the household
    limit) and every plate (`Lock.PLATE`: one permit per plate and category; the monthly limit of
    daily permits, which counts both daily categories, hence the plate alone)."""
    category = current_rules().category(facts.category)
    locks = CHECKS.locks(category.checks)  # the locks each check declares
    keys: set[str] = set()
    if Lock.HOUSEHOLD in locks:
        holders = set(facts.residence.household_keys) if facts.residence else set()
        keys |= {f"holder:{key}" for key in holders | {facts.applicant.subject_key}}
    if Lock.PLATE in locks:
        keys |= {plate_lock_key(vehicle.plate) for vehicle in facts.vehicles}
    return keys


def _advisory_id(key: str) -> int:
    digest = hashlib.blake2b(f"ztl-limit:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_limit_keys(session: AnySession, keys: Iterable[str]) -> None:
    """Transaction-scoped PostgreSQL advisory locks on the keys, taken in one global order (no
    deadlock between two takers) and held until commit or rollback. They need no table: a household
    or a plate that has no permit yet has no row to lock. PostgreSQL only: SQLite has no such locks
    (nor row locks: it ignores FOR UPDATE), so nothing is taken there."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for advisory_id in sorted({_advisory_id(key) for key in keys}):
        session.execute(select(func.pg_advisory_xact_lock(advisory_id)))


def checked_under_limit_locks(
    session: AnySession, result: EligibilityResult, check: Callable[[], EligibilityResult]
) -> EligibilityResult:
    """The verdict again, taken while holding the locks of what its limits count.

    Why: the checks count active permits with plain reads; two transactions issuing for the same
    household or plate (three family members paying at once, two counters) both counted before
    either committed, and both issued past the limit. With the locks held until commit, the second
    waits for the first, and its re-check (a new statement, so a new snapshot under READ COMMITTED)
    sees the permit the first issued. `result` (a check already made in this transaction) names
    the keys; if the re-check finds other ones (a register changed meanwhile), they are locked and
    the check runs again. The locks are taken before the number counter's row lock, always.
    """
    held: set[str] = set()
    while True:
        wanted = limit_lock_keys(result.facts)
        if wanted <= held:
            return result
        lock_limit_keys(session, wanted - held)
        held |= wanted
        result = check()


def create_permit(session: AnySession, spec: PermitSpec, actor: Actor, now: dt.datetime) -> Permit:
    """The permit row with its snapshot, sealed and signed; the caller's transaction commits it."""
    return create_permits(session, [spec], actor, now)[0]


def create_permits(
    session: AnySession,
    specs: Sequence[PermitSpec],
    actor: Actor,
    now: dt.datetime,
    pool: SigningPool | None = None,
) -> list[Permit]:
    """Several permits in the caller's transaction, numbered in one block; with a pool the PDFs
    are rendered and signed on every core. Any failure raises and the caller rolls back all."""
    rules = current_rules()
    keys = signing_keys(key_store(), now)  # before anything is written: a clear error, no number
    zone_rows = {z.code: z for z in session.scalars(select(Zone))}
    # Everything that needs no number is done before the counter's row lock is taken: concurrent
    # issuances wait on each other only for the numbered part (PDF, signature, commit).
    registers = SqlRegistryAdapter()
    holders = [holder_of(spec.holder_id, registers, spec.holder_name) for spec in specs]
    for spec in specs:
        if not spec.zone_codes or any(code not in zone_rows for code in spec.zone_codes):
            raise IssuanceError(f"unknown zones in {spec.zone_codes}", code="zone_unknown")
    year = now.astimezone(ZoneInfo(rules.timezone)).year
    first = next_serial(session, year, len(specs))
    permits = [
        _permit_row(
            spec,
            [zone_rows[c] for c in sorted(set(spec.zone_codes))],
            rules.code,
            year,
            first + i,
            actor,
            now,
        )
        for i, spec in enumerate(specs)
    ]
    session.add_all(permits)
    session.flush()
    documents = [
        seal_document(permit, rules, keys, secrets.token_bytes(8), holder, spec.stamp_duty_cents)
        for permit, holder, spec in zip(permits, holders, specs, strict=True)
    ]
    pdfs = render_and_sign_all(documents, keys, pool)
    for permit, pdf, spec in zip(permits, pdfs, specs, strict=True):
        permit.pdf = pdf
        record_event(
            session,
            actor,
            "permit",
            permit.id,
            "issued",
            data={
                "number": permit.number,
                "application": spec.application_id,
                "seal_kid": permit.seal_kid,
                "valid_from": permit.valid_from.isoformat(),
                "valid_to": permit.valid_to.isoformat(),
            },
        )
    session.flush()
    return permits


def _permit_row(
    spec: PermitSpec,
    zones: list[Zone],
    municipality_code: str,
    year: int,
    serial: int,
    actor: Actor,
    now: dt.datetime,
) -> Permit:
    return Permit(
        number=f"{number_prefix(municipality_code)}-{year}-{serial:06d}",
        year=year,
        serial=serial,
        application_id=spec.application_id,
        replaces_id=spec.replaces_id,
        holder_id=spec.holder_id,
        holder_user_id=spec.holder_user_id,
        category=spec.category,
        status=PermitStatus.ACTIVE.value,
        valid_from=spec.period.valid_from,
        valid_to=spec.period.valid_to,
        issued_at=now,
        issued_by_id=actor.user_id,
        fee_cents=spec.fee_cents,
        plates=[
            PermitPlate(plate=plate, country=country, position=i)
            for i, (plate, country) in enumerate(spec.plates)
        ],
        zones=zones,
        windows=[
            PermitWindow(start_minute=w.start_minute, end_minute=w.end_minute, weekdays=w.weekdays)
            for w in spec.category.windows
        ],
    )


# --- from an application -------------------------------------------------------------------------


def locked_application(session: AnySession, application_id: int) -> Application:
    application = session.execute(
        select(Application).where(Application.id == application_id).with_for_update()
    ).scalar_one_or_none()
    if application is None:
        raise ServiceError(f"no application {application_id}", code="not_found")
    return application
