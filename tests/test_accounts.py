"""Accounts: registration, sign-in with lock-out, external identities, staff creation."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select

from tests.factories import CF_MARIO, PASSWORD, make_user
from ztl.accounts.staff import (
    AccountError,
    SignInFailure,
    create_user,
    register_resident,
    sign_in_with_password,
)
from ztl.accounts.verified_identity import VerifiedRefusal, sign_in_verified
from ztl.extensions import db
from ztl.identity.assertion import AssertedPerson
from ztl.models import Event, User


def _omocodic(cf: str) -> str:
    from stdnum.it import codicefiscale

    # Omocodia turns the rightmost digit into its letter (0 -> L, 1 -> M, 2 -> N, ...).
    body = cf[:14] + "LMNPQRSTUV"[int(cf[14])]
    return body + codicefiscale.calc_check_digit(body)


def test_registration_hashes_password_and_ties_codice_fiscale(app: Flask) -> None:
    user = register_resident("Mario@Example.test ", "Mario Rossi", CF_MARIO.lower(), PASSWORD)
    assert user.email == "mario@example.test"
    assert user.codice_fiscale == CF_MARIO
    assert user.password_hash and PASSWORD not in user.password_hash
    assert user.password_hash.startswith("$argon2id$")
    events = db.session.scalars(select(Event).where(Event.subject_type == "user")).all()
    assert [e.action for e in events] == ["registered"]


def test_registration_refuses_same_person_with_omocodic_variant(app: Flask) -> None:
    register_resident("a@example.test", "Mario Rossi", CF_MARIO, PASSWORD)
    variant = _omocodic(CF_MARIO)
    assert variant != CF_MARIO
    with pytest.raises(AccountError) as info:
        register_resident("b@example.test", "Mario Rossi", variant, PASSWORD)
    assert info.value.code == "codice_fiscale_taken"


@pytest.mark.parametrize(
    ("cf", "password", "code"),
    [
        ("RSSMRA85T10A562X", PASSWORD, "codice_fiscale_invalid"),
        (CF_MARIO, "short1", "password_too_short"),
        (CF_MARIO, "onlyletterslong", "password_too_simple"),
        # The case: long enough, letters and digits, and among the first guesses.
        (CF_MARIO, "password12", "password_too_common"),
        (CF_MARIO, "qwerty123456", "password_too_common"),
        (CF_MARIO, " correct-horse-42", "password_blank_padded"),
        (CF_MARIO, "correct-horse-42 ", "password_blank_padded"),
    ],
)
def test_registration_refusals(app: Flask, cf: str, password: str, code: str) -> None:
    with pytest.raises(AccountError) as info:
        register_resident("x@example.test", "X", cf, password)
    assert info.value.code == code
    assert db.session.scalar(select(User)) is None


def test_lockout_after_repeated_failures(app: Flask) -> None:
    make_user("clerk", "clerk@example.test")
    now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    limit = app.config["ZTL_LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert (
            sign_in_with_password("clerk@example.test", "wrong", now).failure
            is SignInFailure.INVALID
        )
    locked = sign_in_with_password("clerk@example.test", "wrong", now)
    assert locked.failure is SignInFailure.LOCKED
    assert locked.locked_until is not None and locked.locked_until > now
    # Even the right password is refused while locked.
    assert (
        sign_in_with_password("clerk@example.test", PASSWORD, now).failure is SignInFailure.LOCKED
    )
    later = locked.locked_until + dt.timedelta(seconds=1)
    result = sign_in_with_password("clerk@example.test", PASSWORD, later)
    assert result.ok and result.user is not None
    assert result.user.failed_logins == 0


def test_unknown_email_and_wrong_password_look_the_same(app: Flask) -> None:
    make_user("clerk", "clerk@example.test")
    assert sign_in_with_password("nobody@example.test", PASSWORD).failure is SignInFailure.INVALID
    assert sign_in_with_password("clerk@example.test", "nope").failure is SignInFailure.INVALID


def test_an_unknown_email_costs_the_same_argon2_verification_as_a_wrong_password(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No timing oracle: both answers run exactly one argon2id verification of the same cost.

    Counted rather than timed (a timed test would be flaky on a shared machine): the dummy hash
    has the parameters of a real one, and an unknown e-mail verifies against it once.
    """
    from argon2 import extract_parameters

    from ztl.accounts import passwords

    user = make_user("clerk", "clerk@example.test")
    assert user.password_hash is not None
    assert extract_parameters(passwords._DUMMY_HASH) == extract_parameters(user.password_hash)
    verified: list[str] = []
    real = passwords._hasher

    class Counting:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    sign_in_with_password("nobody@example.test", "some-password-1")
    assert verified == [passwords._DUMMY_HASH]
    sign_in_with_password("clerk@example.test", "some-password-1")
    assert verified == [passwords._DUMMY_HASH, user.password_hash]


