"""Writing the event history (the audit trail) inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, scoped_session

from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Event


def record_event(
    session: Session | scoped_session[Any],
    actor: Actor,
    subject_type: str,
    subject_id: str | int,
    action: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Add one event row; it commits or rolls back with the change it describes."""
    event = Event(
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        subject_type=subject_type,
        subject_id=str(subject_id),
        action=action,
        reason=reason,
        data=data or {},
    )
    session.add(event)
    return event
