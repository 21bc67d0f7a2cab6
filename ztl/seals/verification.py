"""Verifying a seal against what the server knows now: its published keys and revocations.

Used by POST /api/v1/seals/verify; `ztl verify` uses the same verifier with cached lists instead.
Both take the zones' calendars from the rules file in force (`zone_calendars`), as the police page
does (seal_views.py): a zone not restricted at the instant needs no permit, whatever its hours.
The answer's shape is the enforcement API's, shared so every channel says the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.models import utcnow
from ztl.rules.calendar import ZoneCalendar
from ztl.rules.municipality import Municipality
from ztl.seals.trust_lists import revoked_seals, seal_keys_to_publish
from ztl.signing.seal import SealCheck, SealResult, TrustedKey, verify_seal
from ztl.values import display
from ztl.values.times import instant_text


def zone_calendars(rules: Municipality | None = None) -> dict[str, ZoneCalendar]:
    """Zone code -> calendar, from the rules file in force (or the rules given)."""
    rules = rules or current_rules()
    return {zone.code: zone.calendar for zone in rules.zones}


def verify_with_rules(
    seal: str,
    trusted: Mapping[bytes, TrustedKey],
    revoked: Mapping[bytes, frozenset[bytes]],
    check: SealCheck,
) -> SealResult:
    """verify_seal with the rules in force: their time zone and their zones' calendars."""
    rules = current_rules()
    timezone = ZoneInfo(rules.timezone)
    return verify_seal(seal, trusted, revoked, check, timezone, zone_calendars(rules))


def verify_on_server(
    seal: str, at: dt.datetime | None = None, zone: str | None = None, plate: str | None = None
) -> SealResult:
    now = utcnow()
    trusted = {
        pair.kid: TrustedKey(pair.kid, pair.key.public_key(), pair.valid_from, pair.valid_to)
        for pair in seal_keys_to_publish(db.session, now)
    }
    revoked = {kid: frozenset(handles) for kid, handles in revoked_seals(db.session, now).items()}
    return verify_with_rules(seal, trusted, revoked, SealCheck(at or now, zone, plate))


def _iso(value: dt.datetime) -> str:
    return instant_text(value)


def seal_result_json(result: SealResult) -> dict[str, Any]:
    """{"valid", "reason", "step", "revoked", "zone_inactive", "kid", "permit"}.

    As in enforcement-api.md; zone_inactive: the zone asked about is not restricted at the instant (no permit needed there).
    """
    claims = result.claims
    return {
        "valid": result.valid,
        "reason": result.reason,
        "step": result.step.value if result.step else None,
        "revoked": result.revoked,
        "zone_inactive": result.zone_inactive,
        "kid": result.kid.hex() if result.kid else None,
        "permit": None
        if claims is None
        else {
            "number": claims.permit_number,
            "plates": list(claims.plates),
            "zones": list(claims.zones),
            "category": claims.category,
            "valid_from": _iso(claims.valid_from),
            "valid_to": _iso(claims.valid_to),
            "windows": list(claims.windows),
            # The period in words, as the permit's page, its PDF and the police page write it.
            "validity": _validity(claims.valid_from, claims.valid_to),
        },
    }


def _validity(valid_from: dt.datetime, valid_to: dt.datetime) -> dict[str, str]:
    timezone = current_rules().timezone
    return {
        language: display.validity_text(valid_from, valid_to, timezone, language)
        for language in ("it", "en")
    }
