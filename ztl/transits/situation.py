"""The situation room's figures: what each gate is doing now, and what needs someone's attention.

Per gate the city knows (and per gate it does not know that sent readings, still has readings
waiting, or had messages refused): readings per minute over the last SERIES_MINUTES minutes (the
last one is "the last minute"), the last reading, the median skew of its recent readings, how many
of its readings are pending, violations waiting for an officer, held (unknown gate), and how many of
its messages were refused in the last hour. Alarms: a known gate silent for more than the rules'
`[transits] silent_minutes`, a gate whose recent readings arrive out of step with the server's clock
(the median of their absolute skew beyond `clock_alarm_seconds`), a gate the city does not know
sending readings, and refused messages.

Why five queries whatever the number of gates: the page refreshes every second for every open
room, so each figure is one aggregate query bounded by an index (received_at for the recent
readings and the refusals, status for the readings waiting), never a query per gate. Minutes are
rolling (the last minute ends at `now`) and computed in SQL with a CASE on bound instants, which
both engines run alike. Everything is as of `now`, so tests control the clock; readings received
after `now` are not counted.

No text here: the web layer (ztl.web.situation) words the figures and alarms in the reader's
language.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import case, func, select

from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import AnySession
from ztl.models import Gate, Transit, TransitRefusal, Zone
from ztl.models.enums import TransitStatus

SERIES_MINUTES = 30  # the sparkline: readings per minute, this many minutes back
REFUSAL_WINDOW = dt.timedelta(hours=1)
SKEW_SAMPLE = 15  # the last readings of a gate whose skew is looked at (within the series window)
WAITING = (TransitStatus.PENDING, TransitStatus.VIOLATION, TransitStatus.HELD)


class AlarmKind(StrEnum):
    SILENT = "silent"  # a known gate sent nothing for more than silent_minutes
    CLOCK = "clock"  # a gate's readings arrive out of step with the server's clock
    UNKNOWN_GATE = "unknown_gate"  # a gate the city does not know is sending readings
    REFUSALS = "refusals"  # messages that could not be read as transits, in the last hour


@dataclass(frozen=True, slots=True)
class Alarm:
    kind: AlarmKind
    gate: str | None  # None: refused messages that named no readable gate
    count: int = 0  # readings (unknown gate) or refused messages
    seconds: int = 0  # the median skew (clock)
    since: dt.datetime | None = None  # the last reading (silent: None when none in the lookback)

    @property
    def key(self) -> str:
        """Stable while the alarm lasts: the page announces an alarm whose key it has not seen."""
        return f"{self.kind.value}:{self.gate or ''}"


@dataclass(frozen=True, slots=True)
class GateSituation:
    code: str
    name: str | None  # None for a gate the city does not know
    zone: str | None
    series: tuple[int, ...]  # readings per minute, oldest first; the last is the last minute
    last_reading: dt.datetime | None  # within the lookback only
    skew_seconds: int | None  # median skew of its recent readings (reading's clock - server's)
    pending: int = 0
    violations: int = 0
    held: int = 0
    refused: int = 0
    alarms: tuple[AlarmKind, ...] = ()

    @property
    def known(self) -> bool:
        return self.name is not None

    @property
    def last_minute(self) -> int:
        return self.series[-1]

    @property
    def recent(self) -> int:
        return sum(self.series)


@dataclass(frozen=True, slots=True)
class Situation:
    at: dt.datetime
    gates: tuple[GateSituation, ...]
    alarms: tuple[Alarm, ...]
    silent_minutes: int
    clock_alarm_seconds: int
    refused_without_gate: int = 0
    totals: dict[str, int] = field(default_factory=dict)


@dataclass
class _Tally:
    series: list[int] = field(default_factory=lambda: [0] * SERIES_MINUTES)
    last: dt.datetime | None = None
    skews: list[int] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    last_refused: dt.datetime | None = None


def lookback(silent_minutes: int) -> dt.timedelta:
    """How far back recent readings are read: the sparkline's window, or longer when a gate may
    stay silent longer than that before it is an alarm."""
    return dt.timedelta(minutes=max(SERIES_MINUTES, silent_minutes + 1))


def _later(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _recent_counts(
    session: AnySession, now: dt.datetime, since: dt.datetime, tallies: dict[str, _Tally]
) -> None:
    """Readings per gate and rolling minute (minute 0 ends at `now`), and each gate's last one."""
    age = case(
        *[
            (Transit.received_at > now - dt.timedelta(minutes=minute + 1), minute)
            for minute in range(SERIES_MINUTES)
        ],
        else_=SERIES_MINUTES,  # older than the sparkline, within the lookback: the last reading
    )
    recent = (
        select(Transit.gate, Transit.received_at, age.label("age"))
        .where(Transit.received_at > since, Transit.received_at <= now)
        .subquery()
    )
    rows = session.execute(
        select(recent.c.gate, recent.c.age, func.count(), func.max(recent.c.received_at)).group_by(
            recent.c.gate, recent.c.age
        )
    )
    for gate, minute, count, last in rows:
        tally = tallies[gate]
        if minute < SERIES_MINUTES:
            tally.series[SERIES_MINUTES - 1 - minute] += count
        tally.last = _later(tally.last, _aware(last))


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """max() over a subquery's column comes back as the engine gives it (SQLite: text, naive)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _recent_skews(session: AnySession, now: dt.datetime, tallies: dict[str, _Tally]) -> None:
    """The skew of each gate's last SKEW_SAMPLE readings within the sparkline's window."""
    rank = (
        func.row_number()
        .over(partition_by=Transit.gate, order_by=Transit.received_at.desc())
        .label("rank")
    )
    recent = (
        select(Transit.gate, Transit.skew_seconds, rank)
        .where(
            Transit.received_at > now - dt.timedelta(minutes=SERIES_MINUTES),
            Transit.received_at <= now,
        )
        .subquery()
    )
    rows = session.execute(
        select(recent.c.gate, recent.c.skew_seconds).where(recent.c.rank <= SKEW_SAMPLE)
    )
    for gate, skew in rows:
        tallies[gate].skews.append(int(skew))


def _waiting(session: AnySession, tallies: dict[str, _Tally]) -> None:
    """Readings pending, violations waiting for review and held readings, per gate."""
    rows = session.execute(
        select(Transit.gate, Transit.status, func.count())
        .where(Transit.status.in_([status.value for status in WAITING]))
        .group_by(Transit.gate, Transit.status)
    )
    for gate, status, count in rows:
        tallies[gate].waiting[status] = count


def _refusals(session: AnySession, now: dt.datetime, tallies: dict[str, _Tally]) -> int:
    """Refused messages in the last hour per gate; returns those that named no gate."""
    rows = session.execute(
        select(TransitRefusal.gate, func.count(), func.max(TransitRefusal.received_at))
        .where(
            TransitRefusal.received_at > now - REFUSAL_WINDOW,
            TransitRefusal.received_at <= now,
        )
        .group_by(TransitRefusal.gate)
    )
    without_gate = 0
    for gate, count, last in rows:
        if gate is None:
            without_gate += count
            continue
        tallies[gate].refused += count
        tallies[gate].last_refused = _later(tallies[gate].last_refused, _aware(last))
    return without_gate


def _median_skew(skews: list[int]) -> tuple[int | None, int]:
    """The median skew (signed, for the page) and the median of its absolute value (the alarm)."""
    if not skews:
        return None, 0
    return round(statistics.median(skews)), round(statistics.median(abs(s) for s in skews))


def situation(now: dt.datetime, session: AnySession | None = None) -> Situation:
    """Every gate's figures and the alarms, as of `now` (aware)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    session = session or db.session
    rules = current_rules().transits
    since = now - lookback(rules.silent_minutes)
    known = {
        code: (name, zone)
        for code, name, zone in session.execute(
            select(Gate.code, Gate.name, Zone.code)
            .join(Zone, Zone.id == Gate.zone_id)
            .order_by(Gate.code)
        )
    }
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for code in known:
        tallies[code] = _Tally()
    _recent_counts(session, now, since, tallies)
    _recent_skews(session, now, tallies)
    _waiting(session, tallies)
    without_gate = _refusals(session, now, tallies)

    silent_after = dt.timedelta(minutes=rules.silent_minutes)
    gates: list[GateSituation] = []
    alarms: list[Alarm] = []
    order = sorted(tallies, key=lambda code: (code not in known, code))
    for code in order:
        tally = tallies[code]
        name, zone = known.get(code, (None, None))
        kinds: list[AlarmKind] = []
        if name is not None and (tally.last is None or now - tally.last > silent_after):
            kinds.append(AlarmKind.SILENT)
            alarms.append(Alarm(AlarmKind.SILENT, code, since=tally.last))
        if name is None and tally.last is not None:
            kinds.append(AlarmKind.UNKNOWN_GATE)
            alarms.append(
                Alarm(AlarmKind.UNKNOWN_GATE, code, count=sum(tally.series), since=tally.last)
            )
        skew, abs_skew = _median_skew(tally.skews)
        if skew is not None and abs_skew > rules.clock_alarm_seconds:
            kinds.append(AlarmKind.CLOCK)
            alarms.append(Alarm(AlarmKind.CLOCK, code, seconds=skew, since=tally.last))
        if tally.refused:
            kinds.append(AlarmKind.REFUSALS)
            alarms.append(
                Alarm(AlarmKind.REFUSALS, code, count=tally.refused, since=tally.last_refused)
            )
        gates.append(
            GateSituation(
                code=code,
                name=name,
                zone=zone,
                series=tuple(tally.series),
                last_reading=tally.last,
                skew_seconds=skew,
                pending=tally.waiting.get(TransitStatus.PENDING.value, 0),
                violations=tally.waiting.get(TransitStatus.VIOLATION.value, 0),
                held=tally.waiting.get(TransitStatus.HELD.value, 0),
                refused=tally.refused,
                alarms=tuple(kinds),
            )
        )
    if without_gate:
        alarms.append(Alarm(AlarmKind.REFUSALS, None, count=without_gate))
    totals = {
        "last_minute": sum(g.last_minute for g in gates),
        "pending": sum(g.pending for g in gates),
        "violations": sum(g.violations for g in gates),
        "held": sum(g.held for g in gates),
        "refused": sum(g.refused for g in gates) + without_gate,
        "alarms": len(alarms),
    }
    return Situation(
        at=now,
        gates=tuple(gates),
        alarms=tuple(alarms),
        silent_minutes=rules.silent_minutes,
        clock_alarm_seconds=rules.clock_alarm_seconds,
        refused_without_gate=without_gate,
        totals=totals,
    )
