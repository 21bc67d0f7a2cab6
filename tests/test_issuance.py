"""Issuance end to end: number, validity, seal, signed PDF, one transaction, retry-safe."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import fetch_lists
from tests.factories import issue_resident
from ztl.extensions import db
from ztl.models import Event, Permit, PermitNumberCounter
from ztl.pdf.read import read_seal
from ztl.pdf.sign import check_pdf_signature
from ztl.signing.keys import KeyStore
from ztl.signing.seal import SealCheck, verify_seal

ROME = ZoneInfo("Europe/Rome")


def test_issue_render_scan_verify_and_validate_signature(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    result = issue_resident()
    year = dt.datetime.now(ROME).year
    assert result.created and result.number == f"PO-{year}-000001"
    # The printed QR, read back from the page rendered at 200 dpi, is the seal that was issued.
    assert read_seal(result.pdf, dpi=200) == result.seal
    trust, revocations = fetch_lists(client, keys)
    verdict = verify_seal(
        result.seal,
        trust.seal_keys,
        revocations.revoked,
        SealCheck(dt.datetime.now(dt.UTC), zone="A", plate="AA000AA"),
        ROME,
    )
    assert verdict.step is not None and verdict.step.value == "plate"  # any other plate: refused
    permit = db.session.scalars(select(Permit)).one()
    plate = permit.plates[0].plate
    verdict = verify_seal(
        result.seal,
        trust.seal_keys,
        revocations.revoked,
        SealCheck(dt.datetime.now(dt.UTC), zone="A", plate=plate),
        ROME,
    )
    assert verdict.valid, verdict.reason
    assert verdict.claims is not None and verdict.claims.permit_number == result.number
    signature = check_pdf_signature(result.pdf, keys.root().certificate)
    assert signature.ok and signature.intact and signature.valid and signature.trusted
    assert signature.whole_file and "ZTL permit documents" in signature.signer


def _counts() -> tuple[int, int, int]:
    permits = db.session.scalar(select(func.count()).select_from(Permit)) or 0
    serial = db.session.scalar(select(func.max(PermitNumberCounter.last_serial))) or 0
    events = db.session.scalar(select(func.count()).select_from(Event)) or 0
    return permits, serial, events


def test_a_failure_while_signing_leaves_nothing_and_no_gap(
    city: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ztl.pdf import signed
    from ztl.pdf.sign import PdfSignatureError
    from ztl.permits.documents import IssuanceError

    before = _counts()

    def broken(*args: object, **kwargs: object) -> bytes:
        raise PdfSignatureError("the signing device did not answer")

    monkeypatch.setattr(signed, "sign_pdf", broken)
    with pytest.raises(IssuanceError) as refused:
        issue_resident()
    assert refused.value.code == "signing_failed"
    db.session.rollback()
    assert _counts() == before  # no permit, no number used, no event, no application
    monkeypatch.undo()
    result = issue_resident()
    assert result.number.endswith("-000001")  # the number was given back: no gap


def test_missing_keys_name_the_command_and_write_nothing(
    city: Flask, keys: KeyStore, tmp_path: object
) -> None:
    from ztl.permits.documents import IssuanceError

    for path in keys.folder.glob("seal-*"):
        path.unlink()
    before = _counts()
    with pytest.raises(IssuanceError) as refused:
        issue_resident()
    assert refused.value.code == "keys_missing" and "ztl keys" in str(refused.value)
    db.session.rollback()
    assert _counts() == before


def test_approval_issues_once_even_when_repeated(city: Flask) -> None:
    from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT
    from ztl.eligibility.service import assess_application
    from ztl.infrastructure.unit_of_work import Actor, ServiceError
    from ztl.models import Application, ApplicationPlate, Category
    from ztl.permits.from_applications import approve_application, issue_for_application

    category = db.session.scalars(select(Category).where(Category.code == "1")).one()
    application = Application(
        applicant_id=DEMO_RESIDENT,
        category=category,
        status="submitted",
        plates=[ApplicationPlate(plate=DEMO_OWN_CAR)],
    )
    db.session.add(application)
    db.session.commit()
    with pytest.raises(ServiceError) as not_approved:
        issue_for_application(application.id, Actor.cli())
    assert not_approved.value.code == "not_approved"
    assess_application(application.id, Actor.cli())
    first = approve_application(application.id, Actor(label="clerk"), reason="all checks pass")
    again = approve_application(application.id, Actor(label="clerk"))
    retried = issue_for_application(application.id, Actor.cli())
    assert first.created and not again.created and not retried.created
    assert first.number == again.number == retried.number and first.pdf == retried.pdf
    assert db.session.scalar(select(func.count()).select_from(Permit)) == 1
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert stored is not None and stored.status == "issued"
    actions = db.session.scalars(
        select(Event.action).where(Event.subject_type == "application").order_by(Event.id)
    ).all()
    assert actions == ["checked", "approved", "issued"]


def test_numbers_follow_each_other_within_the_year(city: Flask) -> None:
    from ztl.demo.generator import car_plate

    numbers = [issue_resident().number]
    # A daily permit for any registered plate: a different category, same counter.
    from ztl.applications.counter import CounterRequest, issue_at_counter
    from ztl.eligibility.service import PlateInput
    from ztl.infrastructure.unit_of_work import Actor

    for i in (1, 2):
        request = CounterRequest("G/A", "RSSMRA85T10A562S", (PlateInput(car_plate(5_000_000 + i)),))
        numbers.append(issue_at_counter(request, Actor.cli()).number)
    serials = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert serials == [1, 2, 3]


def test_not_eligible_at_the_counter_stores_nothing(city: Flask) -> None:
    from ztl.applications.counter import RefusedAtCounter

    before = _counts()
    with pytest.raises(RefusedAtCounter) as refused:
        issue_resident(plate="ZZ999ZZ")  # not in the vehicle register
    assert refused.value.code == "not_eligible" and "vehicle_found" in str(refused.value)
    db.session.rollback()
    assert _counts() == before


def test_daily_permit_covers_the_calendar_day_in_rome(city: Flask) -> None:
    from ztl.applications.counter import CounterRequest, issue_at_counter
    from ztl.demo.generator import car_plate
    from ztl.eligibility.service import PlateInput
    from ztl.infrastructure.unit_of_work import Actor

    day = dt.datetime.now(ROME).date() + dt.timedelta(days=3)
    request = CounterRequest(
        "G/B", "RSSMRA85T10A562S", (PlateInput(car_plate(5_000_003)),), valid_from=day
    )
    result = issue_at_counter(request, Actor.cli())
    assert result.valid_from.astimezone(ROME) == dt.datetime(
        day.year, day.month, day.day, tzinfo=ROME
    )
    after = day + dt.timedelta(
        days=1
    )  # ends at the next local midnight (23 or 25 hours on DST days)
    assert result.valid_to.astimezone(ROME) == dt.datetime(
        after.year, after.month, after.day, tzinfo=ROME
    )
    permit = db.session.scalars(select(Permit).where(Permit.number == result.number)).one()
    assert [(w.start_minute, w.end_minute) for w in permit.windows] == [(450, 1110)]
    assert [z.code for z in permit.zones] == ["B"]


def test_permits_count_against_the_household_limit_of_the_canonical_person(city: Flask) -> None:
    """Issued permits are held under the canonical codice fiscale: the limits see them."""
    from tests.factories import DEMO_RESIDENT
    from ztl.applications.counter import RefusedAtCounter
    from ztl.values.fiscal import person_key

    issue_resident()
    permit = db.session.scalars(select(Permit)).one()
    assert permit.holder_id == person_key(DEMO_RESIDENT)
    with pytest.raises(RefusedAtCounter) as again:
        issue_resident()  # the same plate already holds a residents' permit
    assert "one_permit_per_plate" in str(again.value)


def test_demo_permits_are_issued_once(city: Flask, runner: object) -> None:
    from ztl.demo.permits import issue_demo_permits

    first = issue_demo_permits()
    assert len(first) == 1 and issue_demo_permits() == []
