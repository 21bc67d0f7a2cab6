"""Read-only summaries for the role home pages (what there is, what waits), in one query each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ztl.extensions import db
from ztl.models import (
    ApiToken,
    Application,
    Category,
    Gate,
    Permit,
    RegistryImport,
    User,
    Zone,
)
from ztl.models.enums import ApplicationStatus


@dataclass(frozen=True)
class WindowText:
    start: str
    end: str


def minutes_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def zones_with_hours() -> list[tuple[Zone, list[WindowText]]]:
    zones = db.session.scalars(select(Zone).order_by(Zone.code)).all()
    return [
        (
            z,
            [
                WindowText(minutes_text(w.start_minute), minutes_text(w.end_minute))
                for w in z.windows
            ],
        )
        for z in zones
    ]


def categories_in_force() -> list[Category]:
    return list(
        db.session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.id))
    )


def gates() -> list[Gate]:
    return list(db.session.scalars(select(Gate).order_by(Gate.code)))


@dataclass(frozen=True)
class ResidentOverview:
    applications: list[Application]
    permits: list[Permit]


def resident_overview(user: User) -> ResidentOverview:
    """A resident's own applications and permits, newest first (only theirs: by account id)."""
    applications = db.session.scalars(
        select(Application).where(Application.user_id == user.id).order_by(Application.id.desc())
    ).all()
    permits = db.session.scalars(
        select(Permit).where(Permit.holder_user_id == user.id).order_by(Permit.id.desc())
    ).all()
    return ResidentOverview(list(applications), list(permits))


def applications_by_status() -> dict[str, int]:
    """How many applications are in each status (the clerks' workload at a glance)."""
    rows = db.session.execute(
        select(Application.status, func.count()).group_by(Application.status)
    ).all()
    counts = {status.value: 0 for status in ApplicationStatus}
    counts.update(dict(rows))
    return counts


def users_by_role() -> dict[str, int]:
    rows = db.session.execute(select(User.role, func.count()).group_by(User.role)).all()
    return dict(rows)


def recent_imports(limit: int = 10) -> list[RegistryImport]:
    return list(
        db.session.scalars(
            select(RegistryImport).order_by(RegistryImport.started_at.desc()).limit(limit)
        )
    )


def api_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.name)))


def flagged_permits(limit: int = 50) -> list[Permit]:
    """Active permits the registry re-check flagged, oldest flag first: they wait for a clerk."""
    return list(
        db.session.scalars(
            select(Permit)
            .where(Permit.flagged_at.is_not(None), Permit.status == "active")
            .order_by(Permit.flagged_at, Permit.id)
            .limit(limit)
        )
    )
