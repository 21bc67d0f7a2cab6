"""The city: the municipality's rules file brought into the database, and what is in force.

The rules file (ztl/rules/municipalities/*.toml, or ZTL_RULES_FILE) is the single source of the
municipality's identity, zones and their calendars, gates and categories. `sync_city` keeps the
database's copy in step with it, on start-up and on `ztl db upgrade`; `ztl city check` and
`ztl city show` let an operator look before and after.
"""

from ztl.city.sync import (
    CityConflict,
    SyncReport,
    city_digest,
    planned_changes,
    sync_city,
    sync_on_start,
)

__all__ = [
    "CityConflict",
    "SyncReport",
    "city_digest",
    "planned_changes",
    "sync_city",
    "sync_on_start",
]
