"""Replacing the rows a registry row owns in another table (a firm's legal representatives).

A businesses file with a `legal_representatives` column says, for each firm it names, who its
representatives are now: the rows of `business_representative` for that firm become exactly those
(none, for an empty cell). Runs on the import's writer thread, in the transaction of the batch
whose rows it follows, after their upsert (ztl.registries.writer): the firm exists by then, and the
firm and its representatives commit together.

Why compare before writing: re-importing an unchanged file must rewrite nothing, like the upsert
(no write amplification, no dead rows); only the firms whose set of people changed are deleted and
inserted again. Within a batch, the last row of a key wins, as in the upsert.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ztl.registries.schemas import Related

# Keys per IN list: well under every engine's limit on bound parameters.
CHUNK = 500
Items = tuple[tuple[Any, ...], ...]


def replace_related(
    connection: Connection,
    related: Related,
    rows: Sequence[tuple[Any, Items]],
    skip: set[int] | frozenset[int] = frozenset(),
) -> int:
    """Make the related rows of each (key, items) what the items say; rows at indexes in `skip`
    (refused by the database) are left alone. Returns how many keys changed."""
    wanted: dict[Any, frozenset[tuple[Any, ...]]] = {}
    for index, (key, items) in enumerate(rows):
        if index not in skip:
            wanted[key] = frozenset(tuple(item) for item in items)
    if not wanted:
        return 0
    table = related.table
    key_column = table.c[related.key]
    fields = related.fields
    keys = list(wanted)
    existing: dict[Any, set[tuple[Any, ...]]] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        query = select(key_column, *(table.c[f] for f in fields)).where(key_column.in_(chunk))
        for row in connection.execute(query):
            existing.setdefault(row[0], set()).add(tuple(row[1:]))
    changed = [key for key in keys if existing.get(key, set()) != wanted[key]]
    for start in range(0, len(changed), CHUNK):
        connection.execute(delete(table).where(key_column.in_(changed[start : start + CHUNK])))
    values = [
        {related.key: key, **dict(zip(fields, item, strict=True))}
        for key in changed
        for item in sorted(wanted[key])
    ]
    if values:
        connection.execute(insert(table), values)
    return len(changed)
