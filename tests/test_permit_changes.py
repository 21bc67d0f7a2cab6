"""Revoking, changing plate and renewing each revoke the old seal; lists stay consistent."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import fetch_lists
from tests.factories import DEMO_RESIDENT, add_household_car, issue_resident
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import Permit
from ztl.permits.changes import change_plate, renew_permit, revoke_permit
from ztl.signing.keys import KeyStore
from ztl.signing.seal import SealCheck, verify_seal

ROME = ZoneInfo("Europe/Rome")
CLERK = Actor(label="clerk")


def _verify(client: FlaskClient, store: KeyStore, seal: str, at: dt.datetime | None = None):  # type: ignore[no-untyped-def]
    trust, revocations = fetch_lists(client, store)
    check = SealCheck(at or dt.datetime.now(dt.UTC), zone="A")
    return verify_seal(seal, trust.seal_keys, revocations.revoked, check, ROME), revocations


def test_revocation_puts_the_seal_on_a_newer_list(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    issued = issue_resident()
    before, list_before = _verify(client, keys, issued.seal)
    assert before.valid
    with pytest.raises(ServiceError):
        revoke_permit(issued.number, CLERK, "  ")  # a reason is required
    revoke_permit(issued.number, CLERK, "vehicle sold")
    after, list_after = _verify(client, keys, issued.seal)
    assert not after.valid and after.step is not None and after.step.value == "revoked"
    assert after.revoked and list_after.sequence == list_before.sequence + 1
    with pytest.raises(ServiceError) as twice:
        revoke_permit(issued.number, CLERK, "again")
    assert twice.value.code == "not_active"


def _second_car() -> str:
    return add_household_car("GA123BC")


def test_plate_change_replaces_the_permit_and_revokes_the_old_seal(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    issued = issue_resident()
    old = db.session.scalars(select(Permit)).one()
    old_plate, old_end = old.plates[0].plate, old.valid_to
    new_plate = _second_car()
    with pytest.raises(ServiceError) as unknown:
        change_plate(issued.number, old_plate, "ZZ999ZZ", CLERK)  # not registered: checks fail
    assert unknown.value.code == "not_eligible"
    replaced = change_plate(issued.number, old_plate, new_plate, CLERK)
    assert replaced.number != issued.number and replaced.valid_to == old_end
    old_verdict, _ = _verify(client, keys, issued.seal)
    new_verdict, _ = _verify(client, keys, replaced.seal)
    assert old_verdict.step is not None and old_verdict.step.value == "revoked"
    assert new_verdict.valid and new_verdict.claims is not None
    assert new_verdict.claims.plates == (new_plate,)
    db.session.expire_all()
    old = db.session.scalars(select(Permit).where(Permit.number == issued.number)).one()
    assert old.status == "replaced" and old.replaced_by_id == replaced.permit_id


def test_renewal_opens_sixty_days_before_expiry_and_loses_no_day(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    issued = issue_resident()
    with pytest.raises(ServiceError) as early:
        renew_permit(issued.number, CLERK)
    assert early.value.code == "too_early"
    at = issued.valid_to - dt.timedelta(days=30)
    renewed = renew_permit(issued.number, CLERK, at=at)
    old_end = issued.valid_to.astimezone(ROME)
    assert renewed.valid_from == at
    new_end = renewed.valid_to.astimezone(ROME)
    assert (new_end.year, new_end.month, new_end.day) == (
        old_end.year + 1,
        old_end.month,
        old_end.day,
    )
    verdict, _ = _verify(client, keys, issued.seal, at=at + dt.timedelta(minutes=10))
    assert verdict.step is not None and verdict.step.value == "revoked"
    fresh, _ = _verify(client, keys, renewed.seal, at=at + dt.timedelta(minutes=10))
    assert fresh.valid, fresh.reason


def test_old_permits_still_verify_after_a_key_rotation(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    first = issue_resident()
    rotated = keys.rotate()
    second_car = _second_car()
    from ztl.applications.counter import CounterRequest, issue_at_counter
    from ztl.eligibility.service import PlateInput

    second = issue_at_counter(
        CounterRequest("1", DEMO_RESIDENT, (PlateInput(second_car),)), Actor.cli()
    )
    trust, _ = fetch_lists(client, keys)
    assert rotated.kid in trust.seal_keys and len(trust.seal_keys) == 2
    for seal in (first.seal, second.seal):
        verdict, _ = _verify(client, keys, seal)
        assert verdict.valid, verdict.reason
    assert _verify(client, keys, second.seal)[0].kid == rotated.kid
    assert _verify(client, keys, first.seal)[0].kid != rotated.kid


def test_a_retired_key_leaves_the_trust_list_when_its_last_permit_expires(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    from ztl.seals.trust_lists import seal_keys_to_publish

    issued = issue_resident()
    old_kid = keys.current_seal().kid
    keys.rotate()
    now = dt.datetime.now(dt.UTC)
    published = {p.kid for p in seal_keys_to_publish(db.session, now)}
    assert old_kid in published  # its permit is still valid
    later = issued.valid_to + dt.timedelta(hours=1)
    published_later = {p.kid for p in seal_keys_to_publish(db.session, later)}
    assert old_kid not in published_later and len(published_later) == 1


def test_a_new_key_is_published_before_its_first_use(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    now = dt.datetime.now(dt.UTC)
    upcoming = keys.rotate(starts_at=now + dt.timedelta(days=2))
    assert keys.current_seal(now).kid != upcoming.kid  # not signing yet
    trust, _ = fetch_lists(client, keys)
    assert upcoming.kid in trust.seal_keys  # but already in every verifier's cache
    assert keys.current_seal(now + dt.timedelta(days=3)).kid == upcoming.kid


def test_the_renewal_campaign_renews_due_permits_on_a_signing_pool(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    from ztl.permits.renewal_campaign import renew_due

    issued = issue_resident()
    at = issued.valid_to - dt.timedelta(days=20)
    nothing = renew_due(CLERK, at=issued.valid_to - dt.timedelta(days=200))
    assert nothing.renewed == [] and nothing.refused == {}
    summary = renew_due(CLERK, batch=10, workers=2, at=at)
    assert [old for old, _ in summary.renewed] == [issued.number]
    new_number = summary.renewed[0][1]
    db.session.expire_all()
    new = db.session.scalars(select(Permit).where(Permit.number == new_number)).one()
    assert new.pdf is not None and new.pdf.startswith(b"%PDF")
    from ztl.pdf.sign import check_pdf_signature

    assert check_pdf_signature(new.pdf, keys.root().certificate).ok
    assert _verify(client, keys, issued.seal, at=at + dt.timedelta(minutes=1))[0].revoked
    assert _verify(client, keys, new.seal_text or "", at=at + dt.timedelta(minutes=1))[0].valid
    again = renew_due(CLERK, at=at)  # already renewed: nothing due any more
    assert again.renewed == []
