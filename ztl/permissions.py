"""Who may see and do what: the one place the system answers that question.

Two questions, two answers:
- roles: blueprints guard whole roles with `guard_blueprint`, so a new view cannot forget the check;
- ownership: a view, a service or the data export that touches one resident's record (an
  application, its documents, a permit) asks `owns_application` / `owns_permit`, and a list asks
  for the same records with `owned_applications` / `owned_permits` (a WHERE clause). Both are the
  rule written in `owns`, once; someone else's record is "not found", never shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, false, func, or_, select

from ztl.extensions import db
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.models import Application, FirmDelegation, Permit
from ztl.models.enums import DelegationStatus, Role
from ztl.registries.sql import SqlRegistryAdapter
from ztl.values import InvalidValue
from ztl.values.fiscal import omocodic_variants, parse_partita_iva

if TYPE_CHECKING:
    from sqlalchemy.orm import InstrumentedAttribute

    from ztl.infrastructure.unit_of_work import AnySession

RESIDENTS = frozenset({Role.RESIDENT})
CLERKS = frozenset({Role.CLERK, Role.SUPERVISOR, Role.ADMIN})
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
POLICE = frozenset({Role.POLICE, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

# The page each role lands on after signing in (endpoint names).
HOME_ENDPOINT: dict[str, str] = {
    Role.RESIDENT: "resident.home",
    Role.CLERK: "clerk.home",
    Role.SUPERVISOR: "supervisor.home",
    Role.POLICE: "police.home",
    Role.ADMIN: "admin.home",
}


def has_role(user: Any, roles: Iterable[str]) -> bool:
    """True when a signed-in, active user holds one of the roles."""
    return bool(
        getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and user.role in {str(r) for r in roles}
    )


def enforce(roles: Iterable[str]) -> None:
    """401 (to the login page) for anonymous users, 403 for a signed-in user without the role."""
    if not getattr(current_user, "is_authenticated", False):
        from ztl.extensions import login_manager

        abort(login_manager.unauthorized())
    if not has_role(current_user, roles):
        abort(403)


def guard_blueprint(blueprint: Blueprint, roles: Iterable[str]) -> None:
    """Every view of the blueprint requires one of the roles: a new view cannot forget the check."""
    allowed = frozenset(str(r) for r in roles)

    @blueprint.before_request
    def _require_role() -> None:
        if request.endpoint and request.endpoint.endswith(".static"):
            return
        enforce(allowed)


# --- ownership ---------------------------------------------------------------------------------

FIRM_ID_LENGTH = 11  # a partita IVA; a person's codice fiscale has 16 characters


def is_firm_id(subject_id: str) -> bool:
    """A record held for a firm (a partita IVA) rather than for a person (a codice fiscale)."""
    return len(subject_id) == FIRM_ID_LENGTH


def may_own(user: Any) -> bool:
    """Only an active resident account owns records (see `owns`)."""
    return has_role(user, RESIDENTS)


def _person_ids(user: Any) -> frozenset[str]:
    """Every spelling of the account's codice fiscale; none without a person key (frozen)."""
    key = getattr(user, "person_key", None)
    return omocodic_variants(key) if key else frozenset()


def owns(
    user: Any,
    subject_id: str | None,
    made_by_user_id: int | None,
    session: AnySession | None = None,
) -> bool:
    """Whether `user` owns a record held for `subject_id` (a permit's holder, an application's
    applicant) whose application was made by the account `made_by_user_id`. The portal's one rule:

    1. Only an active resident account owns anything. Staff reach records through their role,
       never by owning them: at the counter the clerk's account is the one that "made" the
       application, and that must give it nothing here. A frozen account (it had claimed a codice
       fiscale that an identity provider then asserted for somebody else) and a deactivated one
       own nothing: they cannot sign in, and a frozen account's person key is gone, so the records
       point only to the verified person.
    2. A person's record (a codice fiscale) belongs to the person it names: the account whose
       person key is the holder's, whatever omocodic spelling either side wrote. Not only to the
       account that applied: a permit issued at the counter was applied for by a clerk, yet its
       holder must see it, download it, change its plate and give it up, and their data export
       already listed it. The account that made the application owns it too; in every path the
       portal offers that is the same person, and it keeps a record reachable if its holder was
       written in a form no key matches.
    3. A firm's record (a partita IVA) belongs to the firm, so it is owned by whoever may act for
       the firm now (`authority_for` below: a legal representative in the business
       register, or a delegate a clerk approved), whoever applied. When a delegation is revoked or
       the register drops a representative, the firm's permits and applications go with it,
       including the ones that person applied for, as an employee leaves the firm's files behind;
       applying, paying, changing a plate or giving up a firm's permit all need the authority of
       the moment.

    An account whose codice fiscale was typed at registration rather than asserted by SPID/CIE
    (development only; production refuses such accounts) counts like a verified one: its person
    key already decides its eligibility, its household's limits and the firms it represents, and
    a provider's first sign-in for that codice fiscale freezes it if the claim was false.

    Why one rule: three services used to decide with three rules (the account that applied, the
    holder's codice fiscale as typed, the firm's current authority), so a counter-issued permit
    was in its holder's data export but missing from their dashboard, its pages answering 404.
    `owned_permits` and `owned_applications` are this function as SQL; tests check they agree.
    """
    if not may_own(user):
        return False
    subject = subject_id or ""
    if is_firm_id(subject):
        return authority_for(user, subject, session) is not None
    return made_by_user_id == user.id or subject in _person_ids(user)


def owns_permit(user: Any, permit: Permit | None, session: AnySession | None = None) -> bool:
    """`owns` for a permit: held for `holder_id`; `holder_user_id` is the account that applied
    (kept through plate changes and renewals)."""
    if permit is None:
        return False
    return owns(user, permit.holder_id, permit.holder_user_id, session)


