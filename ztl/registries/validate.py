"""Turning one CSV record into the values of one table row, or into the reasons it was refused.

Why every column is checked even after the first failure: the person fixing the file sees all that
is wrong with a row at once instead of one problem per re-run. Rows come out as tuples in the
order the compiled upsert wants them (see ztl.registries.upsert), followed by the values of the
related columns (ztl.registries.schemas.Related): no per-row dict.
"""

from __future__ import annotations

from typing import Any

from ztl.registries.schemas import RegistryKind
from ztl.values import InvalidValue

Problems = list[tuple[str, str]]  # (file column, reason); "" when the whole row is at fault
_NONE: Problems = []  # shared by every good row: never appended to
_UNSET = object()  # a field whose column failed to parse (None is a valid, empty value)


class RowValidator:
    """Validates records of one kind laid out as one file's header (positions resolved once)."""

    def __init__(
        self, kind: RegistryKind, positions: dict[str, int], width: int, order: tuple[str, ...]
    ) -> None:
        self._width = width
        self._order = order
        index = {field: i for i, field in enumerate(order)}
        self._plan = tuple(
            (column.name, positions[column.name], column.parse, index[column.target])
            for column in kind.file_columns
        )
        field_of = {column.name: column.target for column in kind.columns}
        self._derived = tuple(
            (d.source, index[field_of[d.source]], index[d.field], d.derive) for d in kind.derived
        )
        self._checks = kind.checks
        # Problems of a row are listed in the order of the file's columns.
        self._column_order = {"": -1, **positions}

    def __call__(self, fields: list[str]) -> tuple[tuple[Any, ...] | None, Problems]:
        if len(fields) != self._width:
            reason = (
                f"la riga ha {len(fields)} campi, l'intestazione {self._width} / "
                f"the row has {len(fields)} fields, the header {self._width}"
            )
            return None, [("", reason)]
        row: list[Any] = [_UNSET] * len(self._order)
        problems: Problems | None = None
        for name, position, parse, target in self._plan:
            try:
                row[target] = parse(fields[position].strip())
            except InvalidValue as exc:
                problems = problems or []
                problems.append((name, str(exc)))
        for source, source_index, target, derive in self._derived:
            value = row[source_index]
            if value is not _UNSET:
                try:
                    row[target] = derive(value)
                except InvalidValue as exc:
                    problems = problems or []
                    problems.append((source, str(exc)))
        if problems:
            problems.sort(key=lambda problem: self._column_order[problem[0]])
            return None, problems
        if self._checks:
            named = dict(zip(self._order, row, strict=True))
            for check in self._checks:
                found = check(named)
                if found is not None:
                    problems = problems or []
                    problems.append(found)
            if problems:
                return None, problems
        return tuple(row), _NONE
