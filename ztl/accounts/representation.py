"""Who may act for a firm, and the delegations that let a person do so.

A firm's permits (business seat, firm vehicles), its hotel booklets and its guests' registrations
are asked for by people. Typing the firm's partita IVA used to be enough; now a person acts for a
firm in one of two capacities only:

- representative: the business register names them among the firm's legal representatives (the
  businesses file's `legal_representatives` column), matched on the account's codice fiscale
  (its person key, so an omocodic variant on either side is the same person);
- delegate: they asked for a delegation, with the signed delegation form and their identity
  document, and a clerk approved it. The delegate, any legal representative of the firm or a
  clerk may revoke it at any time; a refused, revoked or still pending delegation gives nothing.

`authority_for` answers the question and `require_authority` refuses with a stable code
("not_representative"); every action done for a firm records, in its event's data, the firm and
the capacity (`Authority.event_data`: {"for_firm": "...", "as": "representative"|"delegate"}).

Every change of a delegation is one transaction (unit_of_work) with its event. The two files are
checked and stored by the documents service (same types, sizes and folder as an application's);
they are written before the transaction and removed again if it fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, ServiceError, unit_of_work
from ztl.infrastructure.uploads import (
    StoredFile,
    check_upload,
    discard_upload,
    safe_name,
    store_upload,
    upload_folder,
)
from ztl.models import Event, FirmDelegation, FirmDelegationDocument, User
from ztl.models.enums import BusinessStatus, DelegationStatus
from ztl.permissions import (
    CLERKS,
    DELEGATE,
    NOT_AUTHORISED,
    REPRESENTATIVE,
    Authority,
    authority_for,
    firm_authorities,
    firm_id,
    has_role,
    is_representative,
)
from ztl.registries.facts import BusinessFact
from ztl.registries.sql import SqlRegistryAdapter

CLERK = "clerk"
# The two files a delegation is asked with, in the order the form shows them.
DELEGATION_DOCUMENTS = ("delegation_form", "identity_document")
LIVE = (DelegationStatus.REQUESTED.value, DelegationStatus.APPROVED.value)
MAX_REASON = 2000
LISTED = 200  # rows a list shows at most


class NotAuthorised(ServiceError):
    """The person may not act for this firm (stable code for pages, APIs and tests)."""

    code = "not_representative"


@dataclass(frozen=True)
class FirmRole:
    """A firm a person may act for, as a page lists it."""

    partita_iva: str
    name: str | None  # None when the firm is not (or no longer) in the business register
    capacity: str
    delegation_id: int | None = None
    ateco: str | None = None
    active: bool = False


@dataclass(frozen=True)
class Upload:
    """A file as the person sent it: the name their browser gave and the content."""

    original_name: str
    data: bytes


@dataclass(frozen=True)
class DelegationView:
    """A delegation with the firm's name, for the pages (no lazy loading in templates)."""

    delegation: FirmDelegation
    firm_name: str | None
    delegate_name: str
    delegate_email: str
    delegate_codice_fiscale: str | None


@dataclass(frozen=True)
class DelegationFile:
    """What a clerk sees of a delegation: the request, the firm in the register, the history."""

    view: DelegationView
    firm: BusinessFact | None
    representatives: tuple[str, ...]
    events: list[Event]


# --- authority --------------------------------------------------------------------------------


def require_authority(session: AnySession, user: User, partita_iva: str) -> Authority:
    """The person's authority for the firm, in the caller's transaction; NotAuthorised otherwise."""
    found = authority_for(user, partita_iva, session)
    if found is None:
        raise NotAuthorised(NOT_AUTHORISED)
    return found


def firms_of(user: User, session: AnySession | None = None) -> list[FirmRole]:
    """Every firm the person may act for (ztl.permissions decides), by name: as representative
    first, then as delegate."""
    session = session if session is not None else db.session
    registers = SqlRegistryAdapter(session)
    roles = [
        _role(registers.business(firm), firm, authority.capacity, authority.delegation_id)
        for firm, authority in firm_authorities(user, session).items()
    ]
    return sorted(roles, key=lambda r: ((r.name or "").casefold(), r.partita_iva))