def owns_application(
    user: Any, application: Application | None, session: AnySession | None = None
) -> bool:
    """`owns` for an application (and so for its documents): made by `user_id` for
    `applicant_id`."""
    if application is None:
        return False
    return owns(user, application.applicant_id, application.user_id, session)


def _owned(
    user: Any,
    subject: InstrumentedAttribute[str],
    made_by: InstrumentedAttribute[int | None],
    session: AnySession | None,
) -> ColumnElement[bool]:
    """`owns` as a WHERE clause over a table's subject and made-by columns."""
    if not may_own(user):
        return false()
    held = [and_(made_by == user.id, func.length(subject) != FIRM_ID_LENGTH)]
    persons = _person_ids(user)
    if persons:
        held.append(subject.in_(sorted(persons)))
    firms = firm_ids_of(user, session)
    if firms:
        held.append(subject.in_(firms))
    return or_(*held)


def owned_permits(user: Any, session: AnySession | None = None) -> ColumnElement[bool]:
    """The permits `user` owns, as a WHERE clause: `select(Permit).where(owned_permits(user))`."""
    return _owned(user, Permit.holder_id, Permit.holder_user_id, session)


def owned_applications(user: Any, session: AnySession | None = None) -> ColumnElement[bool]:
    """The applications `user` owns, as a WHERE clause (see `owned_permits`)."""
    return _owned(user, Application.applicant_id, Application.user_id, session)


# --- acting for a firm ----------------------------------------------------------------------------

REPRESENTATIVE = "representative"
DELEGATE = "delegate"
NOT_AUTHORISED = "you are neither a legal representative nor an approved delegate of this firm"


@dataclass(frozen=True)
class Authority:
    """Why a person may act for a firm: as its representative, or as the delegate of a delegation."""

    partita_iva: str
    capacity: str  # REPRESENTATIVE or DELEGATE
    delegation_id: int | None = None

    def event_data(self) -> dict[str, Any]:
        """What an event of an action done for the firm records about who acted and how."""
        data: dict[str, Any] = {"for_firm": self.partita_iva, "as": self.capacity}
        if self.delegation_id is not None:
            data["delegation"] = self.delegation_id
        return data


def firm_id(raw: str) -> str | None:
    """A partita IVA as the registers key it, or None when it is not one."""
    try:
        return parse_partita_iva((raw or "").strip())
    except InvalidValue:
        return None


def is_representative(user: Any, firm: str, session: AnySession) -> bool:
    """The business register names the account's person as a legal representative of the firm
    (a normalised partita IVA). The one test of it, for ownership and for the delegations."""
    return bool(
        getattr(user, "person_key", None)
        and user.person_key in SqlRegistryAdapter(session).representatives(firm)
    )


def authority_for(
    user: Any, partita_iva: str, session: AnySession | None = None
) -> Authority | None:
    """Representative (the business register names the account's codice fiscale), delegate (an
    approved delegation of the account), or None; an invalid partita IVA is None too.

    Why here: whether someone may act for a firm decides what they own (`owns`), and the
    delegations' use cases (ztl.accounts.representation) ask the same question; one answer, below
    both, keeps the two from importing each other.
    """
    firm = firm_id(partita_iva)
    if firm is None or user is None or getattr(user, "id", None) is None:
        return None
    session = session if session is not None else db.session
    if is_representative(user, firm, session):
        return Authority(firm, REPRESENTATIVE)
    delegation_id = session.scalar(
        select(FirmDelegation.id)
        .where(
            FirmDelegation.partita_iva == firm,
            FirmDelegation.delegate_user_id == user.id,
            FirmDelegation.status == DelegationStatus.APPROVED.value,
        )
        .limit(1)
    )
    if delegation_id is not None:
        return Authority(firm, DELEGATE, int(delegation_id))
    return None


def authority_over(session: AnySession, user: Any, holder_id: str) -> Authority | None:
    """For something a firm holds (its holder is a partita IVA), the person's authority to act for
    the firm now, asked in the caller's transaction; ServiceError "not_representative" when they
    have none. None for what a person holds in their own name.

    Why asked again inside the use case: a delegation revoked between the page and the click must
    not let its former delegate act, and the event records in what capacity the person acted."""
    if len(holder_id) != 11:
        return None
    authority = authority_for(user, holder_id, session)
    if authority is None:
        raise ServiceError(NOT_AUTHORISED, code="not_representative")
    return authority


def firm_authorities(user: Any, session: AnySession | None = None) -> dict[str, Authority]:
    """Every firm the person may act for now, with the capacity: the same rule as
    `authority_for`, for all firms at once (representative wins over delegate)."""
    session = session if session is not None else db.session
    found: dict[str, Authority] = {}
    if getattr(user, "codice_fiscale", None):
        for firm in SqlRegistryAdapter(session).firms_represented_by(user.codice_fiscale):
            found[firm] = Authority(firm, REPRESENTATIVE)
    delegations = session.execute(
        select(FirmDelegation.partita_iva, FirmDelegation.id)
        .where(
            FirmDelegation.delegate_user_id == user.id,
            FirmDelegation.status == DelegationStatus.APPROVED.value,
        )
        .order_by(FirmDelegation.id)
    ).all()
    for firm, delegation_id in delegations:
        found.setdefault(firm, Authority(firm, DELEGATE, int(delegation_id)))
    return found


def firm_ids_of(user: Any, session: AnySession | None = None) -> list[str]:
    """The partite IVA of the firms the person may act for."""
    return sorted(firm_authorities(user, session))
