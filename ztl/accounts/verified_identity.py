"""Accounts for identities a provider asserted: who signs in when SPID, CIE or the municipality's
provider vouches for a person.

The rules, in one place:
- a provider's login (provider + subject) always leads back to the account it first opened;
- a citizens' provider (SPID, CIE) asserts a codice fiscale: the verified resident account of that
  person is used (several providers may lead to it), or one is created. Nobody else's account is
  ever reached, whatever they typed elsewhere;
- a resident account whose codice fiscale was self-declared (password registration, development
  only) is confirmed when the provider also asserts the e-mail it was registered with (the person
  controls that mailbox), and loses its password. Otherwise the self-declared identity was not theirs
  to claim: that account is frozen, its sessions end, and the verified person gets a new account.
  Both accounts' histories record it;
- the municipality's staff provider signs in existing staff accounts only (matched by the work
  e-mail it asserts): roles come from this system's administrators, never from a provider.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from ztl.accounts import browser_sessions
from ztl.identity.assertion import AssertedPerson
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, AnySession, unit_of_work
from ztl.models import ExternalIdentity, User, utcnow
from ztl.models.enums import Role
from ztl.values.fiscal import person_key

FROZEN = "identity asserted for another person"
# Accounts whose provider gave no e-mail get an address that cannot receive mail (RFC 2606):
# messages to it are recorded as not sent instead of going to a stranger.
NO_MAIL_DOMAIN = "senza-email.invalid"


class VerifiedRefusal(StrEnum):
    INACTIVE = "inactive"  # the account is deactivated or frozen
    STAFF_UNKNOWN = "staff_unknown"  # no staff account for what the staff provider asserted
    IDENTITY_CHANGED = "identity_changed"  # the provider's login now asserts another person


@dataclass(frozen=True)
class VerifiedSignIn:
    user: User | None
    refusal: VerifiedRefusal | None = None
    created: bool = False
    frozen_account_id: int | None = None


def _actor(person: AssertedPerson, user: User | None) -> Actor:
    return Actor(f"identity provider {person.provider}", user.id if user is not None else None)


def _touch(identity: ExternalIdentity, person: AssertedPerson) -> None:
    now = utcnow()
    identity.last_acr = person.acr or None
    identity.last_used_at = now
    identity.user.last_login_at = now


def _link(session: AnySession, user: User, person: AssertedPerson) -> ExternalIdentity:
    identity = ExternalIdentity(user=user, provider=person.provider, subject=person.subject)
    session.add(identity)
    record_event(
        session,
        _actor(person, user),
        "user",
        user.id,
        "identity_linked",
        data={"provider": person.provider, "acr": person.acr},
    )
    return identity


def _free_email(session: AnySession, person: AssertedPerson, key: str) -> str:
    """The asserted e-mail if no other account uses it, else an address that receives nothing."""
    if person.email and session.scalar(select(User.id).where(User.email == person.email)) is None:
        return person.email
    digest = hashlib.sha256(f"{person.provider}:{person.subject}:{key}".encode()).hexdigest()
    return f"{digest[:24]}@{NO_MAIL_DOMAIN}"


def sign_in_verified(person: AssertedPerson) -> VerifiedSignIn:
    """The account the asserted person signs in to, created or taken over as the rules say."""
    with unit_of_work() as session:
        identity = session.scalar(
            select(ExternalIdentity)
            .where(
                ExternalIdentity.provider == person.provider,
                ExternalIdentity.subject == person.subject,
            )
            .with_for_update()
        )
        if identity is not None:
            return _known_login(identity, person)
        if person.codice_fiscale is None:
            return _staff_login(session, person)
        return _citizen_first_login(session, person, person.codice_fiscale)


def _known_login(identity: ExternalIdentity, person: AssertedPerson) -> VerifiedSignIn:
    user = identity.user
    if not user.is_active:
        return VerifiedSignIn(None, VerifiedRefusal.INACTIVE)
    if person.codice_fiscale is not None and (user.person_key != person_key(person.codice_fiscale)):
        return VerifiedSignIn(None, VerifiedRefusal.IDENTITY_CHANGED)
    _touch(identity, person)
    return VerifiedSignIn(user)


def _staff_login(session: AnySession, person: AssertedPerson) -> VerifiedSignIn:
    if not person.email:
        return VerifiedSignIn(None, VerifiedRefusal.STAFF_UNKNOWN)
    user = session.scalar(
        select(User).where(User.email == person.email, User.role != Role.RESIDENT.value)
    )
    if user is None:
        return VerifiedSignIn(None, VerifiedRefusal.STAFF_UNKNOWN)
    if not user.is_active:
        return VerifiedSignIn(None, VerifiedRefusal.INACTIVE)
    _touch(_link(session, user, person), person)
    return VerifiedSignIn(user)


def _citizen_first_login(
    session: AnySession, person: AssertedPerson, codice_fiscale: str
) -> VerifiedSignIn:
    key = person_key(codice_fiscale)
    holder = session.scalar(
        select(User)
        .where(User.person_key == key, User.role == Role.RESIDENT.value)
        .order_by(User.id)
        .with_for_update()
    )
    frozen_id: int | None = None
    if holder is not None:
        if holder.identity_verified:
            if not holder.is_active:
                return VerifiedSignIn(None, VerifiedRefusal.INACTIVE)
            _touch(_link(session, holder, person), person)
            return VerifiedSignIn(holder)
        if person.email is not None and holder.email == person.email and holder.is_active:
            return _confirm(session, holder, person)
        frozen_id = _freeze(session, holder, person)
    user = User(
        email=_free_email(session, person, key),
        full_name=person.full_name or codice_fiscale,
        role=Role.RESIDENT.value,
        password_hash=None,
        codice_fiscale=codice_fiscale,
        person_key=key,
        identity_verified_by=person.provider,
        last_login_at=utcnow(),
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        _actor(person, user),
        "user",
        user.id,
        "registered",
        data={"provider": person.provider, "acr": person.acr, "took_over_from": frozen_id},
    )
    _touch(_link(session, user, person), person)
    return VerifiedSignIn(user, created=True, frozen_account_id=frozen_id)


def _confirm(session: AnySession, holder: User, person: AssertedPerson) -> VerifiedSignIn:
    """A self-declared account confirmed by the provider: verified from now on, password dropped
    (whoever knew it is no longer let in), other sessions ended."""
    holder.identity_verified_by = person.provider
    holder.password_hash = None
    browser_sessions.end_all(session, holder.id, "identity verified")
    record_event(
        session,
        _actor(person, holder),
        "user",
        holder.id,
        "identity_verified",
        data={"provider": person.provider, "acr": person.acr},
    )
    _touch(_link(session, holder, person), person)
    return VerifiedSignIn(holder)


def _freeze(session: AnySession, holder: User, person: AssertedPerson) -> int:
    """Freeze an account whose self-declared codice fiscale a provider asserted for somebody else.

    It keeps its codice fiscale for the history but no longer stands for the person (person_key
    cleared), so the person's household, permits and quota are reached only through the verified
    account.
    """
    holder.frozen_at = utcnow()
    holder.person_key = None
    holder.password_hash = None
    browser_sessions.end_all(session, holder.id, FROZEN)
    record_event(
        session,
        _actor(person, None),
        "user",
        holder.id,
        "frozen",
        reason=FROZEN,
        data={"provider": person.provider, "acr": person.acr},
    )
    return int(holder.id)
