"""Registry data (residents, vehicles, streets, badges, businesses): lookups and CSV imports.

Services ask the registers through `RegistryAdapter` and get frozen facts back; the default
`SqlRegistryAdapter` reads the tables the imports fill. The importer's parts (file formats, reader,
validation, upsert, repeated keys) live in the other modules and are driven by
ztl.registries.importer.
"""

from ztl.registries.adapter import RegistryAdapter
from ztl.registries.facts import (
    AddressZone,
    BadgeFact,
    BusinessFact,
    ResidentFact,
    StreetSegmentFact,
    VehicleFact,
)
from ztl.registries.sql import SqlRegistryAdapter

__all__ = [
    "AddressZone",
    "BadgeFact",
    "BusinessFact",
    "RegistryAdapter",
    "ResidentFact",
    "SqlRegistryAdapter",
    "StreetSegmentFact",
    "VehicleFact",
]
