"""The seal: encode, fit in a QR version 11-M, verify in the spec's order, refuse every tampering.

And the zone's calendar at the window step: where and when a zone is not restricted no permit is
needed, so the permit's own hours do not matter there (Firenze's and Rome's calendars: holidays,
the patron saint, summer nights after midnight, season bounds, DST nights).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo

import cbor2
import segno
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from ztl.rules.calendar import ZoneCalendar, entry_from_data
from ztl.rules.loader import load_rules
from ztl.signing.base45 import ALPHABET, b45decode, b45encode
from ztl.signing.cose import parse_sign1
from ztl.signing.seal import (
    PREFIX,
    SealCheck,
    SealClaims,
    SealResult,
    Step,
    TrustedKey,
    encode_seal,
    revocation_handle,
    verify_seal,
)

ROME = ZoneInfo("Europe/Rome")
KEY = ec.generate_private_key(ec.SECP256R1())
KID = hashlib.sha256(b"certificate DER").digest()[:8]
START = dt.datetime(2026, 1, 1, 0, 0, tzinfo=dt.UTC)
END = dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC)
TRUSTED = {KID: TrustedKey(KID, KEY.public_key(), START, END)}
CLAIMS = SealClaims(
    issuer="IT-PO",
    seal_id=bytes.fromhex("0102030405060708"),
    issued_at=START,
    valid_from=START,
    valid_to=END,
    permit_number="PO-2026-000123",
    plates=("AB123CD", "EF456GH"),
    zones=("A", "B"),
    category="63",
    windows=("20:00-10:00",),
)
NIGHT = dt.datetime(2026, 6, 1, 21, 0, tzinfo=dt.UTC)  # 23:00 in Rome: inside 20:00-10:00
NOON = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)  # 12:00 in Rome: outside


def verify(
    text: str, at: dt.datetime = NIGHT, revoked: frozenset[bytes] = frozenset(), **check: str
) -> SealResult:
    return verify_seal(text, TRUSTED, {KID: revoked}, SealCheck(at, **check), ROME)


def test_base45_round_trip_and_rfc_examples() -> None:
    assert b45encode(b"AB") == "BB8" and b45encode(b"Hello!!") == "%69 VD92EX0"
    assert b45decode("QED8WEX0") == b"ietf!"
    for data in (b"", b"\x00", b"\xff\xff", bytes(range(256))):
        assert b45decode(b45encode(data)) == data


def test_seal_round_trip_and_qr_fits_version_11_m() -> None:
    seal = encode_seal(CLAIMS, KEY, KID)
    assert seal.startswith(PREFIX) and all(c in ALPHABET for c in seal)
    qr = segno.make(seal, error="m", mode="alphanumeric", boost_error=False)
    assert isinstance(qr.version, int) and qr.version <= 11, qr.version  # a phone reads it
    result = verify(seal, zone="A", plate="EF456GH")
    assert result.valid and result.step is None and result.claims == CLAIMS


def test_payload_holds_no_personal_data() -> None:
    signed = parse_sign1(zlib.decompress(b45decode(encode_seal(CLAIMS, KEY, KID)[len(PREFIX) :])))
    claims = cbor2.loads(signed.payload)
    assert set(claims) == {1, 4, 5, 6, 7, -65537}
    assert set(claims[-65537]) == {"v", "pn", "pl", "z", "c", "w"}


def _resign(mutate) -> str:  # type: ignore[no-untyped-def]
    """Re-build a seal with a changed COSE structure, signed by the real key where needed."""
    signed = parse_sign1(zlib.decompress(b45decode(encode_seal(CLAIMS, KEY, KID)[len(PREFIX) :])))
    structure = mutate(signed)
    return PREFIX + b45encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, structure))))


def _flip_one_character(seal: str) -> str:
    position = len(seal) // 2
    replacement = "A" if seal[position] != "A" else "B"
    return seal[:position] + replacement + seal[position + 1 :]


def test_tamper_matrix() -> None:
    seal = encode_seal(CLAIMS, KEY, KID)
    other_key = ec.generate_private_key(ec.SECP256R1())
    cases = {
        "one character changed": (verify(_flip_one_character(seal)), {Step.PARSE, Step.SIGNATURE}),
        "unknown kid": (verify(encode_seal(CLAIMS, KEY, b"\x00" * 8)), {Step.KID}),
        "forged with another key": (verify(encode_seal(CLAIMS, other_key, KID)), {Step.SIGNATURE}),
        "expired": (verify(seal, at=END + dt.timedelta(minutes=6)), {Step.EXPIRED}),
        "not yet valid": (verify(seal, at=START - dt.timedelta(minutes=6)), {Step.NOT_YET_VALID}),
        "revoked": (
            verify(seal, revoked=frozenset({revocation_handle(CLAIMS.seal_id)})),
            {Step.REVOKED},
        ),
        "other zone": (verify(seal, zone="C"), {Step.ZONE}),
        "outside its hours": (verify(seal, at=NOON), {Step.WINDOW}),
        "other plate": (verify(seal, plate="ZZ999ZZ"), {Step.PLATE}),
        "alg only in the unprotected header": (
            verify(_resign(lambda s: [cbor2.dumps({4: KID}), {1: -7}, s.payload, s.signature])),
            {Step.SIGNATURE},
        ),
        "payload swapped": (
            verify(
                _resign(
                    lambda s: [
                        s.protected_bytes,
                        {},
                        s.payload.replace(b"AB123CD", b"XY999ZZ"),
                        s.signature,
                    ]
                )
            ),
            {Step.SIGNATURE},
        ),
        "no prefix": (verify(seal[len(PREFIX) :]), {Step.PARSE}),
        "empty": (verify(""), {Step.PARSE}),
    }
    for name, (result, steps) in cases.items():
        assert not result.valid, name
        assert result.step in steps, (name, result.step, result.reason)
        assert result.reason, name


def test_clock_tolerance_of_five_minutes() -> None:
    seal = encode_seal(dataclasses.replace(CLAIMS, windows=()), KEY, KID)
    assert verify(seal, at=END + dt.timedelta(minutes=4)).valid
    assert verify(seal, at=START - dt.timedelta(minutes=4)).valid


def test_zlib_bomb_is_capped() -> None:
    bomb = PREFIX + b45encode(zlib.compress(b"\x00" * 2_000_000, 9))  # ~2,900 characters
    result = verify(bomb)
    assert result.step is Step.PARSE and "larger than" in result.reason


@settings(max_examples=300)
@given(st.text(alphabet=ALPHABET, max_size=400))
def test_decoder_never_raises_on_garbage(body: str) -> None:
    result = verify(PREFIX + body)
    assert not result.valid and result.step is not None


@settings(max_examples=100)
@given(st.binary(max_size=300))
def test_decoder_never_raises_on_random_cose(data: bytes) -> None:
    result = verify(PREFIX + b45encode(zlib.compress(data)))
    assert not result.valid and result.step in {Step.PARSE, Step.KID}


# --- the zone's calendar at the window step ------------------------------------------------------

MUNICIPALITIES = Path(__file__).resolve().parent.parent / "ztl" / "rules" / "municipalities"
# Zone B restricted Monday to Friday 08:00-20:00 (holidays ignored); zone A not in the calendars.
WEEKDAYS_ONLY = {
    "B": ZoneCalendar(
        (entry_from_data({"days": ["mon", "tue", "wed", "thu", "fri"], "hours": ["08:00-20:00"]}),)
    )
}
MONDAY_NOON = NOON  # 2026-06-01, Monday, 12:00 in Rome
SUNDAY_NOON = dt.datetime(2026, 6, 7, 10, 0, tzinfo=dt.UTC)


def with_calendars(
    text: str,
    calendars: dict[str, ZoneCalendar] | None,
    at: dt.datetime,
    revoked: frozenset[bytes] = frozenset(),
    **check: str,
) -> SealResult:
    return verify_seal(text, TRUSTED, {KID: revoked}, SealCheck(at, **check), ROME, calendars)


def test_a_zone_not_restricted_at_the_instant_needs_no_permit_hours() -> None:
    seal = encode_seal(CLAIMS, KEY, KID)  # valid 20:00-10:00 only
    restricted = with_calendars(seal, WEEKDAYS_ONLY, MONDAY_NOON, zone="B")
    assert restricted.step is Step.WINDOW and not restricted.zone_inactive
    assert restricted.reason == "the permit is valid only 20:00-10:00"

    free = with_calendars(seal, WEEKDAYS_ONLY, SUNDAY_NOON, zone="B", plate="AB123CD")
    assert free.valid and free.step is None and free.zone_inactive
    assert free.reason == "valid; zone B is not restricted at that time"
    assert free.claims == CLAIMS
    # Keyword or positional, the same answer (the old five positional arguments still work).
    check = SealCheck(SUNDAY_NOON, "B")
    positional = verify_seal(seal, TRUSTED, {KID: frozenset()}, check, ROME, WEEKDAYS_ONLY)
    assert positional == with_calendars(seal, WEEKDAYS_ONLY, SUNDAY_NOON, zone="B")

    # Inside the permit's hours the zone's state is still reported.
    night = with_calendars(seal, WEEKDAYS_ONLY, NIGHT, zone="B")  # Monday 23:00
    assert night.valid and night.zone_inactive and "not restricted" in night.reason
    # The end of a window is excluded: 20:00 on a weekday is no longer restricted.
    eight_pm = with_calendars(
        encode_seal(dataclasses.replace(CLAIMS, windows=("12:00-13:00",)), KEY, KID),
        WEEKDAYS_ONLY,
        dt.datetime(2026, 6, 3, 18, 0, tzinfo=dt.UTC),
        zone="B",
    )
    assert eight_pm.valid and eight_pm.zone_inactive


def test_the_calendar_changes_only_the_window_step() -> None:
    seal = encode_seal(CLAIMS, KEY, KID)
    # No zone asked, no calendars, or a zone they do not hold: the permit's hours decide.
    assert with_calendars(seal, WEEKDAYS_ONLY, SUNDAY_NOON).step is Step.WINDOW
    assert with_calendars(seal, None, SUNDAY_NOON, zone="B").step is Step.WINDOW
    assert verify(seal, at=SUNDAY_NOON, zone="B").step is Step.WINDOW
    unknown = with_calendars(seal, WEEKDAYS_ONLY, SUNDAY_NOON, zone="A")
    assert unknown.step is Step.WINDOW and not unknown.zone_inactive
    # Every step before the window still refuses, and says nothing about the zone.
    handle = revocation_handle(CLAIMS.seal_id)
    before = {
        Step.REVOKED: with_calendars(
            seal, WEEKDAYS_ONLY, SUNDAY_NOON, revoked=frozenset({handle}), zone="B"
        ),
        Step.EXPIRED: with_calendars(seal, WEEKDAYS_ONLY, END + dt.timedelta(days=2), zone="B"),
        Step.NOT_YET_VALID: with_calendars(
            seal, WEEKDAYS_ONLY, START - dt.timedelta(days=2), zone="B"
        ),
        Step.SIGNATURE: with_calendars(
            encode_seal(CLAIMS, ec.generate_private_key(ec.SECP256R1()), KID),
            WEEKDAYS_ONLY,
            SUNDAY_NOON,
            zone="B",
        ),
    }
    for step, result in before.items():
        assert result.step is step and not result.valid and not result.zone_inactive, step
    only_a = encode_seal(dataclasses.replace(CLAIMS, zones=("A",)), KEY, KID)
    assert with_calendars(only_a, WEEKDAYS_ONLY, SUNDAY_NOON, zone="B").step is Step.ZONE
    # And the plate after it: still refused, while saying the zone needs no permit now.
    plate = with_calendars(seal, WEEKDAYS_ONLY, SUNDAY_NOON, zone="B", plate="ZZ999ZZ")
    assert plate.step is Step.PLATE and not plate.valid and plate.zone_inactive
    assert plate.reason == "the permit is not for plate ZZ999ZZ"


def _rome_local(text: str) -> dt.datetime:
    """ "2026-06-02 10:00" on Rome's wall clock -> an aware instant (fold 0 on the autumn night)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=ROME)


