"""API tokens for machine clients: created and shown once, stored as a SHA-256 hash, revocable.

Why SHA-256 and not a password hash: tokens are 256 random bits, so a fast hash is as strong and
keeps the per-request check cheap (enforcement answers must be fast).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from ztl.cluster.notices import on, publish
from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.models import ApiToken, utcnow
from ztl.models.enums import TokenRole

TOKEN_PREFIX = "ztl_"  # noqa: S105 (a public prefix, not a secret)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_GATE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,19}")


class TokenError(ServiceError):
    code = "token"


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_token(
    name: str, role: str, actor: Actor | None = None, gate: str | None = None
) -> tuple[ApiToken, str]:
    """A new token; the plaintext is returned once and never stored. `gate` binds a gate token to
    one gate (its transits are that gate's); only gate tokens take one."""
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
    gate_code = (gate or "").strip().upper() or None
    if gate_code is not None and role_value != TokenRole.GATE.value:
        raise TokenError("only a gate token speaks for a gate", code="gate_not_gate_role")
    if gate_code is not None and not _GATE.fullmatch(gate_code):
        raise TokenError("gate code: 1-20 letters, digits, dot, dash or underscore", code="gate")
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
            gate=gate_code,
        )
        session.add(token)
        session.flush()
        record_event(
            session,
            actor,
            "token",
            token.id,
            "created",
            data={"name": name, "role": role, **({"gate": gate_code} if gate_code else {})},
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
    _CACHE.forget(token.token_hash)
    publish(TOKEN_NOTICE, token.token_hash)  # every other process forgets it at once
    return token


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.name)))


@dataclass(frozen=True)
class TokenIdentity:
    """Who is calling: what a request needs of its token, detached from any database session."""

    id: int
    name: str
    role: str
    token_hash: str
    gate: str | None = None  # a gate token's gate (ztl.models.ApiToken.gate)


class _TokenCache:
    """Recent answers to "which token is this?", so a gate's every request is not a query.

    A revocation is seen at once by the process that made it, by the others at once when they
    share a Redis (a notice, ztl.cluster.notices), and otherwise within ZTL_TOKEN_CACHE_SECONDS
    (default 10). Unknown tokens are remembered too (a client retrying a
    bad token must not cost a query each time); the cache is bounded and simply emptied when full.
    """

    LIMIT = 10_000

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, TokenIdentity | None]] = {}
        self._lock = threading.Lock()

    def get(self, token_hash: str) -> tuple[bool, TokenIdentity | None]:
        entry = self._entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, token_hash: str, identity: TokenIdentity | None, seconds: float) -> None:
        with self._lock:
            if len(self._entries) >= self.LIMIT:
                self._entries.clear()
            self._entries[token_hash] = (time.monotonic() + seconds, identity)

    def forget(self, token_hash: str) -> None:
        with self._lock:
            self._entries.pop(token_hash, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CACHE = _TokenCache()
# A notice kind, not a secret: a token's hash was revoked, forget what was cached about it.
TOKEN_NOTICE = "token"  # noqa: S105


def _forget_noticed(token_hash: str | None) -> None:
    """A notice from another process (None: some may have been missed, forget everything)."""
    if token_hash:
        _CACHE.forget(token_hash)
    else:
        _CACHE.clear()


on(TOKEN_NOTICE, _forget_noticed)


def authenticate_token(plaintext: str) -> TokenIdentity | None:
    """The active token with this plaintext, or None (unknown or revoked)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token_hash = hash_token(plaintext)
    seconds = float(current_app.config.get("ZTL_TOKEN_CACHE_SECONDS", 10))
    if seconds > 0:
        known, identity = _CACHE.get(token_hash)
        if known:
            return identity
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    identity = None
    if token is not None and token.revoked_at is None:
        identity = TokenIdentity(token.id, token.name, token.role, token.token_hash, token.gate)
    if seconds > 0:
        _CACHE.put(token_hash, identity, seconds)
    return identity
