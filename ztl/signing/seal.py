"""The permit seal: a CWT in a COSE_Sign1, deflated, Base45, prefixed "ZTL1:" (seal-format.md).

Verification follows the spec's order and names the first step that fails: parse (inflated size
capped) -> known kid -> signature -> nbf/exp with 5 minutes of tolerance -> revocation -> zone and
window at the given time -> plate. Only SealError's reasons leave this module for bad input.

The window step asks the zone's calendar first, when the check names a zone and the verifier has
the municipality's calendars: outside the hours a zone is restricted no permit is needed there, so
the permit's own hours do not matter and the step passes, saying so (`zone_inactive`). The
browser verifier (static/js/seal/verify.js with calendar.js) decides the same from the same data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from ztl.rules.calendar import ZoneCalendar
from ztl.rules.windows import WindowError, covered, local_time, parse_window
from ztl.signing.base45 import Base45Error, b45decode, b45encode
from ztl.signing.cose import CoseError, parse_sign1, sign1, verify_sign1

PREFIX = "ZTL1:"
MAX_TEXT = 4096  # a version-11 QR holds far less; longer text is refused before decoding
MAX_INFLATED = 16 * 1024  # zlib bombs: never inflate beyond this
CLOCK_TOLERANCE = dt.timedelta(minutes=5)
SCHEMA_VERSION = 1
CLAIM_ISS, CLAIM_EXP, CLAIM_NBF, CLAIM_IAT, CLAIM_CTI = 1, 4, 5, 6, 7
CLAIM_PERMIT = -65537


class Step(StrEnum):
    """The verification steps, in order; a refusal names the first that failed."""

    PARSE = "parse"
    KID = "unknown_kid"
    SIGNATURE = "signature"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ZONE = "zone"
    WINDOW = "window"
    PLATE = "plate"


@dataclass(frozen=True)
class SealClaims:
    issuer: str
    seal_id: bytes  # cti: 8 random bytes, also the revocation handle
    issued_at: dt.datetime
    valid_from: dt.datetime
    valid_to: dt.datetime
    permit_number: str
    plates: tuple[str, ...]
    zones: tuple[str, ...]
    category: str
    windows: tuple[str, ...] = ()  # "HH:MM-HH:MM" in Europe/Rome; empty: always


@dataclass(frozen=True)
class TrustedKey:
    kid: bytes
    public_key: ec.EllipticCurvePublicKey
    valid_from: dt.datetime
    valid_to: dt.datetime


@dataclass(frozen=True)
class SealCheck:
    """What the verifier asks, besides genuineness: here, now, this plate."""

    at: dt.datetime
    zone: str | None = None
    plate: str | None = None


@dataclass(frozen=True)
class SealResult:
    valid: bool
    step: Step | None  # the first failed step, None when valid
    reason: str
    claims: SealClaims | None = None
    kid: bytes | None = None
    revoked: bool = False
    details: Mapping[str, object] = field(default_factory=dict)
    # The zone of the check is not restricted at its instant (its calendar says so): no permit is
    # needed there then, whatever the permit's hours. Only known once the window step is reached.
    zone_inactive: bool = False


class SealError(ValueError):
    def __init__(self, step: Step, reason: str) -> None:
        super().__init__(reason)
        self.step = step


def _epoch(value: dt.datetime) -> int:
    return int(value.timestamp())


def encode_seal(claims: SealClaims, key: ec.EllipticCurvePrivateKey, kid: bytes) -> str:
    payload: dict[int, object] = {
        CLAIM_ISS: claims.issuer,
        CLAIM_CTI: claims.seal_id,
        CLAIM_IAT: _epoch(claims.issued_at),
        CLAIM_NBF: _epoch(claims.valid_from),
        CLAIM_EXP: _epoch(claims.valid_to),
        CLAIM_PERMIT: {
            "v": SCHEMA_VERSION,
            "pn": claims.permit_number,
            "pl": list(claims.plates),
            "z": list(claims.zones),
            "c": claims.category,
            **({"w": list(claims.windows)} if claims.windows else {}),
        },
    }
    signed = sign1(cbor2.dumps(payload), key, kid)
    return PREFIX + b45encode(zlib.compress(signed, 9))


def revocation_handle(seal_id: bytes) -> bytes:
    """What revocation lists carry: the first 16 bytes of SHA-256(cti), never the cti itself."""
    return hashlib.sha256(seal_id).digest()[:16]


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_INFLATED + 1)
    except zlib.error as exc:
        raise SealError(Step.PARSE, f"not zlib data: {exc}") from exc
    if len(out) > MAX_INFLATED or inflater.unconsumed_tail:
        raise SealError(Step.PARSE, f"inflated seal larger than {MAX_INFLATED} bytes")
    if not inflater.eof:
        raise SealError(Step.PARSE, "truncated zlib data")
    return out


def _claims(payload: bytes) -> SealClaims:
    try:
        data = cbor2.loads(payload)
        permit = data[CLAIM_PERMIT]
        if permit.get("v") != SCHEMA_VERSION:
            raise SealError(Step.PARSE, f"unknown seal schema version {permit.get('v')!r}")
        claims = SealClaims(
            issuer=str(data[CLAIM_ISS]),
            seal_id=bytes(data[CLAIM_CTI]),
            issued_at=dt.datetime.fromtimestamp(int(data[CLAIM_IAT]), dt.UTC),
            valid_from=dt.datetime.fromtimestamp(int(data[CLAIM_NBF]), dt.UTC),
            valid_to=dt.datetime.fromtimestamp(int(data[CLAIM_EXP]), dt.UTC),
            permit_number=str(permit["pn"]),
            plates=tuple(str(p) for p in permit["pl"]),
            zones=tuple(str(z) for z in permit["z"]),
            category=str(permit["c"]),
            windows=tuple(str(w) for w in permit.get("w", [])),
        )
    except SealError:
        raise
    except Exception as exc:  # any shape error in a decoded payload is a parse failure
        raise SealError(Step.PARSE, f"claims are malformed: {exc.__class__.__name__}") from exc
    if len(claims.seal_id) != 8:
        raise SealError(Step.PARSE, "cti must be 8 bytes")
    return claims


def verify_seal(
    text: str,
    trusted: Mapping[bytes, TrustedKey],
    revoked: Mapping[bytes, frozenset[bytes]],
    check: SealCheck,
    timezone: ZoneInfo,
    calendars: Mapping[str, ZoneCalendar] | None = None,
) -> SealResult:
    """Verify a seal in the spec's order; never raises for bad input, the result says why.

    `calendars` (zone code -> calendar, the municipality's rules): when the check names a zone
    that is not restricted at the instant, the window step passes. Without them, or for a zone
    they do not hold, the zone counts as restricted and only the permit's hours decide.
    """
    try:
        return _verify(text, trusted, revoked, check, timezone, calendars)
    except SealError as exc:
        return SealResult(False, exc.step, str(exc))


def _verify(
    text: str,
    trusted: Mapping[bytes, TrustedKey],
    revoked: Mapping[bytes, frozenset[bytes]],
    check: SealCheck,
    timezone: ZoneInfo,
    calendars: Mapping[str, ZoneCalendar] | None,
) -> SealResult:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise SealError(Step.PARSE, f"seal longer than {MAX_TEXT} characters")
    if not text.startswith(PREFIX):
        raise SealError(Step.PARSE, f"a seal starts with {PREFIX}")
    try:
        message = parse_sign1(_inflate(b45decode(text[len(PREFIX) :])))
    except (Base45Error, CoseError) as exc:
        raise SealError(Step.PARSE, str(exc)) from exc
    kid = message.kid
    if kid is None or kid not in trusted:
        raise SealError(Step.KID, "the signing key is not in the trust list")
    key = trusted[kid]
    if not verify_sign1(message, key.public_key):
        raise SealError(
            Step.SIGNATURE, "the signature does not match: the seal was altered or forged"
        )
    claims = _claims(message.payload)
    at = check.at
    if at.tzinfo is None or at.utcoffset() is None:
        raise SealError(Step.PARSE, "the verification time needs an offset")
    if at + CLOCK_TOLERANCE < claims.valid_from:
        return _refused(Step.NOT_YET_VALID, "the permit is not valid yet", claims, kid)
    if at - CLOCK_TOLERANCE > claims.valid_to:
        return _refused(Step.EXPIRED, "the permit has expired", claims, kid)
    if revocation_handle(claims.seal_id) in revoked.get(kid, frozenset()):
        return _refused(Step.REVOKED, "the permit has been revoked", claims, kid, revoked=True)
    if check.zone is not None and check.zone not in claims.zones:
        return _refused(Step.ZONE, f"the permit is not valid in zone {check.zone}", claims, kid)
    try:
        windows = tuple(parse_window(w) for w in claims.windows)
    except WindowError as exc:
        raise SealError(Step.PARSE, f"window in the seal is malformed: {exc}") from exc
    inactive = zone_not_restricted(check.zone, at, timezone, calendars)
    if not inactive and not covered(windows, at, timezone):
        hours = ", ".join(claims.windows)
        return _refused(Step.WINDOW, f"the permit is valid only {hours}", claims, kid)
    if check.plate is not None and check.plate not in claims.plates:
        reason = f"the permit is not for plate {check.plate}"
        return _refused(Step.PLATE, reason, claims, kid, zone_inactive=inactive)
    reason = f"valid; zone {check.zone} is not restricted at that time" if inactive else "valid"
    return SealResult(True, None, reason, claims, kid, zone_inactive=inactive)


def zone_not_restricted(
    zone: str | None,
    at: dt.datetime,
    timezone: ZoneInfo,
    calendars: Mapping[str, ZoneCalendar] | None,
) -> bool:
    """Whether the zone of a check is known not to be restricted at the instant (wall clock)."""
    if zone is None or calendars is None or zone not in calendars:
        return False
    return not calendars[zone].active_local(local_time(at, timezone))


def _refused(
    step: Step,
    reason: str,
    claims: SealClaims,
    kid: bytes,
    revoked: bool = False,
    zone_inactive: bool = False,
) -> SealResult:
    return SealResult(
        False, step, reason, claims, kid, revoked=revoked, zone_inactive=zone_inactive
    )
