"""`ztl transits subscribe` and `ztl transits mqtt-acl`: gates that publish over MQTT.

Why a module beside ztl/cli/enforcement.py: the commands belong to the `transits` group but to
another way in (a broker, ztl.transits.mqtt); they are added to the group when this module is
imported (ztl/cli/__init__). docs/transits-mqtt.md says how a municipality sets the broker up.
Exit status: 0 done, 1 the broker turned the subscriber away (credentials, access list),
2 bad settings.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import click
from flask import current_app
from sqlalchemy import select

from ztl.cli.common import BadInput, Refused
from ztl.cli.enforcement import transits
from ztl.extensions import db
from ztl.models import Gate
from ztl.transits.mqtt import (
    DEFAULT_SUBSCRIBER_USER,
    BadSettings,
    BrokerRefused,
    Subscriber,
    gate_topic,
    prefix_from,
    setting,
    settings_from,
    topic_filter,
)


@contextmanager
def _stopped_by_signals(subscriber: Subscriber) -> Iterator[None]:
    """SIGTERM and SIGINT finish the batch in hand, then leave (a service manager's stop)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum: int, _frame: Any) -> None:
        subscriber.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _log_to_stderr(verbose: bool) -> None:
    logger = logging.getLogger("ztl.transits.mqtt")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    if not logging.getLogger().handlers and not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)


@click.command("subscribe")
@click.option(
    "--seconds", type=click.FloatRange(min=0), default=None, help="Stop after this many seconds."
)
@click.option(
    "--once", is_flag=True, help="Take what the broker holds, then stop after a second of quiet."
)
@click.option(
    "--settle-every",
    type=click.FloatRange(min=0),
    default=60,
    show_default=True,
    metavar="SECONDS",
    help="Move open readings on this often, as `ztl transits settle` does (0: never).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log every batch.")
def subscribe(seconds: float | None, once: bool, settle_every: float, verbose: bool) -> None:
    """Take the gates' readings from the MQTT broker (ZTL_MQTT_URL) into the transit ledger."""
    try:
        settings = settings_from(current_app.config)
    except BadSettings as exc:
        raise BadInput(str(exc)) from exc
    _log_to_stderr(verbose)
    subscriber = Subscriber(current_app._get_current_object(), settings)  # type: ignore[attr-defined]
    subscriber.start()
    try:
        with _stopped_by_signals(subscriber):
            tally = subscriber.run(seconds, 1.0 if once else None, settle_every or None)
    except BrokerRefused as exc:
        raise Refused(str(exc)) from exc
    finally:
        subscriber.close()
    click.echo(
        f"{tally.received} messages: {tally.recorded} transits recorded, {tally.repeats} "
        f"repeats, {tally.refused} refused ({tally.batches} batches)",
        err=True,
    )


def _subscriber_user() -> str:
    url = setting(current_app.config, "ZTL_MQTT_URL")
    user = urlsplit(str(url)).username if url else None
    return user or DEFAULT_SUBSCRIBER_USER


@click.command("mqtt-acl")
@click.option(
    "--subscriber",
    default=None,
    metavar="USER",
    help="The subscriber's broker user (default the one in ZTL_MQTT_URL, else ztl-subscriber).",
)
@click.option(
    "--per-gate", is_flag=True, help="One block per gate in the database instead of a pattern."
)
def mqtt_acl(subscriber: str | None, per_gate: bool) -> None:
    """A Mosquitto acl_file: each gate's broker user (named as the gate code) may publish only on
    its own topic; the subscriber may read them all."""
    try:
        prefix = prefix_from(current_app.config)
    except BadSettings as exc:
        raise BadInput(str(exc)) from exc
    reader = subscriber or _subscriber_user()
    lines = [
        "# Mosquitto acl_file for the ZTL transit ledger (`ztl transits mqtt-acl`).",
        "# A gate connects with its gate code as user name (A1, exactly) and may only publish",
        f"# its readings on {gate_topic(prefix, '<GATE>')}; it reads nothing.",
    ]
    if per_gate:
        codes = db.session.scalars(select(Gate.code).order_by(Gate.code)).all()
        if not codes:
            raise BadInput("no gates in the database: load the rules file first (ztl db upgrade)")
        for code in codes:
            lines += ["", f"user {code}", f"topic write {gate_topic(prefix, code)}"]
    else:
        lines += [f"pattern write {gate_topic(prefix, '%u')}"]
    lines += [
        "",
        "# The subscriber (`ztl transits subscribe`) reads every gate's topic.",
        f"user {reader}",
        f"topic read {topic_filter(prefix)}",
    ]
    click.echo("\n".join(lines))


transits.add_command(subscribe)
transits.add_command(mqtt_acl)
