"""The seal: encode, fit in a QR version 11-M, verify in the spec's order, refuse every tampering."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import zlib
from zoneinfo import ZoneInfo

import cbor2
import segno
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from ztl.signing.base45 import ALPHABET, b45decode, b45encode
from ztl.signing.cose import parse_sign1
from ztl.signing.seal import (
    PREFIX,
    SealCheck,
    SealClaims,
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
):  # type: ignore[no-untyped-def]
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
    assert qr.version <= 11, qr.version
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