def _role(fact: BusinessFact | None, firm: str, capacity: str, delegation: int | None) -> FirmRole:
    return FirmRole(
        partita_iva=firm,
        name=fact.name if fact else None,
        capacity=capacity,
        delegation_id=delegation,
        ateco=fact.ateco if fact else None,
        active=bool(fact and fact.status is BusinessStatus.ACTIVE),
    )


def firm_names(partite_iva: Iterable[str], session: AnySession | None = None) -> dict[str, str]:
    """The register's name of each firm that is in it."""
    registers = SqlRegistryAdapter(session if session is not None else db.session)
    names: dict[str, str] = {}
    for firm in set(partite_iva):
        if firm_id(firm) is None:
            continue
        fact = registers.business(firm)
        if fact is not None:
            names[firm] = fact.name
    return names


# --- delegations: asking ----------------------------------------------------------------------


def request_delegation(
    user: User,
    partita_iva: str,
    delegation_form: Upload,
    identity_document: Upload,
    at: dt.datetime | None = None,
) -> int:
    """Ask to act for a firm of the register; a clerk decides. The id of the new delegation."""
    firm = firm_id(partita_iva)
    if firm is None:
        raise ServiceError("invalid partita IVA", code="firm_invalid")
    files = dict(zip(DELEGATION_DOCUMENTS, (delegation_form, identity_document), strict=True))
    types = {kind: check_upload(upload.data) for kind, upload in files.items()}
    stored: list[Path] = []
    try:
        names = {}
        for kind, upload in files.items():
            path, name = store_upload(upload.data)
            stored.append(path)
            names[kind] = name
        with unit_of_work() as session:
            fact = SqlRegistryAdapter(session).business(firm)
            if fact is None or fact.status is not BusinessStatus.ACTIVE:
                raise ServiceError(
                    f"{firm} is not an active firm of the business register", code="firm_unknown"
                )
            if is_representative(user, firm, session):
                raise ServiceError(
                    "a legal representative needs no delegation", code="already_representative"
                )
            if _live_delegation(session, user.id, firm) is not None:
                raise ServiceError(
                    "a delegation for this firm is already asked or approved",
                    code="delegation_exists",
                )
            delegation = FirmDelegation(
                partita_iva=firm,
                delegate_user_id=user.id,
                status=DelegationStatus.REQUESTED.value,
                requested_at=at or dt.datetime.now(dt.UTC),
            )
            delegation.documents = [
                FirmDelegationDocument(
                    kind=kind,
                    original_name=safe_name(upload.original_name),
                    stored_name=names[kind],
                    content_type=types[kind],
                    size_bytes=len(upload.data),
                    sha256=hashlib.sha256(upload.data).hexdigest(),
                    uploaded_at=at or dt.datetime.now(dt.UTC),
                )
                for kind, upload in files.items()
            ]
            session.add(delegation)
            try:
                session.flush()
            except IntegrityError as exc:  # a twin asked at the same moment: the index refused
                raise ServiceError(
                    "a delegation for this firm is already asked or approved",
                    code="delegation_exists",
                ) from exc
            record_event(
                session,
                Actor.of_user(user),
                "delegation",
                delegation.id,
                "delegation_requested",
                data={
                    "firm": firm,
                    "delegate_user_id": user.id,
                    "documents": {d.kind: d.sha256 for d in delegation.documents},
                },
            )
            delegation_id = delegation.id
    except BaseException:
        for path in stored:
            discard_upload(path)
        raise
    return delegation_id


def _live_delegation(session: AnySession, user_id: int, firm: str) -> int | None:
    found = session.scalar(
        select(FirmDelegation.id).where(
            FirmDelegation.partita_iva == firm,
            FirmDelegation.delegate_user_id == user_id,
            FirmDelegation.status.in_(LIVE),
        )
    )
    return int(found) if found is not None else None


