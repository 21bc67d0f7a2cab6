"""COSE_Sign1 (RFC 9052) with ES256, over cbor2 and cryptography.

Why not a COSE library: pycose 1.1.0 cannot decode with cbor2 6.x (seal-format.md), and Sign1 with
one algorithm is small. The signature is verified over the protected-header bytes as received,
never re-encoded; cryptography's DER ECDSA signatures are converted to COSE's raw r||s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ALG = 1
KID = 4
ES256 = -7
SIGN1_TAG = 18
_P256_BYTES = 32


class CoseError(ValueError):
    """A structure that is not a valid COSE_Sign1; str() says what is wrong."""


@dataclass(frozen=True)
class Sign1:
    protected_bytes: bytes
    protected: Mapping[Any, Any]
    unprotected: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    @property
    def kid(self) -> bytes | None:
        value = self.protected.get(KID)
        return value if isinstance(value, bytes) else None


def _to_be_signed(protected_bytes: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected_bytes, b"", payload])


def sign1(payload: bytes, key: ec.EllipticCurvePrivateKey, kid: bytes) -> bytes:
    protected_bytes = cbor2.dumps({ALG: ES256, KID: kid})
    der = key.sign(_to_be_signed(protected_bytes, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(_P256_BYTES, "big") + s.to_bytes(_P256_BYTES, "big")
    return cbor2.dumps(cbor2.CBORTag(SIGN1_TAG, [protected_bytes, {}, payload, signature]))


def parse_sign1(data: bytes) -> Sign1:
    try:
        decoded = cbor2.loads(data)
    except Exception as exc:  # cbor2 raises several error types for malformed input
        raise CoseError(f"not CBOR: {exc}") from exc
    if isinstance(decoded, cbor2.CBORTag):
        if decoded.tag != SIGN1_TAG:
            raise CoseError(f"CBOR tag {decoded.tag} is not COSE_Sign1 (18)")
        decoded = decoded.value
    # cbor2 6 decodes arrays inside tags as tuples and maps as immutable mappings.
    if not (isinstance(decoded, list | tuple) and len(decoded) == 4):
        raise CoseError("COSE_Sign1 must be an array of 4 items")
    protected_bytes, unprotected, payload, signature = decoded
    if not isinstance(protected_bytes, bytes) or not isinstance(payload, bytes):
        raise CoseError("protected header and payload must be byte strings")
    if not isinstance(unprotected, Mapping) or not isinstance(signature, bytes):
        raise CoseError("unprotected header must be a map and the signature bytes")
    try:
        protected = cbor2.loads(protected_bytes) if protected_bytes else {}
    except Exception as exc:
        raise CoseError(f"protected header is not CBOR: {exc}") from exc
    if not isinstance(protected, Mapping):
        raise CoseError("protected header must be a map")
    return Sign1(protected_bytes, protected, unprotected, payload, signature)


def verify_sign1(message: Sign1, public_key: ec.EllipticCurvePublicKey) -> bool:
    """True when the ES256 signature is valid; alg must be in the protected header."""
    if message.protected.get(ALG) != ES256 or len(message.signature) != 2 * _P256_BYTES:
        return False
    r = int.from_bytes(message.signature[:_P256_BYTES], "big")
    s = int.from_bytes(message.signature[_P256_BYTES:], "big")
    try:
        public_key.verify(
            encode_dss_signature(r, s),
            _to_be_signed(message.protected_bytes, message.payload),
            ec.ECDSA(hashes.SHA256()),
        )
    except (InvalidSignature, ValueError):
        return False
    return True
