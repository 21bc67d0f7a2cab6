"""PAdES B-B signatures on permit PDFs with pyHanko: applied last, checked against the root.

The signature covers the whole file; any later byte, including an incremental update appended
after signing, makes the check fail with its reason. Validation never fetches anything (the root
is pinned, our certificates carry no revocation URLs): it works offline, as `ztl verify` must.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ztl.signing.keys import KeyPair

FIELD_NAME = "FirmaComune"
# Room for the CMS signature (certificate chain included). Fixed, because pyHanko's default is to
# make a dummy signature first just to measure it, which doubles the cost of every permit; a
# signature that does not fit fails loudly (and the issuance rolls back), it is never truncated.
SIGNATURE_BYTES = 8192
# pyHanko logs expected refusals (tampered files) as warnings with tracebacks; the result says why.
logging.getLogger("pyhanko").setLevel(logging.ERROR)


class PdfSignatureError(ValueError):
    """The PDF could not be signed or is not a readable signed PDF; str() says why."""


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@lru_cache(maxsize=8)
def _signer(key_der: bytes, cert_der: bytes, root_der: bytes) -> signers.SimpleSigner:
    """Built once per key: parsing keys and certificates costs more than a signature."""
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert_der),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(root_der)]),
    )


def sign_pdf(pdf: bytes, pair: KeyPair, root: x509.Certificate, municipality: str) -> bytes:
    """The PDF with a PAdES B-B signature by the document certificate over every byte."""
    key_der = pair.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = _signer(
        key_der,
        pair.certificate.public_bytes(serialization.Encoding.DER),
        root.public_bytes(serialization.Encoding.DER),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="Rilascio del permesso ZTL / ZTL permit issued",
        location=municipality,
        name=municipality,
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        signed = signers.sign_pdf(writer, metadata, signer=signer, bytes_reserved=SIGNATURE_BYTES)
    except (PdfReadError, ValueError) as exc:
        raise PdfSignatureError(f"cannot sign the PDF: {exc}") from exc
    return signed.getvalue()


@dataclass(frozen=True)
class PdfSignatureCheck:
    """What a PDF reader would say, and the first reason it is not acceptable."""

    ok: bool
    reason: str
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    whole_file: bool = False
    signer: str = ""


def check_pdf_signature(pdf: bytes, root: x509.Certificate) -> PdfSignatureCheck:
    """Intact, valid, trusted against the pinned root, and covering the entire file."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return PdfSignatureCheck(False, f"not a readable PDF: {exc.__class__.__name__}")
    if not signatures:
        return PdfSignatureCheck(False, "the PDF carries no signature")
    if len(signatures) > 1:
        return PdfSignatureCheck(False, "the PDF carries more than one signature")
    context = ValidationContext(
        trust_roots=[_asn1_certificate(root)], allow_fetching=False, revocation_mode="soft-fail"
    )
    try:
        status: PdfSignatureStatus = validate_pdf_signature(signatures[0], context)
    except (SignatureValidationError, PdfReadError, ValueError, KeyError, TypeError) as exc:
        return PdfSignatureCheck(False, f"the signature cannot be validated: {exc}")
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
    result = PdfSignatureCheck(
        ok=False,
        reason="",
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        whole_file=whole,
        signer=signer,
    )
    if not status.intact:
        reason = "the document was changed after signing (digest mismatch)"
    elif not status.valid:
        reason = "the signature is not valid"
    elif not status.trusted:
        reason = "the signing certificate does not chain to the municipality's root"
    elif not whole:
        reason = "content was added after the signature (incremental update)"
    else:
        return PdfSignatureCheck(
            True, "signed by the municipality, intact", True, True, True, True, signer
        )
    return PdfSignatureCheck(
        False, reason, result.intact, result.valid, result.trusted, whole, signer
    )