# --- delegations: deciding and revoking -------------------------------------------------------


def _locked(session: AnySession, delegation_id: int) -> FirmDelegation:
    delegation = session.execute(
        select(FirmDelegation).where(FirmDelegation.id == delegation_id).with_for_update()
    ).scalar_one_or_none()
    if delegation is None:
        raise ServiceError(f"no delegation {delegation_id}", code="not_found")
    return delegation


def _decide(
    delegation_id: int,
    clerk: User,
    status: DelegationStatus,
    at: dt.datetime | None,
    reason: str | None = None,
) -> None:
    """A clerk's decision on a requested delegation, in one transaction with its event. Only the
    permits office decides; a delegation decided already stays as it is."""
    if not has_role(clerk, CLERKS):
        raise ServiceError("only the permits office decides delegations", code="not_found")
    with unit_of_work() as session:
        delegation = _locked(session, delegation_id)
        if delegation.status != DelegationStatus.REQUESTED.value:
            raise ServiceError("the delegation was already decided", code="delegation_decided")
        delegation.status = status.value
        delegation.decided_at = at or dt.datetime.now(dt.UTC)
        delegation.decided_by_id = clerk.id
        if reason is not None:
            delegation.decision_reason = reason
        record_event(
            session,
            Actor.of_user(clerk),
            "delegation",
            delegation.id,
            f"delegation_{status.value}",
            reason=reason,
            data={"firm": delegation.partita_iva, "delegate_user_id": delegation.delegate_user_id},
        )


def approve_delegation(delegation_id: int, clerk: User, at: dt.datetime | None = None) -> None:
    """A clerk checked the form and the identity document: the delegate may act for the firm."""
    _decide(delegation_id, clerk, DelegationStatus.APPROVED, at)


def refuse_delegation(
    delegation_id: int, clerk: User, reason: str, at: dt.datetime | None = None
) -> None:
    """A clerk refuses, saying why (the person reads the reason)."""
    text = (reason or "").strip()[:MAX_REASON]
    if not text:
        if not has_role(clerk, CLERKS):
            raise ServiceError("only the permits office decides delegations", code="not_found")
        raise ServiceError("a refusal needs a reason", code="reason_missing")
    _decide(delegation_id, clerk, DelegationStatus.REFUSED, at, reason=text)


def revocation_capacity(session: AnySession, user: User, delegation: FirmDelegation) -> str | None:
    """In what capacity the user may revoke the delegation: clerk, delegate, representative."""
    if has_role(user, CLERKS):
        return CLERK
    if delegation.delegate_user_id == user.id:
        return DELEGATE
    if is_representative(user, delegation.partita_iva, session):
        return REPRESENTATIVE
    return None


def revoke_delegation(
    delegation_id: int, user: User, reason: str | None = None, at: dt.datetime | None = None
) -> None:
    """End a delegation (asked or approved) at once: by its delegate, a legal representative of
    the firm or a clerk. Anyone else is told it does not exist."""
    text = (reason or "").strip()[:MAX_REASON] or None
    with unit_of_work() as session:
        delegation = _locked(session, delegation_id)
        capacity = revocation_capacity(session, user, delegation)
        if capacity is None:
            raise ServiceError(f"no delegation {delegation_id}", code="not_found")
        if delegation.status not in LIVE:
            raise ServiceError("the delegation has already ended", code="not_revocable")
        delegation.status = DelegationStatus.REVOKED.value
        delegation.revoked_at = at or dt.datetime.now(dt.UTC)
        delegation.revoked_by_id = user.id
        delegation.revocation_reason = text
        record_event(
            session,
            Actor.of_user(user),
            "delegation",
            delegation.id,
            "delegation_revoked",
            reason=text,
            data={
                "firm": delegation.partita_iva,
                "delegate_user_id": delegation.delegate_user_id,
                "as": capacity,
            },
        )


