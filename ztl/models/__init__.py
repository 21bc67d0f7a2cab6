"""Typed SQLAlchemy 2.0 models; importing this package registers every table on Base.metadata."""

from ztl.models.account import (
    ApiToken,
    BrowserSession,
    ExternalIdentity,
    RecoveryCode,
    SecondFactor,
    User,
)
from ztl.models.application import (
    Application,
    ApplicationPlate,
    ApplicationZone,
    Document,
)
from ztl.models.base import Base, UTCDateTime, utcnow
from ztl.models.city import Category, CategoryWindow, CategoryZone, City, Gate, Zone
from ztl.models.delegation import FirmDelegation, FirmDelegationDocument
from ztl.models.enforcement import EnforcementChange, EnforcementState, PlateLookup
from ztl.models.event import AuditChainHead, Event, RegistryImport
from ztl.models.hotel import GuestNight, HotelBooklet
from ztl.models.job_run import JobRun
from ztl.models.notification import Notification
from ztl.models.payment import PaymentNotification, PaymentPosition, RefundRequest
from ztl.models.permit import (
    Permit,
    PermitNumberCounter,
    PermitPlate,
    PermitWindow,
    PermitZone,
    RevocationListState,
)
from ztl.models.registers import (
    Badge,
    Business,
    BusinessRepresentative,
    Resident,
    StreetSegment,
    Vehicle,
)
from ztl.models.submission import FormSubmission
from ztl.models.transit import Transit, TransitHourCount, TransitRefusal

__all__ = [
    "ApiToken",
    "Application",
    "ApplicationPlate",
    "ApplicationZone",
    "AuditChainHead",
    "Badge",
    "Base",
    "BrowserSession",
    "Business",
    "BusinessRepresentative",
    "Category",
    "CategoryWindow",
    "CategoryZone",
    "City",
    "Document",
    "EnforcementChange",
    "EnforcementState",
    "Event",
    "ExternalIdentity",
    "FirmDelegation",
    "FirmDelegationDocument",
    "FormSubmission",
    "Gate",
    "GuestNight",
    "HotelBooklet",
    "JobRun",
    "Notification",
    "PaymentNotification",
    "PaymentPosition",
    "Permit",
    "PermitNumberCounter",
    "PermitPlate",
    "PermitWindow",
    "PermitZone",
    "PlateLookup",
    "RecoveryCode",
    "RefundRequest",
    "RegistryImport",
    "Resident",
    "RevocationListState",
    "SecondFactor",
    "StreetSegment",
    "Transit",
    "TransitHourCount",
    "TransitRefusal",
    "UTCDateTime",
    "User",
    "Vehicle",
    "Zone",
    "utcnow",
]
