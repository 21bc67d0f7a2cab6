"""`ztl users create` and `ztl tokens create/revoke/list` through the real command line."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from ztl.accounts.api_tokens import authenticate_token, hash_token
from ztl.accounts.staff import sign_in_with_password
from ztl.extensions import db
from ztl.models import ApiToken, Event, User


def test_users_create_reads_password_from_stdin(app: Flask, runner: Any) -> None:
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "clerk",
            "--email",
            "Anna@Comune.test",
            "--name",
            "Anna",
        ],
        input="a-good-password-1\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "anna@comune.test"))
    assert user is not None and user.role == "clerk"
    assert sign_in_with_password("anna@comune.test", "a-good-password-1").ok


def test_users_create_bad_input_exits_2(app: Flask, runner: Any) -> None:
    weak = runner.invoke(
        args=["users", "create", "--role", "clerk", "--email", "a@x.test"], input="short\n"
    )
    assert weak.exit_code == 2
    assert "(password_too_short_staff: too_short_staff)" in weak.output
    role = runner.invoke(
        args=["users", "create", "--role", "mayor", "--email", "a@x.test"], input="long-enough-1\n"
    )
    assert role.exit_code == 2
    assert db.session.scalar(select(User)) is None


def test_tokens_lifecycle(app: Flask, runner: Any) -> None:
    created = runner.invoke(args=["tokens", "create", "--role", "gate", "gate-a1"])
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip().splitlines()[0]
    assert plaintext.startswith("ztl_") and len(plaintext) == 47  # ztl_ and 32 random bytes
    stored = db.session.scalar(select(ApiToken).where(ApiToken.name == "gate-a1"))
    assert stored is not None
    # Only the hash is stored.
    assert stored.token_hash == hash_token(plaintext) and plaintext not in stored.token_hash
    authenticated = authenticate_token(plaintext)
    assert authenticated is not None and authenticated.role == "gate"

    duplicate = runner.invoke(args=["tokens", "create", "--role", "police", "gate-a1"])
    assert duplicate.exit_code == 2

    listing = runner.invoke(args=["tokens", "list"])
    assert "gate-a1" in listing.output and "active" in listing.output
    assert plaintext not in listing.output

    revoked = runner.invoke(args=["tokens", "revoke", "gate-a1"])
    assert revoked.exit_code == 0
    assert authenticate_token(plaintext) is None
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    actions = db.session.scalars(select(Event.action).where(Event.subject_type == "token")).all()
    assert actions == ["created", "revoked"]

    missing = runner.invoke(args=["tokens", "revoke", "nope"])
    assert missing.exit_code == 2


def test_token_names_and_roles_are_checked(app: Flask, runner: Any) -> None:
    assert runner.invoke(args=["tokens", "create", "--role", "admin", "x"]).exit_code == 2
    assert runner.invoke(args=["tokens", "create", "--role", "gate", "bad name!"]).exit_code == 2
