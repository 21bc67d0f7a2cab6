"""Signed permits for the demo city, so the police page, the lists and `ztl verify` have something real.

Idempotent: a demo holder who already has an active permit of the category gets no second one.
Needs the keys (`ztl keys init`, which `make run` runs first); without them it issues nothing.
"""

from __future__ import annotations

from sqlalchemy import select

from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.demo.generator import car_plate, codice_fiscale
from ztl.eligibility.service import PlateInput
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Category, Permit
from ztl.models.enums import PermitStatus
from ztl.values.fiscal import subject_key

DEMO_PERMITS = (
    # The demo resident (zone A) and their own car: a residents' permit.
    CounterRequest("1", codice_fiscale(0), (PlateInput(car_plate(5_000_000)),)),
)


def _has_active(holder: str, category: str) -> bool:
    return (
        db.session.scalar(
            select(Permit.id)
            .join(Category)
            .where(
                Category.code == category,
                Permit.holder_id.in_({holder, subject_key(holder)}),
                Permit.status == PermitStatus.ACTIVE.value,
            )
            .limit(1)
        )
        is not None
    )


def issue_demo_permits() -> list[str]:
    """The numbers issued now (empty when they exist already); ServiceError when refused."""
    numbers = []
    for request in DEMO_PERMITS:
        if _has_active(request.applicant_id, request.category):
            continue
        numbers.append(issue_at_counter(request, Actor(label="demo")).number)
    db.session.rollback()
    return numbers
