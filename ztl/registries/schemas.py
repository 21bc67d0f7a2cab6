"""The five registry file formats (shared/spec/registry-files.md) as data: columns, parsers, keys.

Why declarative: the reader, the validator, the upsert and the report are the same code for every
kind; a kind is only its columns (file name, parser, table field), the fields derived from them
(normalised keys), cross-column checks, the key the upsert matches on, and the columns whose values
are rows of a table of their own (a firm's legal representatives).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from ztl.models import Badge, Business, BusinessRepresentative, Resident, StreetSegment, Vehicle
from ztl.models.enums import (
    BusinessStatus,
    Fuel,
    Parity,
    ResidentStatus,
    VehicleStatus,
    VehicleUsage,
)
from ztl.registries import columns as c
from ztl.values import InvalidValue
from ztl.values.fiscal import person_key
from ztl.values.streets import house_number, street_key

KINDS = ("residents", "vehicles", "streets", "badges", "businesses")
# Legal representatives one firm's row may name (a board, not a shareholder list).
MAX_REPRESENTATIVES = 20

# A check across columns of a parsed row: None, or (file column to blame, reason).
RowCheck = Callable[[Mapping[str, Any]], tuple[str, str] | None]


@dataclass(frozen=True)
class Column:
    """A column of the file: its header name, its parser and the table field it fills."""

    name: str
    parse: c.Parser
    field: str = ""
    # An optional column may be absent from a file: files written before it existed still import,
    # and rows updated from them keep the value an earlier file gave.
    required: bool = True

    @property
    def target(self) -> str:
        return self.field or self.name


@dataclass(frozen=True)
class Derived:
    """A table field computed from a parsed column (street -> street_key); blamed on that column."""

    field: str
    source: str
    derive: Callable[[Any], Any]


@dataclass(frozen=True)
class Related:
    """An optional column whose cell is a list of rows of another table, keyed by the row's key.

    The businesses file's `legal_representatives` ("CF1;CF2") fills `business_representative`:
    the parser gives a tuple of items, each a tuple of `fields`; the import replaces the rows of
    `table` whose `key` field is the file row's key with those items (ztl.registries.related).
    Optional, like every column added after the first files: a file without it leaves the table
    as earlier files left it.
    """

    column: Column
    table: Table
    key: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class RegistryKind:
    name: str
    table: Table
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    derived: tuple[Derived, ...] = ()
    checks: tuple[RowCheck, ...] = ()
    related: tuple[Related, ...] = ()

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns if column.required)

    @property
    def file_columns(self) -> tuple[Column, ...]:
        """Every column read from the file: the table's, then the related tables'."""
        return self.columns + tuple(r.column for r in self.related)

    def for_header(self, names: tuple[str, ...]) -> RegistryKind:
        """The format as one file has it: optional columns the file lacks are left out, so an
        update by key does not blank what an earlier, fuller file gave."""
        kept = tuple(c for c in self.columns if c.required or c.name in names)
        related = tuple(r for r in self.related if r.column.name in names)
        return dataclasses.replace(self, columns=kept, related=related)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(column.target for column in self.columns) + tuple(
            d.field for d in self.derived
        )

    @property
    def update_fields(self) -> tuple[str, ...]:
        return tuple(field for field in self.fields if field not in self.key)

    @property
    def key_label(self) -> str:
        """The key as file columns, for the report ("street+from_number+to_number+parity")."""
        by_target = {column.target: column.name for column in self.columns}
        by_target.update({d.field: d.source for d in self.derived})
        return "+".join(by_target[field] for field in self.key)


def _bounded(parser: Callable[[str], str], max_length: int) -> Callable[[str], str]:
    """A derived text (a key may be longer than what was written: "V." becomes "VIA")."""

    def derive(value: str) -> str:
        result = parser(value)
        if len(result) > max_length:
            raise InvalidValue(f"troppo lungo / too long: at most {max_length} characters")
        return result

    return derive


def _registered_after_birth(row: Mapping[str, Any]) -> tuple[str, str] | None:
    if row["registered_since"] < row["birth_date"]:
        return "registered_since", "prima della nascita / before the birth date"
    return None


def _range_in_order(row: Mapping[str, Any]) -> tuple[str, str] | None:
    if row["from_number"] > row["to_number"]:
        return "to_number", "minore di from_number / smaller than from_number"
    return None


def _address() -> tuple[Column, Column, Derived, Derived]:
    """Street and house number as written, and the street key and number the zone depends on."""
    return (
        Column("street", c.text(150)),
        Column("house_number", c.text(20)),
        Derived("street_key", "street", _bounded(street_key, 150)),
        Derived("house_no", "house_number", house_number),
    )


def registry_kind(name: str, zone_codes: Mapping[str, str]) -> RegistryKind:
    """The format of one kind; `zone_codes` are the known zones (streets must name one)."""
    if name == "residents":
        street, number, key, house_no = _address()
        return RegistryKind(
            name=name,
            table=Resident.__table__,  # type: ignore[arg-type]
            columns=(
                Column("codice_fiscale", c.codice_fiscale),
                Column("family_name", c.text(100)),
                Column("given_name", c.text(100)),
                Column("birth_date", c.iso_date),
                street,
                number,
                Column("household_id", c.text(40)),
                Column("registered_since", c.iso_date),
                Column("status", c.choice(ResidentStatus)),
            ),
            derived=(Derived("person_key", "codice_fiscale", person_key), key, house_no),
            checks=(_registered_after_birth,),
            key=("codice_fiscale",),
        )
    if name == "vehicles":
        return RegistryKind(
            name=name,
            table=Vehicle.__table__,  # type: ignore[arg-type]
            columns=(
                Column("plate", c.plate),
                Column("category", c.vehicle_category),
                Column("fuel", c.choice(Fuel)),
                Column("euro_class", c.integer(0, 6)),
                Column("mass_kg", c.optional(c.integer(1, 100_000))),
                Column("owner_id", c.subject),
                Column("holder_id", c.optional(c.subject)),
                Column("usage", c.choice(VehicleUsage)),
                Column("status", c.choice(VehicleStatus)),
            ),
            key=("plate",),
        )
    if name == "streets":
        return RegistryKind(
            name=name,
            table=StreetSegment.__table__,  # type: ignore[arg-type]
            columns=(
                Column("street", c.text(150)),
                Column("from_number", c.integer(1, 99_999)),
                Column("to_number", c.integer(1, 99_999)),
                Column("parity", c.choice(Parity)),
                Column("zone", c.known_code(zone_codes, "zona", "zone"), "zone_code"),
            ),
            derived=(Derived("street_key", "street", _bounded(street_key, 150)),),
            checks=(_range_in_order,),
            key=("street_key", "from_number", "to_number", "parity"),
        )
    if name == "badges":
        return RegistryKind(
            name=name,
            table=Badge.__table__,  # type: ignore[arg-type]
            columns=(
                Column("badge_number", c.text(40)),
                Column("holder_codice_fiscale", c.codice_fiscale),
                Column("valid_until", c.iso_date),
                Column("issuer", c.text(100)),
            ),
            derived=(Derived("holder_key", "holder_codice_fiscale", person_key),),
            key=("badge_number",),
        )
    if name == "businesses":
        street, number, key, house_no = _address()
        return RegistryKind(
            name=name,
            table=Business.__table__,  # type: ignore[arg-type]
            columns=(
                Column("partita_iva", c.partita_iva),
                Column("name", c.text(200)),
                street,
                number,
                Column("status", c.choice(BusinessStatus)),
                Column("ateco", c.optional(c.ateco), required=False),
            ),
            derived=(key, house_no),
            key=("partita_iva",),
            related=(
                Related(
                    Column(
                        "legal_representatives",
                        c.codici_fiscali(MAX_REPRESENTATIVES),
                        required=False,
                    ),
                    table=BusinessRepresentative.__table__,  # type: ignore[arg-type]
                    key="partita_iva",
                    fields=("person_key", "codice_fiscale"),
                ),
            ),
        )
    raise KeyError(name)