# --- what pages show --------------------------------------------------------------------------


def _views(session: AnySession, rows: list[FirmDelegation]) -> list[DelegationView]:
    names = firm_names((d.partita_iva for d in rows), session)
    people = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_({d.delegate_user_id for d in rows}))
        )
    }
    views = []
    for d in rows:
        person = people.get(d.delegate_user_id)
        views.append(
            DelegationView(
                delegation=d,
                firm_name=names.get(d.partita_iva),
                delegate_name=person.full_name if person else "",
                delegate_email=person.email if person else "",
                delegate_codice_fiscale=person.codice_fiscale if person else None,
            )
        )
    return views


def delegations_of(user: User) -> list[DelegationView]:
    """The person's own delegations, every status, newest first."""
    session = db.session
    rows = list(
        session.scalars(
            select(FirmDelegation)
            .where(FirmDelegation.delegate_user_id == user.id)
            .options(selectinload(FirmDelegation.documents))
            .order_by(FirmDelegation.id.desc())
            .limit(LISTED)
        )
    )
    return _views(session, rows)


def delegations_to_firms_of(user: User) -> list[DelegationView]:
    """The live delegations (asked or approved) to the firms the person legally represents:
    theirs to watch and to revoke."""
    if not user.codice_fiscale:
        return []
    session = db.session
    firms = SqlRegistryAdapter(session).firms_represented_by(user.codice_fiscale)
    if not firms:
        return []
    rows = list(
        session.scalars(
            select(FirmDelegation)
            .where(FirmDelegation.partita_iva.in_(firms), FirmDelegation.status.in_(LIVE))
            .order_by(FirmDelegation.partita_iva, FirmDelegation.id.desc())
            .limit(LISTED)
        )
    )
    return _views(session, rows)


def delegation_queue() -> tuple[list[DelegationView], list[DelegationView]]:
    """For clerks: the delegations waiting for a decision (oldest first), and the approved ones
    in force (newest first)."""
    session = db.session
    waiting = list(
        session.scalars(
            select(FirmDelegation)
            .where(FirmDelegation.status == DelegationStatus.REQUESTED.value)
            .order_by(FirmDelegation.requested_at, FirmDelegation.id)
            .limit(LISTED)
        )
    )
    approved = list(
        session.scalars(
            select(FirmDelegation)
            .where(FirmDelegation.status == DelegationStatus.APPROVED.value)
            .order_by(FirmDelegation.decided_at.desc(), FirmDelegation.id.desc())
            .limit(LISTED)
        )
    )
    return _views(session, waiting), _views(session, approved)


def delegation_file(delegation_id: int) -> DelegationFile:
    """A delegation as a clerk reviews it; ServiceError "not_found" when there is none."""
    session = db.session
    delegation = session.get(FirmDelegation, delegation_id)
    if delegation is None:
        raise ServiceError(f"no delegation {delegation_id}", code="not_found")
    registers = SqlRegistryAdapter(session)
    events = list(
        session.scalars(
            select(Event)
            .where(Event.subject_type == "delegation", Event.subject_id == str(delegation_id))
            .order_by(Event.occurred_at, Event.id)
        )
    )
    (view,) = _views(session, [delegation])
    return DelegationFile(
        view=view,
        firm=registers.business(delegation.partita_iva),
        representatives=registers.representatives(delegation.partita_iva),
        events=events,
    )


def open_delegation_document(document_id: int, user: User) -> StoredFile:
    """A delegation's file, for clerks only; anyone else gets "not found"."""
    document = db.session.get(FirmDelegationDocument, document_id)
    if document is None or not has_role(user, CLERKS):
        raise ServiceError(f"no document {document_id}", code="not_found")
    path = upload_folder() / document.stored_name
    found = StoredFile(path, document.content_type, document.original_name)
    if not path.is_file():
        raise ServiceError("the stored file is missing", code="file_missing")
    return found
