"""Hotels in ZTL A register their guests' plates (category 8A), counted against a booklet.

The catalogue (Prato's rules file): a booklet of 40 registrations for EUR 45, both from the category's
`booklet` in the rules file and priced by ztl.rules.fees; each registration covers up to 7 days and
may be made up to 48 hours after the guest's first transit (the gate photographed the car on the way
to the hotel; the registration, made at check-in or the next morning, turns that transit into an
authorized one).

Each guest is one transaction: the booklet row is locked, the registration checked (the hotel's seat
in the zone, the plate, the retroactive window), the permit issued and the booklet's count raised
together, so two receptionists registering at once can never use the 41st registration. A batch is
many such transactions: a bad row is reported and does not stop the others.

Which plates: any the rules of the category admit. Prato's 8A asks the vehicle register
(`vehicle_found`), so an Italian plate must be in it; a foreign plate ("DE:B MW 1234", as every
form of the site takes it) cannot be, and the check sends it to the office as it does a daily
permit's: the registration is accepted, uses its place in the booklet, and waits for a clerk.
The guest file is read as a receptionist's spreadsheet saves it (parse_guest_csv, parse_arrival).

Who: a booklet belongs to the hotel (the firm), not to the person who bought it. Buying one, paying
it and registering guests against the hotel's booklets are open to the hotel's legal
representatives and approved delegates only (ztl.accounts.representation), checked in each
transaction; each event records for which firm and in which capacity the person acted. A
receptionist sees and uses the booklets of every hotel they may act for, whoever bought them, and
sees its guests' permits, whoever registered them (ztl.permissions: a firm's permits are the firm's).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ztl.accounts.representation import (
    NOT_AUTHORISED,
    FirmRole,
    NotAuthorised,
    firms_of,
    require_authority,
)
from ztl.applications.applicant import assess
from ztl.applications.clerk_queue import applicant_names
from ztl.city.rules_config import current_rules
from ztl.eligibility.refusals import ChecksRefused
from ztl.eligibility.service import DECLARED_KEY, DeclaredVehicle, outside_register
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.models import (
    Application,
    ApplicationPlate,
    Category,
    GuestNight,
    HotelBooklet,
    Permit,
    User,
)
from ztl.models.enums import ApplicationStatus, BusinessStatus
from ztl.payments.active import payer_word_confirms
from ztl.payments.positions import (
    Debt,
    create_position,
    mark_paid_on_payer_word,
    open_position,
)
from ztl.permissions import authority_for, firm_ids_of, owned_permits
from ztl.permits.from_applications import approve_locked_application
from ztl.registries.sql import SqlRegistryAdapter
from ztl.rules.fees import Fee, Purpose, fee_for
from ztl.rules.municipality import Booklet
from ztl.rules.results import CheckResult, Outcome
from ztl.values import InvalidValue
from ztl.values.fiscal import parse_partita_iva
from ztl.values.plates import PlateProblem, plate_and_country
from ztl.values.times import MAX_YEAR, MIN_YEAR, from_local, parse_instant

GUEST_CATEGORY = "8A"
MAX_NIGHTS = 7
MAX_BATCH_ROWS = 500


class GuestRefused(ChecksRefused):
    """The checks refused a registration; nothing was stored and the booklet is unchanged.
    `reasons`: the sentences of the checks that did not pass, in both languages, for the person."""

    def __init__(self, results: Iterable[CheckResult]) -> None:
        super().__init__(results, code="guest_not_eligible")


@dataclass(frozen=True)
class GuestRegistration:
    """`plate` as the rest of the site takes it: "AB123CD", or "DE:MAB1234" for a foreign plate
    (the country's two letters, a colon, the plate)."""

    plate: str
    arrival: dt.datetime  # the first transit, or the expected arrival
    nights: int = 1


@dataclass(frozen=True)
class BatchLine:
    """One line of a guest file's report. A refused line keeps the refusal's code and the checks'
    sentences in both languages (never English service text), so the page can say it in the
    reader's language from the error catalogue, as a single registration's refusal is said."""

    line: int
    plate: str
    permit_number: str | None
    problem_code: str | None = None
    reasons_it: str = ""
    reasons_en: str = ""


def _hotel_id(raw: str) -> str:
    try:
        return parse_partita_iva(raw)
    except InvalidValue as exc:
        raise ServiceError(str(exc), code="hotel_invalid") from exc


def booklet_offer() -> tuple[Booklet, Fee]:
    """What a booklet holds and costs under the rules in force (ServiceError when none is sold)."""
    rules = current_rules()
    try:
        category = rules.category(GUEST_CATEGORY)
        fee = fee_for(rules, category, None, (), Purpose.BOOKLET)
    except KeyError as exc:
        raise ServiceError("this municipality sells no hotel booklets", code="no_booklets") from exc
    assert category.booklet is not None  # fee_for refused a category without one
    return category.booklet, fee


def _check_accommodation(holder: str, offer: Booklet) -> None:
    """Booklets go to accommodation firms with a seat in a zone the guests' permits open.

    Why: a booklet is forty seven-day permits for any plate. Sold to any partita IVA with a seat
    in the zone, it let a shop (or anyone who typed a shop's number) hand out permits. The
    business register says what the firm does (ATECO) and where its seat is.
    """
    registers = SqlRegistryAdapter()
    firm = registers.business(holder)
    if firm is None or firm.status is not BusinessStatus.ACTIVE:
        raise ServiceError(
            f"{holder} is not an active firm of the business register", code="hotel_unknown"
        )
    if not offer.sold_to(firm.ateco):
        raise ServiceError(
            f"{firm.name} is not an accommodation business (ATECO {firm.ateco or 'unknown'})",
            code="hotel_not_accommodation",
        )
    zones = current_rules().category(GUEST_CATEGORY).zones
    seat = registers.zone_of_address(firm.street, firm.house_number)
    if not set(seat.zone_codes) & set(zones):
        raise ServiceError(
            f"the seat of {firm.name} is not in zone {', '.join(zones)}",
            code="hotel_outside_zone",
        )


def buy_booklet(user: User, hotel: str) -> HotelBooklet:
    """A booklet with its payment notice, for an accommodation firm in the zone; usable once paid."""
    holder = _hotel_id(hotel)
    offer, fee = booklet_offer()
    if authority_for(user, holder) is None:  # before anything about the firm is said
        raise NotAuthorised(NOT_AUTHORISED)
    _check_accommodation(holder, offer)
    now = dt.datetime.now(dt.UTC)
    with unit_of_work() as session:
        authority = require_authority(session, user, holder)
        booklet = HotelBooklet(
            holder_id=holder,
            user_id=user.id,
            size=offer.registrations,
            price_cents=fee.total_cents,
        )
        session.add(booklet)
        session.flush()
        position = create_position(
            session,
            Debt(
                purpose="booklet",
                category_code=GUEST_CATEGORY,
                fee_cents=fee.fee_cents,
                stamp_duty_cents=fee.stamp_duty_cents,
                payer_tax_code=holder,
                payer_name=applicant_names({holder}).get(holder, holder),
                reason=f"Permessi ZTL {GUEST_CATEGORY}: carnet di {offer.registrations} "
                "registrazioni ospiti",
                booklet_id=booklet.id,
            ),
            now,
        )
        booklet.payment_reference = position.iuv
        position_id = position.id
        record_event(
            session,
            Actor.of_user(user),
            "booklet",
            booklet.id,
            "requested",
            data=authority.event_data(),
        )
    open_position(position_id)
    return booklet


def pay_booklet(booklet_id: int, user: User, at: dt.datetime | None = None) -> None:
    """The payer's confirmation, taken only by the development stand-in provider; repeating it
    changes nothing. With a real provider the payment system's notification pays the booklet."""
    with unit_of_work() as session:
        booklet = session.execute(
            select(HotelBooklet).where(HotelBooklet.id == booklet_id).with_for_update()
        ).scalar_one_or_none()
        # The hotel's booklet: whoever may act for the hotel may pay it; for anyone else it does
        # not exist.
        authority = authority_for(user, booklet.holder_id, session) if booklet else None
        if booklet is None or authority is None:
            raise ServiceError(f"no booklet {booklet_id}", code="not_found")
        if booklet.paid_at is not None:
            return
        if not payer_word_confirms():
            raise ServiceError(
                "the payment is confirmed by the payment system's receipt", code="awaiting_receipt"
            )
        now = at or dt.datetime.now(dt.UTC)
        mark_paid_on_payer_word(session, booklet.payment_reference, now)
        record_booklet_payment(session, booklet, Actor.of_user(user), now, authority.event_data())


def record_booklet_payment(
    session: AnySession,
    booklet: HotelBooklet,
    actor: Actor,
    now: dt.datetime,
    data: dict[str, object] | None = None,
) -> None:
    """In the caller's transaction, with the booklet locked: the one place a booklet gets paid."""
    booklet.paid_at = now
    record_event(session, actor, "booklet", booklet.id, "paid", data=data)


def hotels_of(user: User) -> list[FirmRole]:
    """The active firms the person may act for that may buy guests' booklets (accommodation)."""
    try:
        offer, _fee = booklet_offer()
    except ServiceError:
        return []
    return [f for f in firms_of(user) if f.active and offer.sold_to(f.ateco)]


def booklets_of(user: User) -> list[HotelBooklet]:
    """The booklets of every hotel the person may act for, whoever bought them, newest first."""
    with unit_of_work() as session:
        hotels = firm_ids_of(user, session)
        if not hotels:
            return []
        rows = session.scalars(
            select(HotelBooklet)
            .where(HotelBooklet.holder_id.in_(hotels))
            .order_by(HotelBooklet.id.desc())
        ).all()
    return list(rows)


def guest_permits(user: User, limit: int = 100) -> list[Permit]:
    """The guests' permits of every hotel the person may act for, whoever registered them, newest
    first: the permits the person owns (ztl.permissions), of the guests' category."""
    with unit_of_work() as session:
        category = select(Category.id).where(Category.code == GUEST_CATEGORY).scalar_subquery()
        rows = session.scalars(
            select(Permit)
            .where(owned_permits(user, session), Permit.category_id == category)
            .order_by(Permit.id.desc())
            .limit(limit)
        ).all()
    return list(rows)


def guest_plate(raw: str) -> tuple[str, str]:
    """A guest's plate and its country, as the rest of the site takes them: "AB 123 CD" (an
    Italian plate, which must have an Italian format), or "DE:B MW 1234" (a foreign one: the
    country's two letters and a colon; its format is the issuing country's business)."""
    try:
        return plate_and_country(raw)
    except PlateProblem as exc:
        raise ServiceError(str(exc), code=exc.code) from exc


def _plate_declaration(plate: str, country: str) -> dict[str, object]:
    """The accommodation's declaration of a guest's plate outside the register, for the
    application's details, where the category takes declarations; nothing otherwise."""
    policy = current_rules().category(GUEST_CATEGORY).unregistered_vehicles
    if policy is None or not policy.on_declaration or not outside_register([(plate, country)]):
        return {}
    return {DECLARED_KEY: DeclaredVehicle().stored(plate)}


def register_guest(
    user: User, hotel: str, guest: GuestRegistration, at: dt.datetime | None = None
) -> str:
    """Register a guest against a paid booklet with registrations left, which it uses; the
    permit's number.

    The rules of the category decide: where every check passes the permit is issued at once;
    where a check fails nothing is stored (GuestRefused). A guest's car outside the register (a
    foreign plate, or an Italian one the city's register does not hold) is taken on the
    accommodation's declaration of the plate where the category's `unregistered_vehicles` says
    "declaration" (Prato's does: the receptionist has the plate the guest gave, and the category
    checks no vehicle data). Where a check still asks the office (a city whose rules do not take
    declarations) nothing is stored either, and the refusal says so ("guest_needs_office"): a guest
    registration is only worth anything at once, and the office's review of one (nights kept, a
    refused one giving its place back to the booklet, the late-registration window measured at
    registration) is not built.
    """
    now = at or dt.datetime.now(dt.UTC)
    holder = _hotel_id(hotel)
    plate, country = guest_plate(guest.plate)
    declaration = _plate_declaration(plate, country)
    if not 1 <= guest.nights <= MAX_NIGHTS:
        raise ServiceError(f"from 1 to {MAX_NIGHTS} days", code="nights")
    if guest.arrival.tzinfo is None:
        raise ServiceError("the arrival needs a time zone", code="time_without_offset")
    actor = Actor.of_user(user)
    with unit_of_work() as session:
        authority = require_authority(session, user, holder)
        booklet = session.execute(
            select(HotelBooklet)
            .where(
                HotelBooklet.holder_id == holder,
                HotelBooklet.paid_at.is_not(None),
                HotelBooklet.used < HotelBooklet.size,
            )
            .order_by(HotelBooklet.id)
            .limit(1)
            .with_for_update()
        ).scalar_one_or_none()
        if booklet is None:
            raise ServiceError("no paid booklet with registrations left", code="no_booklet")
        category = session.scalars(select(Category).where(Category.code == GUEST_CATEGORY)).one()
        application = Application(
            user_id=user.id,
            applicant_id=holder,
            category=category,
            status=ApplicationStatus.SUBMITTED.value,
            submitted_at=now,
            paid_at=booklet.paid_at,
            zones=list(category.zones),
            details={
                "validity": f"P{MAX_NIGHTS}D",
                "days": str(guest.nights),
                "transit_at": guest.arrival.astimezone(dt.UTC).isoformat(),
                "booklet": booklet.id,
                **declaration,
            },
            plates=[ApplicationPlate(plate=plate, country=country, position=0)],
        )
        session.add(application)
        session.flush()
        result = assess(application, now)
        if result.verdict.outcome is Outcome.NEEDS_REVIEW:
            raise ServiceError(
                f"{country}:{plate} needs the permits office's check", code="guest_needs_office"
            )
        if result.verdict.outcome is not Outcome.ELIGIBLE:
            raise GuestRefused(result.verdict.results)
        record_event(
            session, actor, "application", application.id, "submitted", data=authority.event_data()
        )
        permit, _ = approve_locked_application(session, application, actor, now, None)
        _refuse_overlapping_stay(session, permit, plate)  # raising rolls the permit back too
        booklet.used += 1
        record_event(
            session,
            actor,
            "booklet",
            booklet.id,
            "used",
            data={"permit": permit.number, "used": booklet.used, **authority.event_data()},
        )
        number = permit.number
    return number


def _refuse_overlapping_stay(session: AnySession, permit: Permit, plate: str) -> None:
    """One registration per plate and night: the same hotel registering a plate again for nights
    it already covers (a reloaded upload, a second receptionist) would spend a registration on
    nothing, or stretch one stay into two.

    The nights are rows (GuestNight) whose primary key is (hotel, plate, night): the query below
    names the registration in the way; the key refuses what a simultaneous twin slipped past it.
    """
    timezone = ZoneInfo(current_rules().timezone)
    nights = stay_nights(permit.valid_from, permit.valid_to, timezone)
    taken = session.execute(
        select(Permit.number, func.min(GuestNight.night), func.max(GuestNight.night))
        .join(GuestNight, GuestNight.permit_id == Permit.id)
        .where(
            GuestNight.holder_id == permit.holder_id,
            GuestNight.plate == plate,
            GuestNight.night.in_(nights),
        )
        .group_by(Permit.number)
        .limit(1)
    ).first()
    if taken is not None:
        number, first, last = taken
        raise ServiceError(
            f"{plate} is already registered by this hotel for the nights from "
            f"{first:%d/%m/%Y} to {last:%d/%m/%Y} (permit {number})",
            code="guest_already_registered",
        )
    session.add_all(
        GuestNight(holder_id=permit.holder_id, plate=plate, night=night, permit_id=permit.id)
        for night in nights
    )
    session.flush()


def stay_nights(
    valid_from: dt.datetime, valid_to: dt.datetime, timezone: ZoneInfo
) -> list[dt.date]:
    """The local days a guest's permit covers (whole days, midnight to midnight)."""
    first = valid_from.astimezone(timezone).date()
    last = (valid_to - dt.timedelta(microseconds=1)).astimezone(timezone).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


# A header's first cell, in the languages a receptionist's spreadsheet may be in.
_HEADER_FIRST = frozenset({"plate", "targa", "targhe"})


def _delimiter(text: str) -> str:
    """Comma or semicolon, whichever the file's first non-empty line uses (a spreadsheet in an
    Italian locale saves semicolons, since the comma is its decimal separator)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def parse_guest_csv(text: str) -> list[tuple[int, str, str, str]]:
    """Rows "plate,arrival,nights": (line, plate, arrival, nights), each with its line in the file.

    The file as a receptionist's spreadsheet saves it: cells separated by commas or semicolons
    (one of the two for the whole file, read from its first line), a byte order mark tolerated,
    an optional header whose first cell is "targa" or "plate" ("targa;arrivo;notti",
    "targa,arrivo,giorni", "plate,arrival,nights"). Files come from any system: CR, LF and CRLF
    line ends are all read (newline="" hands them to the csv module); what the csv module still
    cannot read (a stray CR inside an unquoted cell) is refused as a whole with a message, never
    a 500.
    """
    text = text.removeprefix("\ufeff")
    rows: list[tuple[int, str, str, str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header_possible = True
    try:
        for row in reader:
            line_no = reader.line_num
            if not row or not "".join(row).strip():
                continue
            first = row[0].strip().lower()
            if header_possible and first in _HEADER_FIRST:
                header_possible = False
                continue
            header_possible = False
            cells = [*row, "", "", ""][:3]
            rows.append((line_no, cells[0].strip(), cells[1].strip(), cells[2].strip() or "1"))
            if len(rows) > MAX_BATCH_ROWS:
                raise ServiceError(f"at most {MAX_BATCH_ROWS} rows a file", code="too_many_rows")
    except csv.Error as exc:
        raise ServiceError(
            f"line {reader.line_num}: not a CSV file ({exc})", code="unreadable_file"
        ) from exc
    return rows


def register_guest_batch(
    user: User, hotel: str, text: str, at: dt.datetime | None = None
) -> list[BatchLine]:
    """Every row registered on its own; the report says, per line, the permit or the problem.
    A person who may not act for the hotel is refused once, for the whole file."""
    if authority_for(user, _hotel_id(hotel)) is None:
        raise NotAuthorised(NOT_AUTHORISED)
    report: list[BatchLine] = []
    for line, plate, arrival, nights in parse_guest_csv(text):
        try:
            guest = GuestRegistration(plate, parse_arrival(arrival), _nights(nights))
            number = register_guest(user, hotel, guest, at)
            report.append(BatchLine(line, plate, number))
        except GuestRefused as exc:
            report.append(
                BatchLine(line, plate, None, exc.code, exc.reasons_in("it"), exc.reasons_in("en"))
            )
        except ServiceError as exc:
            report.append(BatchLine(line, plate, None, exc.code))
    return report


# An Italian date, with or without a time: "2/12/2026", "02/12/2026 9:00", "02/12/2026 09:00:30"
# (a dot between hours and minutes too, as some spreadsheets write it).
_ITALIAN_TIME = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?"
)


def parse_arrival(text: str) -> dt.datetime:
    """A row's arrival: an instant with its offset (ISO 8601), or an Italian local date and time
    ("02/12/2026 09:00", "2/12/2026 9:00", "2/12/2026" for midnight) in the municipality's time
    zone, read as the form reads its local time (ztl.values.times.from_local: an hour skipped by
    the change to summer time moves forward, a repeated one takes the first). An ISO time without
    its offset is refused as such (the same words as the form's), anything else as an arrival
    that is not a time."""
    italian = _ITALIAN_TIME.fullmatch(text.strip())
    if italian:
        day, month, year, hour, minute, second = (int(g) if g else 0 for g in italian.groups())
        try:
            local = dt.datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            raise ServiceError(f"{text!r} is not a date", code="arrival_invalid") from exc
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ServiceError(f"{text!r} is out of range", code="arrival_invalid")
        # In UTC: a time in the repeated hour compares unequal to every other zone's (PEP 495).
        return from_local(local, current_rules().timezone).astimezone(dt.UTC)
    try:
        return parse_instant(text)
    except InvalidValue as exc:
        try:
            local_iso = dt.datetime.fromisoformat(text.strip()).tzinfo is None
        except ValueError:
            local_iso = False
        if local_iso:
            raise ServiceError(str(exc), code="time_without_offset") from exc
        raise ServiceError(str(exc), code="arrival_invalid") from exc


def _nights(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ServiceError(f"{text!r} is not a number of days", code="nights") from exc
