"""The situation room: the gates' figures and alarms, live, for supervisors and the police.

GET /sala-operativa/ renders the figures as of the request (a reload link keeps the page useful
without JavaScript); GET /sala-operativa/eventi is a server-sent events stream that sends the same
figures as JSON every second, which static/js/situation-room.js writes into the page. Both word the
figures here, in the reader's language, from one dictionary (`figures`), so the page and the
stream cannot say different things.

Why the stream ends after STREAM_SECONDS: a stream that never ended would hold a thread (with
gunicorn's sync workers, a whole worker) for as long as the page is open, and gunicorn kills a sync
worker whose request lasts beyond its timeout (30 s by default). `make run` and the runbook serve
with threads (`--threads 4`), so an open room holds one thread; the stream still ends within the
timeout, so that a server left with sync workers degrades to a reconnect, not to a killed worker.
The `retry:` line tells EventSource to reconnect a second later, which it does by itself; each tick's database work
is a handful of aggregate queries (ztl.transits.situation), and the session is closed between
ticks so that no connection or transaction is held while the stream sleeps.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, stream_with_context
from flask_babel import gettext as _
from flask_babel import ngettext

from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.permissions import POLICE, SUPERVISORS, guard_blueprint
from ztl.transits.situation import SERIES_MINUTES, Alarm, AlarmKind, GateSituation, Situation
from ztl.transits.situation import lookback as situation_lookback
from ztl.transits.situation import situation as current_situation
from ztl.web.situation.sparkline import BAR_WIDTH, HEIGHT, STEP, spark_bars, spark_width

bp = Blueprint("situation", __name__, url_prefix="/sala-operativa")
guard_blueprint(bp, SUPERVISORS | POLICE)

STREAM_SECONDS = 25.0  # then the stream ends and EventSource reconnects (ZTL_ROOM_STREAM_SECONDS)
INTERVAL_SECONDS = 1.0
RETRY_MILLISECONDS = 1000


def _clock(value: dt.datetime) -> str:
    """An instant on the municipality's wall clock, to the second (the room is about now)."""
    return value.astimezone(ZoneInfo(current_rules().timezone)).strftime("%H:%M:%S")


def _gate_name(gate: str, name: str | None) -> str:
    return _("Varco %(gate)s (%(name)s)", gate=gate, name=name) if name else gate


