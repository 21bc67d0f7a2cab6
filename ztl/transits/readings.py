"""A gate's reading as the ledger takes it, checked the same way whichever way it came in.

A reading comes over HTTP (ztl.api.transits), over MQTT (ztl.transits.mqtt) or from a file
(`ztl transits ingest`). Each way reads its own envelope, then hands a plain mapping to
`reading_from`, which is the one place that decides what a reading is: the gate's own id, a plate
that reads as a plate, an instant with its offset inside the accepted skew, a direction, a
confidence, a picture of an accepted type and size. Anything else is an InvalidValue whose message
says what is wrong; nothing is guessed.

Why the gate of a bound token wins: a gate token bound to a gate (`ztl tokens create --gate`)
speaks only for that gate, and an MQTT gate publishes only on its own topic (the broker's access
list); a reading naming another gate is refused, so one gate's credentials cannot file transits for
another.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ztl.infrastructure.uploads import sniff_content_type
from ztl.rules.municipality import TransitRules
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.values.times import parse_instant

MAX_IMAGE_BYTES = 512 * 1024  # a plate reader's crop is tens of kilobytes; a full frame fits too
IMAGE_TYPES = ("image/jpeg", "image/png")
DIRECTIONS = ("in", "out")
SOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
GATE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,19}")
MAX_IMAGE_REF = 500


@dataclass(frozen=True, slots=True)
class Reading:
    """One camera reading, checked: the ledger only ever sees these."""

    gate: str  # upper case, as the gate names itself (it may be unknown to the city)
    source_id: str  # the gate's own id for this reading: (gate, source_id) is unique
    plate: str  # normalised
    at: dt.datetime  # aware, UTC
    direction: str | None = None
    confidence: int | None = None  # percent
    image_ref: str | None = None
    image: bytes | None = None
    image_type: str | None = None


def _text(raw: Mapping[str, Any], key: str, limit: int, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        if required:
            raise InvalidValue(f"'{key}' is required")
        return None
    if not isinstance(value, str):
        raise InvalidValue(f"'{key}' must be a string")
    if len(value) > limit:
        raise InvalidValue(f"'{key}' is longer than {limit} characters")
    if not value.isprintable():  # a NUL or a line break has no place in any field
        raise InvalidValue(f"'{key}' contains control characters")
    return value


def gate_code(raw: str) -> str:
    code = raw.strip().upper()
    if not GATE.fullmatch(code):
        raise InvalidValue("'gate' must be 1-20 letters, digits, dot, dash or underscore")
    return code


def _gate(raw: Mapping[str, Any], bound: str | None) -> str:
    named = _text(raw, "gate", 20, required=bound is None)
    if bound is None:
        assert named is not None  # required when no gate is bound
        return gate_code(named)
    if named is not None and gate_code(named) != bound:
        raise InvalidValue(f"this gate's credentials speak for gate {bound}, not {named.strip()}")
    return bound


def _source_id(raw: Mapping[str, Any]) -> str:
    value = _text(raw, "id", 64)
    assert value is not None
    if not SOURCE_ID.fullmatch(value):
        raise InvalidValue("'id' must be 1-64 letters, digits or . _ : / -, starting alphanumeric")
    return value


def _instant(raw: Mapping[str, Any], now: dt.datetime, rules: TransitRules) -> dt.datetime:
    value = _text(raw, "at", 40)
    assert value is not None
    try:
        at = parse_instant(value)  # refuses a time without an offset
    except InvalidValue as exc:
        raise InvalidValue(f"'at': {exc}") from exc
    if at > now + dt.timedelta(seconds=rules.future_seconds):
        raise InvalidValue(
            f"'at' is more than {rules.future_seconds} seconds ahead of the server's clock"
        )
    if at < now - dt.timedelta(hours=rules.late_hours):
        raise InvalidValue(f"'at' is more than {rules.late_hours} hours in the past")
    return at.astimezone(dt.UTC)


def _confidence(raw: Mapping[str, Any]) -> int | None:
    value = raw.get("confidence")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue("'confidence' must be a number from 0 to 1")
    if not 0 <= value <= 1:
        raise InvalidValue("'confidence' must be a number from 0 to 1")
    return round(value * 100)


def _direction(raw: Mapping[str, Any]) -> str | None:
    value = _text(raw, "direction", 5, required=False)
    if value is not None and value not in DIRECTIONS:
        raise InvalidValue("'direction' must be 'in' or 'out'")
    return value


def image_from_base64(text: Any) -> tuple[bytes, str]:
    """A picture sent inline: base64 of a JPEG or PNG of at most MAX_IMAGE_BYTES."""
    if not isinstance(text, str):
        raise InvalidValue("'image' must be a base64 string")
    if len(text) > (MAX_IMAGE_BYTES * 4) // 3 + 4:
        raise InvalidValue(f"'image' is larger than {MAX_IMAGE_BYTES // 1024} KB")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidValue("'image' is not valid base64") from exc
    return data, image_type(data)


def image_type(data: bytes) -> str:
    """The picture's type by its content: JPEG or PNG only, and not too large."""
    if not data:
        raise InvalidValue("'image' is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidValue(f"'image' is larger than {MAX_IMAGE_BYTES // 1024} KB")
    kind = sniff_content_type(data[:16])
    if kind not in IMAGE_TYPES:
        raise InvalidValue("'image' must be a JPEG or PNG picture")
    return kind


def reading_from(
    raw: Mapping[str, Any],
    now: dt.datetime,
    rules: TransitRules,
    bound_gate: str | None = None,
) -> Reading:
    """The checked reading; InvalidValue naming the first thing wrong."""
    if not isinstance(raw, Mapping):
        raise InvalidValue("a transit must be a JSON object")
    source_id = _source_id(raw)
    gate = _gate(raw, bound_gate)
    plate_text = _text(raw, "plate", 20)
    assert plate_text is not None
    try:
        plate = normalise_plate(plate_text)
    except InvalidValue as exc:  # the message does not repeat the plate: refusals are kept
        raise InvalidValue(
            "'plate' must be 1-12 letters and digits (spaces and dashes are ignored)"
        ) from exc
    image, kind = (None, None)
    if raw.get("image") is not None:
        image, kind = image_from_base64(raw["image"])
    return Reading(
        gate=gate,
        source_id=source_id,
        plate=plate,
        at=_instant(raw, now, rules),
        direction=_direction(raw),
        confidence=_confidence(raw),
        image_ref=_text(raw, "image_ref", MAX_IMAGE_REF, required=False),
        image=image,
        image_type=kind,
    )