def test_inactive_user_cannot_sign_in(app: Flask) -> None:
    user = make_user("police", "police@example.test")
    user.active = False
    db.session.commit()
    assert sign_in_with_password("police@example.test", PASSWORD).failure is SignInFailure.INACTIVE


def test_a_verified_identity_is_found_by_subject_then_by_the_person_whatever_the_variant(
    app: Flask,
) -> None:
    """The protocol is tested against a real provider in test_identity_providers; here, the
    account rules: an omocodic variant of the codice fiscale is the same person."""
    first = sign_in_verified(_asserted("spid", "spid-subject-1", CF_MARIO))
    assert first.user is not None and first.created
    by_subject = sign_in_verified(_asserted("spid", "spid-subject-1", CF_MARIO))
    assert by_subject.user is not None and by_subject.user.id == first.user.id
    by_person = sign_in_verified(_asserted("cie", "cie-subject-9", _omocodic(CF_MARIO)))
    assert by_person.user is not None and by_person.user.id == first.user.id
    assert not by_person.created
    changed = sign_in_verified(_asserted("spid", "spid-subject-1", "VRDPLA75C12G999N"))
    assert changed.refusal is VerifiedRefusal.IDENTITY_CHANGED


def _asserted(provider: str, subject: str, codice_fiscale: str) -> AssertedPerson:
    return AssertedPerson(
        provider=provider,
        subject=subject,
        acr="https://www.spid.gov.it/SpidL2",
        codice_fiscale=codice_fiscale,
        given_name="Mario",
        family_name="Rossi",
        email="mario.rossi@esempio.it",
    )


def test_create_user_refuses_unknown_role_and_duplicate_email(app: Flask) -> None:
    make_user("clerk", "c@example.test")
    with pytest.raises(AccountError) as dup:
        make_user("clerk", "C@example.test")
    assert dup.value.code == "email_taken"
    with pytest.raises(AccountError) as role:
        make_user("mayor", "m@example.test")
    assert role.value.code == "role_unknown"


@pytest.mark.parametrize("password", ["mario.rossi@example.test", CF_MARIO, "Mario Rossi 1"])
def test_a_password_made_of_what_anyone_knows_of_the_person_is_refused(
    app: Flask, password: str
) -> None:
    """Strong to an estimator that knows nothing of the person; guessed at once by one who does."""
    with pytest.raises(AccountError) as info:
        register_resident("mario.rossi@example.test", "Mario Rossi", CF_MARIO, password)
    assert info.value.code == "password_too_common"


@pytest.mark.parametrize("role", ["clerk", "supervisor", "police", "admin"])
def test_staff_passwords_need_twelve_characters(app: Flask, role: str) -> None:
    with pytest.raises(AccountError) as info:
        create_user(role, f"{role}@example.test", "Vq7-mxk2-Lp", "Staff")  # 11 characters
    assert info.value.code == "password_too_short_staff"
    assert db.session.scalar(select(User)) is None
    staff = create_user(role, f"{role}@example.test", "Vq7-mxk2-Lp9", "Staff")  # 12
    assert staff.role == role


def test_a_resident_password_of_eleven_characters_is_enough(app: Flask) -> None:
    user = register_resident("x@example.test", "X", CF_MARIO, "Vq7-mxk2-Lp")
    assert user.role == "resident"