FIRENZE = {z.code: z.calendar for z in load_rules(MUNICIPALITIES / "firenze.toml").zones}
ROMA = {z.code: z.calendar for z in load_rules(MUNICIPALITIES / "roma.toml").zones}
# (calendars, zone, instant, restricted): what the rules files say, from docs/rules-file.md.
CALENDAR_CASES = [
    (FIRENZE, "A", _rome_local("2026-06-09 10:00"), True),  # a Tuesday
    (FIRENZE, "A", _rome_local("2026-06-02 10:00"), False),  # Festa della Repubblica, a Tuesday
    (FIRENZE, "A", _rome_local("2026-06-24 10:00"), False),  # San Giovanni, Firenze's patron
    (FIRENZE, "A", _rome_local("2026-04-06 10:00"), False),  # Easter Monday
    (FIRENZE, "A", _rome_local("2026-05-01 21:00"), True),  # a holiday Friday: the night ignores it
    (FIRENZE, "A", _rome_local("2026-06-13 02:59"), True),  # Friday's summer night, after midnight
    (FIRENZE, "A", _rome_local("2026-06-13 03:00"), False),  # ... which ends at 03:00
    (FIRENZE, "F", _rome_local("2026-04-02 23:30"), True),  # first Thursday of April: season opens
    (FIRENZE, "F", _rome_local("2026-03-27 00:30"), False),  # the Thursday before: not yet
    (FIRENZE, "F", _rome_local("2026-10-04 02:00"), True),  # Saturday night before the first Sunday
    (FIRENZE, "F", _rome_local("2026-10-08 23:30"), False),  # season over
    (ROMA, "CS", _rome_local("2026-06-29 10:00"), False),  # Santi Pietro e Paolo, Rome's patron
    (ROMA, "CS", _rome_local("2026-12-26 00:30"), False),  # Christmas Friday's night is off
    (ROMA, "TRA", _rome_local("2026-12-26 00:30"), True),  # ... but Trastevere ignores holidays
    (ROMA, "CS", _rome_local("2027-01-02 00:30"), False),  # New Year's Friday: its night is off
    (ROMA, "CS", _rome_local("2026-04-05 00:30"), True),  # Saturday's night runs into Easter
    (ROMA, "TRA", _rome_local("2026-08-01 00:30"), True),  # 31 July's night, last of the season
    (ROMA, "TRA", _rome_local("2026-08-01 22:00"), False),  # no nights in August
    (ROMA, "TRA", _rome_local("2027-01-02 00:30"), True),  # the season wraps the year end
    (ROMA, "TRA", dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC), True),  # 01:59 CET, spring night
    (ROMA, "TRA", dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC), False),  # 03:00 CEST: ended
    (ROMA, "TRA", dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), True),  # 02:30 CEST
    (ROMA, "TRA", dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC), True),  # 02:30 CET, again
    (ROMA, "TRA", dt.datetime(2026, 10, 25, 2, 0, tzinfo=dt.UTC), False),  # 03:00 CET: ended
]


def test_rich_calendars_holidays_nights_seasons_and_dst() -> None:
    """A permit valid 12:00-13:00 only: outside it, valid exactly when the zone is unrestricted."""
    claims = dataclasses.replace(
        CLAIMS, zones=("A", "F", "CS", "TRA"), windows=("12:00-13:00",), valid_to=END.replace(2028)
    )
    seal = encode_seal(claims, KEY, KID)
    for calendars, zone, at, restricted in CALENDAR_CASES:
        result = with_calendars(seal, calendars, at, zone=zone)
        assert calendars[zone].active_local(at.astimezone(ROME)) is restricted, (zone, at)
        if restricted:
            assert result.step is Step.WINDOW and not result.zone_inactive, (zone, at, result)
        else:
            assert result.valid and result.zone_inactive, (zone, at, result)
            assert result.reason == f"valid; zone {zone} is not restricted at that time"
