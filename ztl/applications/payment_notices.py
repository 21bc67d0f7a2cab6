"""The payer's notices: an application's or a booklet's pagoPA notice, to its owner only.

Why a module of its own: the application page, the hotel page and the notice's PDF ask the same
two questions (which position, may this person see it), answered once here.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from ztl.applications.dashboard import own_application
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models import HotelBooklet, PaymentPosition, User
from ztl.models.enums import PositionState
from ztl.payments.notices import NoticeFacts, notice_facts, notice_pdf
from ztl.permissions import authority_for


def application_notice(application_id: int) -> NoticeFacts | None:
    """The application's latest notice (a cancelled one too: the page says it is cancelled)."""
    position = _latest(PaymentPosition.application_id == application_id)
    return notice_facts(position) if position is not None else None


def application_notice_pdf(application_id: int, user: User) -> bytes:
    own_application(application_id, user)
    return _pdf(_latest(PaymentPosition.application_id == application_id))


def booklet_notices(booklet_ids: list[int]) -> dict[int, NoticeFacts]:
    """The notices of the booklets a hotel's page lists (their owner is checked by the page's
    query, ztl.applications.hotel_guests)."""
    if not booklet_ids:
        return {}
    positions = db.session.scalars(
        select(PaymentPosition)
        .where(PaymentPosition.booklet_id.in_(booklet_ids))
        .order_by(PaymentPosition.id)
    )
    return {p.booklet_id: notice_facts(p) for p in positions if p.booklet_id is not None}


def booklet_notice_pdf(booklet_id: int, user: User) -> bytes:
    booklet = db.session.get(HotelBooklet, booklet_id)
    if booklet is None or authority_for(user, booklet.holder_id) is None:
        raise ServiceError(f"no booklet {booklet_id}", code="not_found")
    return _pdf(_latest(PaymentPosition.booklet_id == booklet_id))


def _latest(condition: ColumnElement[bool]) -> PaymentPosition | None:
    return db.session.scalars(
        select(PaymentPosition).where(condition).order_by(PaymentPosition.id.desc())
    ).first()


def _pdf(position: PaymentPosition | None) -> bytes:
    if position is None:
        raise ServiceError("no payment notice", code="not_found")
    facts = notice_facts(position)
    if facts.preparing:
        raise ServiceError("the notice is being prepared", code="notice_not_ready")
    if not facts.payable and facts.state != PositionState.PAID.value:
        # Cancelled or expired: a notice that would be refused at the bank is not handed out.
        # A paid one stays downloadable, as the record of what was paid.
        raise ServiceError("the notice can no longer be paid", code="not_found")
    return notice_pdf(position)
