"""The sealed and signed artefacts of a permit: seal text, then PDF, then the PAdES signature.

Kept apart from the transaction logic (ztl.permits.issuance) so renewals, plate changes and
counter issuance build documents the same way. Keys are checked before anything is written, and a
failure raises IssuanceError, which rolls back the caller's whole transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import object_session

from ztl.city.wording import zone_condition
from ztl.eligibility.service import DECLARED_KEY
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models import Application, Permit
from ztl.pdf.pool import SigningPool
from ztl.pdf.qr import QrTooLarge, qr_matrix
from ztl.pdf.render import PermitDocument
from ztl.pdf.sign import PdfSignatureError
from ztl.pdf.signed import signed_permit
from ztl.registries.adapter import RegistryAdapter
from ztl.rules.calendar import ZoneCalendar
from ztl.rules.municipality import Municipality
from ztl.signing.keys import KeyPair, KeyStore, KeyStoreError
from ztl.signing.seal import SealClaims, encode_seal
from ztl.values import InvalidValue


class IssuanceError(ServiceError):
    code = "issuance_failed"


@dataclass(frozen=True)
class SigningKeys:
    seal: KeyPair
    pdf: KeyPair
    root: KeyPair


def signing_keys(store: KeyStore, now: dt.datetime) -> SigningKeys:
    try:
        return SigningKeys(store.current_seal(now), store.pdf(), store.root())
    except KeyStoreError as exc:
        raise IssuanceError(str(exc), code="keys_missing") from exc


def window_text(start_minute: int, end_minute: int) -> str:
    return f"{start_minute // 60:02d}:{start_minute % 60:02d}-{end_minute // 60:02d}:{end_minute % 60:02d}"


def seal_claims(permit: Permit, issuer: str, seal_id: bytes) -> SealClaims:
    return SealClaims(
        issuer=issuer,
        seal_id=seal_id,
        issued_at=permit.issued_at,
        valid_from=permit.valid_from,
        valid_to=permit.valid_to,
        permit_number=permit.number,
        plates=tuple(p.plate for p in permit.plates),
        zones=tuple(z.code for z in permit.zones),
        category=permit.category.code,
        windows=tuple(window_text(w.start_minute, w.end_minute) for w in permit.windows),
    )


@dataclass(frozen=True)
class Holder:
    name: str
    address: str


def holder_of(subject_id: str, registers: RegistryAdapter, fallback_name: str) -> Holder:
    """Name and address for the holder's part of the PDF, from the registers where they are."""
    try:
        if len(subject_id) == 11:
            business = registers.business(subject_id)
            if business is not None:
                return Holder(business.name, f"{business.street} {business.house_number}")
        else:
            person = registers.resident(subject_id)
            if person is not None:
                return Holder(
                    f"{person.given_name} {person.family_name}",
                    f"{person.street} {person.house_number}",
                )
    except InvalidValue:  # a holder id the registers cannot read: the PDF still names it
        pass
    return Holder(fallback_name or subject_id, "")


def _declared_vehicle(permit: Permit) -> bool:
    """Whether the permit was issued on the applicant's declaration of a vehicle outside the
    register (a visitor's, a hotel guest's): an officer reading the PDF must know the data were
    not read from the register."""
    session = object_session(permit)
    if session is None or permit.application_id is None:
        return False
    application = session.get(Application, permit.application_id)
    return application is not None and DECLARED_KEY in (application.details or {})


def conditions(permit: Permit, rules: Municipality) -> tuple[tuple[str, str], ...]:
    """What the holder must know, in Italian and English: the permit's own hours, each zone's
    calendar as the enforcement index and the seal verifiers apply it, the garage rule."""
    result = []
    by_calendar: dict[ZoneCalendar, list[str]] = {}
    for zone in sorted(z.code for z in permit.zones):
        try:
            by_calendar.setdefault(rules.zone(zone).calendar, []).append(zone)
        except KeyError:  # a zone withdrawn from the rules: its permits keep their snapshot
            continue
    for calendar, zones in by_calendar.items():
        condition = zone_condition(zones, calendar)
        if condition is not None:
            result.append(condition)
    if permit.windows:
        result.append(
            (
                "Valido solo nelle fasce orarie indicate (ora locale).",
                "Valid only during the hours shown (local time).",
            )
        )
    if _declared_vehicle(permit):
        result.append(
            (
                "Veicolo non presente nel registro: dati dichiarati dal richiedente, sotto la sua "
                "responsabilità.",
                "Vehicle not in the register: data declared by the applicant, on their "
                "responsibility.",
            )
        )
    if permit.category.code == "6":
        result.append(
            (
                "Solo transito per raggiungere o lasciare l'autorimessa dichiarata.",
                "Transit only, to reach or leave the declared garage.",
            )
        )
    return tuple(result)


def seal_document(
    permit: Permit,
    rules: Municipality,
    keys: SigningKeys,
    seal_id: bytes,
    holder: Holder,
    stamp_duty_cents: int,
) -> PermitDocument:
    """Seal the permit (fills its seal fields) and describe its PDF; nothing is rendered yet."""
    claims = seal_claims(permit, rules.code, seal_id)
    seal = encode_seal(claims, keys.seal.key, keys.seal.kid)
    try:
        qr_matrix(seal)
    except QrTooLarge as exc:
        raise IssuanceError(
            f"{exc}: fewer plates or zones per permit", code="seal_too_large"
        ) from exc
    permit.seal_id = seal_id.hex()
    permit.seal_kid = keys.seal.kid.hex()
    permit.seal_text = seal
    return PermitDocument(
        municipality=rules.name,
        number=permit.number,
        category_code=permit.category.code,
        category_name_it=permit.category.name_it,
        category_name_en=permit.category.name_en,
        plates=claims.plates,
        zones=claims.zones,
        windows=claims.windows,
        valid_from=permit.valid_from,
        valid_to=permit.valid_to,
        issued_at=permit.issued_at,
        seal=seal,
        holder_name=holder.name,
        holder_id=permit.holder_id,
        holder_address=holder.address,
        fee_cents=permit.fee_cents,
        stamp_duty_cents=stamp_duty_cents,
        timezone=rules.timezone,
        conditions=conditions(permit, rules),
    )


def render_and_sign(document: PermitDocument, pdf_key: KeyPair, root: KeyPair) -> bytes:
    """The signed PDF (ztl.pdf.signed), a signing failure turned into IssuanceError."""
    try:
        return signed_permit(document, pdf_key, root)
    except PdfSignatureError as exc:
        raise IssuanceError(str(exc), code="signing_failed") from exc


def render_and_sign_all(
    documents: list[PermitDocument], keys: SigningKeys, pool: SigningPool | None
) -> list[bytes]:
    """Several signed PDFs: in the pool's worker processes when there is one and more than one
    document, else here; a signing failure is IssuanceError either way."""
    if pool is None or len(documents) < 2:
        return [render_and_sign(document, keys.pdf, keys.root) for document in documents]
    try:
        return pool.render_and_sign(documents)
    except PdfSignatureError as exc:
        raise IssuanceError(str(exc), code="signing_failed") from exc