def _alarm_text(alarm: Alarm, names: dict[str, str | None], found: Situation) -> str:
    gate = _gate_name(alarm.gate, names.get(alarm.gate)) if alarm.gate else ""
    if alarm.kind is AlarmKind.SILENT:
        if alarm.since is None:
            minutes = int(situation_lookback(found.silent_minutes).total_seconds() // 60)
            return _(
                "%(gate)s: nessuna lettura negli ultimi %(minutes)s minuti.",
                gate=gate,
                minutes=minutes,
            )
        return _(
            "%(gate)s: nessuna lettura dalle %(time)s, da più di %(minutes)s minuti.",
            gate=gate,
            time=_clock(alarm.since),
            minutes=found.silent_minutes,
        )
    if alarm.kind is AlarmKind.CLOCK:
        if alarm.seconds > 0:
            return _(
                "%(gate)s: letture fuori passo, l'orologio del varco è avanti di circa "
                "%(seconds)s secondi rispetto al server (soglia: %(limit)s secondi).",
                gate=gate,
                seconds=alarm.seconds,
                limit=found.clock_alarm_seconds,
            )
        return _(
            "%(gate)s: letture fuori passo, arrivano circa %(seconds)s secondi dopo l'ora "
            "segnata dal varco (orologio indietro o letture in ritardo; soglia: %(limit)s "
            "secondi).",
            gate=gate,
            seconds=-alarm.seconds,
            limit=found.clock_alarm_seconds,
        )
    if alarm.kind is AlarmKind.UNKNOWN_GATE:
        return _(
            "Il varco %(gate)s, sconosciuto alla città, sta inviando letture (l'ultima alle "
            "%(time)s): restano trattenute finché il varco non è configurato.",
            gate=alarm.gate,
            time=_clock(alarm.since) if alarm.since else "",
        )
    if alarm.gate is None:
        return ngettext(
            "%(num)s messaggio senza un varco leggibile è stato rifiutato nell'ultima ora.",
            "%(num)s messaggi senza un varco leggibile sono stati rifiutati nell'ultima ora.",
            alarm.count,
        )
    return ngettext(
        "%(gate)s: %(num)s messaggio illeggibile rifiutato nell'ultima ora.",
        "%(gate)s: %(num)s messaggi illeggibili rifiutati nell'ultima ora.",
        alarm.count,
        gate=gate,
    )


def _skew_text(gate: GateSituation) -> str:
    if gate.skew_seconds is None:
        return "–"
    return f"{gate.skew_seconds:+d} s"  # the SI symbol, the same in every language


def _gate_figures(gate: GateSituation, found: Situation) -> dict[str, Any]:
    bars = spark_bars(gate.series)
    if gate.last_reading is not None:
        last_reading = _clock(gate.last_reading)
    else:
        minutes = int(situation_lookback(found.silent_minutes).total_seconds() // 60)
        last_reading = _("nessuna negli ultimi %(minutes)s minuti", minutes=minutes)
    return {
        "code": gate.code,
        "name": gate.name if gate.name is not None else _("Sconosciuto alla città"),
        "zone": gate.zone or "–",
        "known": gate.known,
        "alarm": bool(gate.alarms),
        "state": ngettext("%(num)s allarme", "%(num)s allarmi", len(gate.alarms))
        if gate.alarms
        else _("Regolare"),
        "cells": {
            "last_minute": str(gate.last_minute),
            "last_reading": last_reading,
            "skew": _skew_text(gate),
            "pending": str(gate.pending),
            "violations": str(gate.violations),
            "held": str(gate.held),
            "refused": str(gate.refused),
        },
        "spark": {
            "label": _(
                "Letture per minuto negli ultimi %(minutes)s minuti: %(total)s in tutto, "
                "al massimo %(peak)s in un minuto.",
                minutes=SERIES_MINUTES,
                total=gate.recent,
                peak=max(gate.series),
            ),
            "bars": [[bar.y, bar.height] for bar in bars],
        },
    }


def figures(found: Situation) -> dict[str, Any]:
    """The page's and the stream's figures, worded: what the template and the script write."""
    names = {gate.code: gate.name for gate in found.gates}
    return {
        "at": found.at.isoformat(),
        "time": _clock(found.at),
        "totals": {key: str(value) for key, value in found.totals.items()},
        "gates": [_gate_figures(gate, found) for gate in found.gates],
        "alarms": [
            {"key": alarm.key, "text": _alarm_text(alarm, names, found)} for alarm in found.alarms
        ],
    }


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@bp.get("/")
def room() -> str:
    found = current_situation(_now())
    # The row the script copies for a gate that appears: worded like any other, all zeros.
    blank = GateSituation("", None, None, (0,) * SERIES_MINUTES, None, None)
    return render_template(
        "situation/room.html",
        figures=figures(found),
        blank=_gate_figures(blank, found),
        series_minutes=SERIES_MINUTES,
        spark_width=spark_width(SERIES_MINUTES),
        spark_height=HEIGHT,
        spark_step=STEP,
        spark_bar=BAR_WIDTH,
    )


def _event(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


@bp.get("/eventi")
def events() -> Response:
    def stream() -> Iterator[str]:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        started = time.monotonic()
        seconds = float(current_app.config.get("ZTL_ROOM_STREAM_SECONDS", STREAM_SECONDS))
        ticks = max(1, round(seconds / INTERVAL_SECONDS))
        for tick in range(1, ticks + 1):
            try:
                data = figures(current_situation(_now()))
            finally:
                db.session.close()  # no connection or transaction held while sleeping
            yield _event(data)
            if tick < ticks:  # on the beat: a slow tick does not push the next ones back
                time.sleep(max(0.0, started + tick * INTERVAL_SECONDS - time.monotonic()))

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response
