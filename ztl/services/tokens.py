"""API tokens for machine clients: created and shown once, stored as a SHA-256 hash, revocable.

Why SHA-256 and not a password hash: tokens are 256 random bits, so a fast hash is as strong and
keeps the per-request check cheap (enforcement answers must be fast).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select

from ztl.extensions import db
from ztl.models import ApiToken, utcnow
from ztl.models.enums import TokenRole
from ztl.services.events import record_event
from ztl.services.unit_of_work import Actor, ServiceError, unit_of_work

TOKEN_PREFIX = "ztl_"  # noqa: S105 (a public prefix, not a secret)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class TokenError(ServiceError):
    code = "token"


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(name: str, role: str, actor: Actor | None = None) -> tuple[ApiToken, str]:
    """A new token; the plaintext is returned once and never stored."""
    if not _NAME.fullmatch(name or ""):
        raise TokenError(
            "token name: 1-100 letters, digits, dot, dash or underscore", code="name_invalid"
        )
    try:
        role_value = TokenRole(role).value
    except ValueError as exc:
        roles = ", ".join(r.value for r in TokenRole)
        raise TokenError(
            f"unknown token role {role!r}; roles: {roles}", code="role_unknown"
        ) from exc
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    actor = actor or Actor.cli()
    with unit_of_work() as session:
        if session.scalar(select(ApiToken.id).where(ApiToken.name == name)) is not None:
            raise TokenError(f"a token named {name!r} already exists", code="name_taken")
        token = ApiToken(
            name=name,
            role=role_value,
            token_hash=hash_token(plaintext),
            prefix=plaintext[: len(TOKEN_PREFIX) + 4],
            created_by_id=actor.user_id,
        )
        session.add(token)
        session.flush()
        record_event(
            session, actor, "token", token.id, "created", data={"name": name, "role": role}
        )
    return token, plaintext


def revoke_token(name: str, actor: Actor | None = None) -> ApiToken:
    actor = actor or Actor.cli()
    with unit_of_work() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.name == name))
        if token is None:
            raise TokenError(f"no token named {name!r}", code="not_found")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            record_event(session, actor, "token", token.id, "revoked", data={"name": name})
    return token


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.name)))


def authenticate_token(plaintext: str) -> ApiToken | None:
    """The active token with this plaintext, or None (unknown or revoked)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext)))
    if token is None or token.revoked_at is not None:
        return None
    return token
