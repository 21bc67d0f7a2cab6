"""Everything held about a person, as one JSON document (GDPR art. 15 and 20: access, portability).

What is included: the account (never the password hash); every application and every permit the
person owns, by ztl.permissions' one rule, which is also what their dashboard lists: the ones held
under their codice fiscale in any omocodic spelling (issued at the counter too) or made by the
account, and those of the firms they may act for now. Applications come with their plates, zones,
answers, checks, documents (names, types, sizes: the files themselves are downloaded from the
application page) and history; permits with validity, plates, zones, windows and status (the signed
PDF is downloaded from the permit page). Then the e-mails sent; hotel booklets bought; the firms the
register names them a legal representative of, and their delegations to act for firms (with the
documents' names and types).

What is not: plate lookups by police and gates. They are processed for law enforcement (Directive
(EU) 2016/680, D.Lgs. 51/2018), whose access right is exercised through the police, and they are
anonymised after the retention period anyway. The export says so, so the omission is not silent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from ztl.eligibility.applicant_view import checks_for_applicant
from ztl.extensions import db
from ztl.models import (
    Application,
    BusinessRepresentative,
    Event,
    FirmDelegation,
    HotelBooklet,
    Notification,
    PaymentPosition,
    Permit,
    RefundRequest,
    User,
)
from ztl.permissions import owned_applications, owned_permits

FORMAT = "ztl-personal-data/1"
NOT_INCLUDED = (
    "Plate lookups by the police and by gates are processed for law enforcement (Directive (EU) "
    "2016/680) and are not part of this export; ask the municipal police. / Le consultazioni delle "
    "targhe da parte della polizia e dei varchi sono trattate per finalità di polizia e non sono "
    "in questo file; rivolgiti alla polizia municipale."
)


def _when(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _events(subject_type: str, ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    if not ids:
        return found
    rows = db.session.scalars(
        select(Event)
        .where(Event.subject_type == subject_type, Event.subject_id.in_([str(i) for i in ids]))
        .order_by(Event.occurred_at, Event.id)
    )
    for event in rows:
        found.setdefault(event.subject_id, []).append(
            {
                "at": _when(event.occurred_at),
                "by": event.actor_label,
                "action": event.action,
                "reason": event.reason,
            }
        )
    return found


def _notices(application_id: int) -> list[dict[str, Any]]:
    """The application's pagoPA notices as the payer knows them, and any refund owed."""
    positions = db.session.scalars(
        select(PaymentPosition)
        .where(PaymentPosition.application_id == application_id)
        .order_by(PaymentPosition.id)
    )
    notices = []
    for p in positions:
        refunds = db.session.scalars(select(RefundRequest).where(RefundRequest.position_id == p.id))
        notices.append(
            {
                "notice_number": p.notice_number,
                "payer": p.payer_tax_code,
                "reason": p.reason,
                "amount_cents": p.amount_cents,
                "expires_on": _when(p.expires_on),
                "state": p.state,
                "paid_at": _when(p.paid_at),
                "refunds": [
                    {
                        "amount_cents": r.amount_cents,
                        "reason": r.reason,
                        "done_at": _when(r.done_at),
                    }
                    for r in refunds
                ],
            }
        )
    return notices


def _applications(user: User) -> list[dict[str, Any]]:
    found = list(
        db.session.scalars(
            select(Application).where(owned_applications(user)).order_by(Application.id)
        )
    )
    history = _events("application", [a.id for a in found])
    return [
        {
            "number": a.id,
            "category": a.category.code,
            "status": a.status,
            "applicant": a.applicant_id,
            "plates": [{"plate": p.plate, "country": p.country} for p in a.plates],
            "zones": [z.code for z in a.zones],
            "requested_from": _when(a.requested_from),
            "details": a.details,
            "outcome": a.outcome,
            "checks": checks_for_applicant(a.verdict),
            "checked_at": _when(a.checked_at),
            "fee_cents": a.fee_cents,
            "stamp_duty_cents": a.stamp_duty_cents,
            "payment_reference": a.payment_reference,
            "paid_at": _when(a.paid_at),
            "payment_notices": _notices(a.id),
            "created_at": _when(a.created_at),
            "submitted_at": _when(a.submitted_at),
            "decided_at": _when(a.decided_at),
            "decision_reason": a.decision_reason,
            "documents": [
                {
                    "name": d.original_name,
                    "kind": d.kind,
                    "content_type": d.content_type,
                    "size_bytes": d.size_bytes,
                }
                for d in a.documents
            ],
            "history": history.get(str(a.id), []),
        }
        for a in found
    ]


