"""People and machines that use the system: users, their external identities, API tokens, staff
second factors."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ztl.models.base import Base, utcnow
from ztl.models.enums import Role, TokenRole, check_in


class User(UserMixin, Base):
    """A person with a login. Residents are tied to a codice fiscale; staff are not."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(check_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    # Null for accounts that only sign in through an identity provider (SPID/CIE).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    codice_fiscale: Mapped[str | None] = mapped_column(String(16), index=True)
    # Canonical form (omocodia undone): the same person whatever variant they typed.
    person_key: Mapped[str | None] = mapped_column(String(16), index=True)
    language: Mapped[str] = mapped_column(String(5), default="it")
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The identity provider that asserted this resident's codice fiscale (SPID, CIE...); null for
    # an identity the person typed themself, which only development allows.
    identity_verified_by: Mapped[str | None] = mapped_column(String(40))
    # Set when a provider asserted this account's codice fiscale for somebody else: the account
    # held a self-declared identity that was not theirs, and can no longer be used.
    frozen_at: Mapped[dt.datetime | None]

    identities: Mapped[list[ExternalIdentity]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.active and self.frozen_at is None

    @property
    def identity_verified(self) -> bool:
        return self.identity_verified_by is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class ExternalIdentity(Base):
    """A login at an identity provider (SPID, CIE, ...) linked to a user.

    Why a table: a provider plugs in beside local passwords by adding rows here, keyed by the
    provider's own subject identifier, without touching the user table.
    """

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The level of assurance of the last sign-in (the ID token's acr) and when it happened.
    last_acr: Mapped[str | None] = mapped_column(String(100))
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="identities")


class ApiToken(Base):
    """A bearer token for a machine client (police device, camera gate); only its hash is stored."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint(check_in("role", TokenRole), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    # A gate token's gate: its transits are that gate's whatever they say. None for a police
    # device, or for a gate system's concentrator that speaks for every gate it names.
    gate: Mapped[str | None] = mapped_column(String(20))


class BrowserSession(Base):
    """A signed-in browser, known to the server: signing out ends it here, at once.

    Why on the server: the cookie is signed, not stored, so without this row a copy of it taken
    before sign-out kept working until it expired. The cookie holds a random token; this row holds
    its hash, when it started, when it was last seen and how it ended.
    """

    __tablename__ = "browser_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(40))
    browser: Mapped[str] = mapped_column(String(200), default="")
    # The last answers an officer's plate checks gave in this browser (JSON, newest first): kept
    # here, not in the cookie, so that no plate travels with every request; emptied when it ends.
    kept_answers: Mapped[str | None] = mapped_column(Text)


class SecondFactor(Base):
    """A staff member's authenticator app (TOTP, RFC 6238): one per account.

    The secret is stored encrypted (AES-GCM, ztl.accounts.second_factor), never in clear: a copy of
    the database alone does not give the codes. `last_step` is the last 30-second step whose code
    was accepted: a code, once used, is refused for the rest of its validity (replay).
    """

    __tablename__ = "second_factor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    last_step: Mapped[int] = mapped_column(default=0)
    enrolled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RecoveryCode(Base):
    """A single-use code that replaces the authenticator once (a lost phone); only its SHA-256."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    used_at: Mapped[dt.datetime | None]
