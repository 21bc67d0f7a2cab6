"""Trust list and revocation list: signed JSON that verifiers cache to check seals offline.

Why this envelope and not JWS or CMS: a phone browser must verify it with WebCrypto alone. The
envelope is {"format", "alg": "ES256", "kid", "payload": base64url(JSON bytes), "signature":
base64url(raw r||s)}; the signature covers the payload bytes exactly as received, so nobody has to
re-serialise JSON the same way. The trust list is signed by the root CA (its public key is pinned by
the verifier); the revocation list by the list-signing key, whose certificate the trust list carries.
A verifier refuses a revocation list older (lower sequence) than the one it already holds.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from ztl.signing.keys import KeyPair, kid_of
from ztl.signing.seal import TrustedKey

FORMAT = "ztl-signed-json/1"
TRUST_LIST = "trust-list"
REVOCATIONS = "revocations"
MAX_LIST_BYTES = 8 * 1024 * 1024


class ListError(ValueError):
    """A list that must not be used; str() says why (bad signature, older sequence, ...)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ListError("a time in the list is not text")
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ListError("a time in the list has no offset")
    return parsed


def _der_b64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def _spki_b64(certificate: x509.Certificate) -> str:
    return base64.b64encode(
        certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode("ascii")


def sign_envelope(payload: Mapping[str, object], signer: KeyPair) -> bytes:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    r, s = decode_dss_signature(signer.key.sign(body, ec.ECDSA(hashes.SHA256())))
    envelope = {
        "format": FORMAT,
        "alg": "ES256",
        "kid": signer.kid.hex(),
        "payload": _b64url(body),
        "signature": _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big")),
    }
    return json.dumps(envelope, indent=1).encode("utf-8")


def open_envelope(data: bytes, public_key: ec.EllipticCurvePublicKey) -> dict[str, object]:
    """The payload, after checking the signature over its bytes; ListError otherwise."""
    if len(data) > MAX_LIST_BYTES:
        raise ListError("list larger than 8 MiB")
    try:
        envelope = json.loads(data)
        if envelope.get("format") != FORMAT or envelope.get("alg") != "ES256":
            raise ListError(f"not a {FORMAT} ES256 envelope")
        body = _unb64url(envelope["payload"])
        signature = _unb64url(envelope["signature"])
    except ListError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ListError(f"malformed list: {exc.__class__.__name__}") from exc
    if len(signature) != 64:
        raise ListError("the signature is not 64 bytes")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ListError("the list's signature does not match: altered or forged") from exc
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ListError("the signed payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise ListError("the signed payload is not a JSON object")
    return payload


# --- the trust list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustList:
    issuer: str
    issued_at: dt.datetime
    next_update: dt.datetime
    seal_keys: Mapping[bytes, TrustedKey]
    list_signer: ec.EllipticCurvePublicKey
    list_signer_kid: bytes
    certificates: Mapping[bytes, x509.Certificate]  # seal certificates by kid


def build_trust_list(
    issuer: str,
    root: KeyPair,
    list_signer: KeyPair,
    seal_keys: Iterable[KeyPair],
    now: dt.datetime,
    next_update: dt.timedelta = dt.timedelta(days=1),
) -> bytes:
    payload = {
        "type": TRUST_LIST,
        "version": 1,
        "issuer": issuer,
        "issued_at": _iso(now),
        "next_update": _iso(now + next_update),
        "root": {"kid": root.kid.hex(), "certificate": _der_b64(root.certificate)},
        "list_signer": _entry(list_signer.certificate),
        "seal_keys": [_entry(pair.certificate) for pair in seal_keys],
    }
    return sign_envelope(payload, root)


def _entry(certificate: x509.Certificate) -> dict[str, str]:
    return {
        "kid": kid_of(certificate).hex(),
        "certificate": _der_b64(certificate),
        "public_key": _spki_b64(certificate),
        "valid_from": _iso(certificate.not_valid_before_utc),
        "valid_to": _iso(certificate.not_valid_after_utc),
    }


def load_trust_list(data: bytes, root_certificate: x509.Certificate) -> TrustList:
    """Verify a trust list against the pinned root; every certificate must be issued by it."""
    root_key = root_certificate.public_key()
    if not isinstance(root_key, ec.EllipticCurvePublicKey):
        raise ListError("the root certificate is not an EC key")
    payload = open_envelope(data, root_key)
    if payload.get("type") != TRUST_LIST:
        raise ListError("this is not a trust list")
    try:
        signer_cert = _certificate(payload["list_signer"], root_certificate)  # type: ignore[arg-type]
        keys: dict[bytes, TrustedKey] = {}
        certificates: dict[bytes, x509.Certificate] = {}
        for item in payload["seal_keys"]:  # type: ignore[attr-defined]
            certificate = _certificate(item, root_certificate)
            kid = kid_of(certificate)
            public_key = certificate.public_key()
            assert isinstance(public_key, ec.EllipticCurvePublicKey)
            keys[kid] = TrustedKey(
                kid,
                public_key,
                certificate.not_valid_before_utc,
                certificate.not_valid_after_utc,
            )
            certificates[kid] = certificate
        signer_key = signer_cert.public_key()
        assert isinstance(signer_key, ec.EllipticCurvePublicKey)
        return TrustList(
            issuer=str(payload["issuer"]),
            issued_at=_parse_iso(payload["issued_at"]),
            next_update=_parse_iso(payload["next_update"]),
            seal_keys=keys,
            list_signer=signer_key,
            list_signer_kid=kid_of(signer_cert),
            certificates=certificates,
        )
    except ListError:
        raise
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise ListError(f"malformed trust list: {exc.__class__.__name__}") from exc


def _certificate(item: Mapping[str, str], root: x509.Certificate) -> x509.Certificate:
    certificate = x509.load_der_x509_certificate(base64.b64decode(item["certificate"]))
    if item.get("kid") != kid_of(certificate).hex():
        raise ListError("a kid in the trust list does not match its certificate")
    try:
        certificate.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise ListError("a certificate in the trust list is not issued by the root") from exc
    return certificate


# --- the revocation list -----------------------------------------------------------------------


@dataclass(frozen=True)
class RevocationList:
    issuer: str
    sequence: int
    issued_at: dt.datetime
    next_update: dt.datetime
    revoked: Mapping[bytes, frozenset[bytes]]  # kid -> handles (first 16 bytes of SHA-256(cti))


def build_revocation_list(
    issuer: str,
    signer: KeyPair,
    sequence: int,
    revoked: Mapping[bytes, Iterable[bytes]],
    now: dt.datetime,
    next_update: dt.timedelta = dt.timedelta(hours=6),
) -> bytes:
    payload = {
        "type": REVOCATIONS,
        "version": 1,
        "issuer": issuer,
        "sequence": sequence,
        "issued_at": _iso(now),
        "next_update": _iso(now + next_update),
        "revoked": {
            kid.hex(): sorted(handle.hex() for handle in handles)
            for kid, handles in sorted(revoked.items())
        },
    }
    return sign_envelope(payload, signer)


def load_revocation_list(
    data: bytes, trust: TrustList, held_sequence: int | None = None
) -> RevocationList:
    """Verify with the trust list's list signer; refuse a list older than the one held."""
    payload = open_envelope(data, trust.list_signer)
    if payload.get("type") != REVOCATIONS:
        raise ListError("this is not a revocation list")
    try:
        sequence = int(payload["sequence"])  # type: ignore[call-overload]
        revoked = {
            bytes.fromhex(kid): frozenset(bytes.fromhex(h) for h in handles)
            for kid, handles in payload["revoked"].items()  # type: ignore[attr-defined]
        }
        result = RevocationList(
            issuer=str(payload["issuer"]),
            sequence=sequence,
            issued_at=_parse_iso(payload["issued_at"]),
            next_update=_parse_iso(payload["next_update"]),
            revoked=revoked,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ListError(f"malformed revocation list: {exc.__class__.__name__}") from exc
    if held_sequence is not None and sequence < held_sequence:
        raise ListError(
            f"revocation list {sequence} is older than the one already held ({held_sequence})"
        )
    return result