def _permits(user: User) -> list[dict[str, Any]]:
    found = list(db.session.scalars(select(Permit).where(owned_permits(user)).order_by(Permit.id)))
    history = _events("permit", [p.id for p in found])
    return [
        {
            "number": p.number,
            "category": p.category.code,
            "status": p.status,
            "holder": p.holder_id,
            "plates": [{"plate": x.plate, "country": x.country} for x in p.plates],
            "zones": [z.code for z in p.zones],
            "windows": [
                {"start_minute": w.start_minute, "end_minute": w.end_minute, "weekdays": w.weekdays}
                for w in p.windows
            ],
            "valid_from": _when(p.valid_from),
            "valid_to": _when(p.valid_to),
            "issued_at": _when(p.issued_at),
            "fee_cents": p.fee_cents,
            "ended_at": _when(p.ended_at),
            "end_reason": p.end_reason,
            "history": history.get(str(p.id), []),
        }
        for p in found
    ]


def personal_data(user: User) -> dict[str, Any]:
    """The export for `user`: only what concerns them, never another person's data."""
    mails = db.session.scalars(
        select(Notification).where(Notification.recipient == user.email).order_by(Notification.id)
    )
    booklets = db.session.scalars(
        select(HotelBooklet).where(HotelBooklet.user_id == user.id).order_by(HotelBooklet.id)
    )
    return {
        "format": FORMAT,
        "exported_at": _when(dt.datetime.now(dt.UTC)),
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "codice_fiscale": user.codice_fiscale,
            "role": user.role,
            "language": user.language,
            "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at),
            "external_identities": [
                {"provider": i.provider, "since": _when(i.created_at)} for i in user.identities
            ],
        },
        "applications": _applications(user),
        "permits": _permits(user),
        "emails": [
            {
                "kind": m.kind,
                "subject": m.subject,
                "language": m.language,
                "created_at": _when(m.created_at),
                "sent_at": _when(m.sent_at),
            }
            for m in mails
        ],
        "hotel_booklets": [
            {
                "hotel": b.holder_id,
                "size": b.size,
                "used": b.used,
                "price_cents": b.price_cents,
                "paid_at": _when(b.paid_at),
            }
            for b in booklets
        ],
        "legal_representative_of": list(
            db.session.scalars(
                select(BusinessRepresentative.partita_iva)
                .where(BusinessRepresentative.person_key == user.person_key)
                .order_by(BusinessRepresentative.partita_iva)
            )
        )
        if user.person_key
        else [],
        "firm_delegations": _delegations(user),
        "not_included": NOT_INCLUDED,
    }


def _delegations(user: User) -> list[dict[str, Any]]:
    found = list(
        db.session.scalars(
            select(FirmDelegation)
            .where(FirmDelegation.delegate_user_id == user.id)
            .order_by(FirmDelegation.id)
        )
    )
    history = _events("delegation", [d.id for d in found])
    return [
        {
            "firm": d.partita_iva,
            "status": d.status,
            "requested_at": _when(d.requested_at),
            "decided_at": _when(d.decided_at),
            "decision_reason": d.decision_reason,
            "revoked_at": _when(d.revoked_at),
            "revocation_reason": d.revocation_reason,
            "documents": [
                {
                    "name": doc.original_name,
                    "kind": doc.kind,
                    "content_type": doc.content_type,
                    "size_bytes": doc.size_bytes,
                }
                for doc in d.documents
            ],
            "history": history.get(str(d.id), []),
        }
        for d in found
    ]
