"""The signed trust list and revocation list this municipality publishes, built from keys and permits.

Seal keys stay in the trust list while they can still matter: the key that signs new seals, a newer
key published before its first use, and every older key until the last permit it sealed has expired.
A seal is revoked when its permit was revoked, replaced (plate change, renewal) or given up; it leaves
the list once the permit would have expired anyway, which keeps the list small.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import AnySession
from ztl.models import Permit, RevocationListState, utcnow
from ztl.models.enums import PermitStatus
from ztl.seals.keys import key_store
from ztl.signing.keys import KeyPair
from ztl.signing.lists import build_revocation_list, build_trust_list
from ztl.signing.seal import CLOCK_TOLERANCE, revocation_handle

STATE_ROW = 1
REVOKING_STATUSES = (
    PermitStatus.REVOKED.value,
    PermitStatus.REPLACED.value,
    PermitStatus.SURRENDERED.value,
)


def bump_revocation_sequence(session: AnySession) -> int:
    """Called in the transaction that revokes a seal: the next list gets a higher sequence."""
    values = {"sequence": RevocationListState.sequence + 1, "changed_at": utcnow()}
    statement = update(RevocationListState).where(RevocationListState.id == STATE_ROW)
    if session.execute(statement.values(**values)).rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(RevocationListState(id=STATE_ROW, sequence=1, changed_at=utcnow()))
        except IntegrityError:  # another transaction created the row first
            session.execute(statement.values(**values))
    return current_sequence(session)


def current_sequence(session: AnySession) -> int:
    value = session.execute(
        select(RevocationListState.sequence).where(RevocationListState.id == STATE_ROW)
    ).scalar_one_or_none()
    return value or 0


def seal_keys_to_publish(session: AnySession, now: dt.datetime) -> list[KeyPair]:
    store = key_store()
    pairs = store.seals()
    current = store.current_seal(now)
    in_use = {
        kid
        for (kid,) in session.execute(
            select(Permit.seal_kid)
            .where(Permit.seal_kid.is_not(None), Permit.valid_to > now - CLOCK_TOLERANCE)
            .group_by(Permit.seal_kid)
        )
    }
    return [
        pair
        for pair in pairs
        if pair.name == current.name
        or pair.valid_from > now  # published before its first use
        or pair.kid.hex() in in_use
    ]


def revoked_seals(session: AnySession, now: dt.datetime) -> dict[bytes, set[bytes]]:
    """kid -> revocation handles of seals revoked and not yet expired."""
    rows = session.execute(
        select(Permit.seal_kid, Permit.seal_id).where(
            Permit.status.in_(REVOKING_STATUSES),
            Permit.seal_id.is_not(None),
            Permit.valid_to > now - CLOCK_TOLERANCE,
        )
    )
    revoked: dict[bytes, set[bytes]] = defaultdict(set)
    for kid, seal_id in rows:
        if kid is None or seal_id is None:
            continue
        revoked[bytes.fromhex(kid)].add(revocation_handle(bytes.fromhex(seal_id)))
    return revoked


def trust_list_document(now: dt.datetime | None = None) -> bytes:
    now = now or utcnow()
    store = key_store()
    return build_trust_list(
        current_rules().code,
        store.root(),
        store.lists(),
        seal_keys_to_publish(db.session, now),
        now,
    )


def revocation_list_document(now: dt.datetime | None = None) -> bytes:
    now = now or utcnow()
    session = db.session
    return build_revocation_list(
        current_rules().code,
        key_store().lists(),
        current_sequence(session),
        revoked_seals(session, now),
        now,
    )
