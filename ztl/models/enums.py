"""Closed vocabularies stored as short strings (readable in SQL, checked by constraints)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    POLICE = "police"
    ADMIN = "admin"


class TokenRole(StrEnum):
    POLICE = "police"
    GATE = "gate"


class ResidentStatus(StrEnum):
    RESIDENT = "resident"
    EMIGRATED = "emigrated"
    DECEASED = "deceased"


class VehicleUsage(StrEnum):
    OWNED = "owned"
    LEASING = "leasing"
    RENTAL = "rental"
    COMPANY = "company"


class VehicleStatus(StrEnum):
    ACTIVE = "active"
    DEREGISTERED = "deregistered"
    STOLEN = "stolen"


class Fuel(StrEnum):
    PETROL = "petrol"
    DIESEL = "diesel"
    LPG = "lpg"
    CNG = "cng"
    HYBRID = "hybrid"
    ELECTRIC = "electric"
    HYDROGEN = "hydrogen"


class Parity(StrEnum):
    ALL = "all"
    ODD = "odd"
    EVEN = "even"


class BusinessStatus(StrEnum):
    ACTIVE = "active"
    CEASED = "ceased"


class DelegationStatus(StrEnum):
    """A person's delegation to act for a firm: asked, then decided by a clerk, or revoked."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    DOCUMENTS_REQUESTED = "documents_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ISSUED = "issued"


class PositionState(StrEnum):
    """A debt position at the payment intermediary (ztl.payments.positions says how it moves)."""

    OPENING = "opening"  # stored here, not yet confirmed by the intermediary
    OPEN = "open"  # payable
    PAID = "paid"  # a receipt was accepted
    CANCELLING = "cancelling"  # cancelled here, the intermediary not yet told
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class TransitStatus(StrEnum):
    """Where a gate's reading stands in the transit ledger (ztl.transits says how it moves)."""

    AUTHORIZED = "authorized"  # covered when read: no plate kept
    PENDING = "pending"  # not covered yet; a retroactive registration may still cover it
    CLEARED = "cleared"  # covered by a registration that came later: plate dropped
    VIOLATION = "violation"  # the window closed uncovered: waiting for an officer
    CONFIRMED = "confirmed"  # the officer confirmed it: ready for the fines system
    DISMISSED = "dismissed"  # the officer dismissed it, with a reason
    HELD = "held"  # read at a gate the city does not know: judged once the gate is configured


class Dismissal(StrEnum):
    """Why an officer dismissed a violation."""

    EMERGENCY = "emergency"  # an emergency or police vehicle on duty
    MISREAD = "misread"  # the camera misread the plate
    LATE_PERMIT = "late_permit"  # a permit covering it was entered late
    OTHER = "other"  # said in the note


class RefundReason(StrEnum):
    """Why money that arrived goes back to the payer."""

    REJECTED = "rejected"  # the application was refused and the rules say to refund
    WITHDRAWN = "withdrawn"  # withdrawn after payment and the rules say to refund
    DOUBLE_PAYMENT = "double_payment"  # a second receipt for a paid position
    CANCELLED_NOTICE = "cancelled_notice"  # paid after the position was cancelled


class Outcome(StrEnum):
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    NEEDS_REVIEW = "needs_review"


class PermitStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REPLACED = "replaced"
    SURRENDERED = "surrendered"


class Decider(StrEnum):
    """Who decides a category's applications (permit catalogue, column "decided by")."""

    AUTOMATIC = "automatic"
    AUTOMATIC_IF_REGISTERED = "automatic_if_registered"
    CLERK = "clerk"


def check_in(column: str, enum: type[StrEnum]) -> str:
    """SQL for a CHECK constraint that keeps a column inside an enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"
