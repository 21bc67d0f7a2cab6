"""Importing a registry file (residents, vehicles, streets, badges, businesses) into its table.

The file is read as a stream and every row is validated (ztl.registries.schemas); good rows are
upserted by their key, bad rows are reported with line, column and reason, and nothing is dropped
silently. Within one file the last row of a key wins and each earlier one is reported
(ztl.registries.duplicates). A column that lists rows of another table (the businesses file's
`legal_representatives`) replaces those rows for each key the file names, in the same batch
transaction as the key's row (ztl.registries.related); its bad values are reported like any other.

Transactions: whatever stops the import as a whole (unknown kind, missing or unreadable file, not
UTF-8, empty file, missing required column) is found before anything is written, so it changes
nothing. Good rows are then committed in batches of BATCH_SIZE, each batch together with the counts
of the run (RegistryImport). Why batches and not one transaction: a register of a city like Rome
has millions of rows; one transaction would hold the whole write (and on SQLite the database's only
write lock) for the full run, and a failure near the end would throw away all of it. Why that is
safe: the upsert makes re-running idempotent - rows are matched by key and updated only where a
value differs - so after an interruption the operator simply imports the same file again. A run
that stopped half-way stays visible as a RegistryImport without finished_at, with its counts.

Threads: this module reads and validates; a BatchWriter thread (ztl.registries.writer) writes each
batch while the next is read. Call it outside any open transaction of your own: it commits, and
the writer uses a connection of its own.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy import Connection, select, update

from ztl.extensions import db
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import RegistryImport, Zone, utcnow
from ztl.registries.csvfile import (
    BadRecord,
    CsvFileError,
    Header,
    check_utf8,
    read_header,
    read_rows,
)
from ztl.registries.related import replace_related
from ztl.registries.schemas import KINDS, RegistryKind, registry_kind
from ztl.registries.upsert import Row, compile_upsert, sqlite_has_json
from ztl.registries.validate import RowValidator
from ztl.registries.writer import Batch, BatchWriter, Written

# Rows per transaction. Random keys dirty pages all over the key and owner indexes, and a commit
# writes every dirty page: the larger the batch, the more rows share a page write. Three batches at
# most are in memory (ztl.registries.writer), each some ten megabytes.
BATCH_SIZE = 50_000
# SQLite page cache of the writer's connection (KiB): the default 2 MiB re-reads index pages from
# disk at every batch.
SQLITE_CACHE_KIB = 32_768
# Problems kept in ImportResult.problems; all of them are counted and written to the report.
MAX_PROBLEMS_KEPT = 10_000
REPORT_HEADER = ("line", "column", "reason")


class RegistryFileError(ServiceError):
    """The file cannot be imported at all; the message names what to fix."""

    code = "registry_file"


@dataclass(frozen=True)
class RowProblem:
    """Why a row (line of the file) was refused or replaced; column is "" for the whole row."""

    line: int
    column: str
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """What one run did. rows_read = rows_imported + rows_rejected.

    duplicates counts imported rows replaced by a later row of the same key in the same file (each
    is also a problem). problems holds the first MAX_PROBLEMS_KEPT; problems_total counts all.
    """

    import_id: int
    kind: str
    source: str
    rows_read: int
    rows_imported: int
    rows_rejected: int
    duplicates: int
    problems: list[RowProblem]
    problems_total: int


def import_registry(
    kind: str,
    source: Path | TextIO,
    *,
    actor: Actor,
    progress: Callable[[int], None] | None = None,
    report: TextIO | None = None,
) -> ImportResult:
    """Import one registry file; RegistryFileError when the file as a whole cannot be imported.

    `source` is a path, or an open text stream (the caller decoded it; UTF-8 is then its business).
    `progress` is called with the number of rows read so far after every committed batch.
    `report` receives every problem as CSV (line,column,reason), as they are found.
    """
    if kind not in KINDS:
        raise RegistryFileError(
            f"tipo di registro sconosciuto / unknown registry kind {kind!r}; kinds: "
            + ", ".join(KINDS),
            code="kind_unknown",
        )
    with _opened(source) as (stream, source_name):
        try:
            header = read_header(stream)
            spec = registry_kind(kind, _zone_codes() if kind == "streets" else {})
            header.positions(spec.required_columns)  # names every missing required column
            spec = spec.for_header(header.names)
            positions = header.positions(tuple(column.name for column in spec.file_columns))
        except CsvFileError as exc:
            raise RegistryFileError(str(exc), code="file_invalid") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise RegistryFileError(_unreadable(source_name, exc), code="file_unreadable") from exc
        run = _Run(spec, header, positions, source_name, actor, progress, report)
        return run.execute(stream)


class _Run:
    """One import run: reading and validating here, writing on a BatchWriter thread."""

    def __init__(
        self,
        spec: RegistryKind,
        header: Header,
        positions: dict[str, int],
        source_name: str,
        actor: Actor,
        progress: Callable[[int], None] | None,
        report: TextIO | None,
    ) -> None:
        self.spec = spec
        self.header = header
        self.source_name = source_name
        self.actor = actor
        self.progress = progress
        self.report = csv.writer(report) if report is not None else None
        self.session = db.session
        engine = db.engine
        with engine.connect() as connection:
            use_json = connection.dialect.name == "sqlite" and sqlite_has_json(connection)
        self.engine = engine
        self.upsert = compile_upsert(
            spec.table, engine.dialect, spec.key, spec.update_fields, use_json=use_json
        )
        # Validated rows: the upsert's fields, then each related column's items.
        self.width = len(self.upsert.fields)
        order = self.upsert.fields + tuple(r.column.target for r in spec.related)
        self.validate = RowValidator(spec, positions, len(header.names), order)
        self.key_positions = tuple(self.upsert.fields.index(field) for field in spec.key)
        self.rows_read = self.rows_imported = self.rows_rejected = self.duplicates = 0
        self.rejected_reading = 0  # by validation; rows_rejected adds the database's refusals
        self.problems: list[RowProblem] = []
        self.problems_total = 0
        self.import_id = 0
        self.line = 1  # the last line read, for messages about a failure half-way

    def execute(self, stream: TextIO) -> ImportResult:
        if self.report is not None:
            self.report.writerow(REPORT_HEADER)
        record = RegistryImport(
            kind=self.spec.name, source_name=self.source_name[-255:], actor_label=self.actor.label
        )
        self.session.add(record)
        self.session.commit()  # the run is visible (unfinished) while it runs
        self.record = record
        self.import_id = record.id
        failure: OSError | UnicodeDecodeError | None = None
        writer = BatchWriter(
            self.engine,
            self.upsert,
            self._write_counts,
            SQLITE_CACHE_KIB,
            self._write_related if self.spec.related else None,
        )
        try:
            try:
                self._read(stream, writer)
            except (OSError, UnicodeDecodeError) as exc:
                failure = exc
        finally:
            results = writer.close()
        self._collect(results)
        if failure is not None:
            message = (
                f"{_unreadable(self.source_name, failure)} after line {self.line}; "
                f"the {self.rows_imported} good rows before it were imported: fix the file and "
                "import it again (importing again is safe: rows are matched by key)"
            )
            self._finish("import_failed", message)
            raise RegistryFileError(message, code="file_unreadable") from failure
        self._finish("imported", None)
        return ImportResult(
            import_id=self.import_id,
            kind=self.spec.name,
            source=self.source_name,
            rows_read=self.rows_read,
            rows_imported=self.rows_imported,
            rows_rejected=self.rows_rejected,
            duplicates=self.duplicates,
            problems=self.problems,
            problems_total=self.problems_total,
        )

    def _read(self, stream: TextIO, writer: BatchWriter) -> None:
        validate = self.validate
        batch: list[Row] = []
        lines: list[int] = []
        try:
            for item in read_rows(stream, self.header):
                self.rows_read += 1
                if isinstance(item, BadRecord):
                    self.line = item.line
                    self._reject(item.line, [("", item.reason)])
                    continue
                line, fields = item
                self.line = line
                row, problems = validate(fields)
                if row is None:
                    self._reject(line, problems)
                    continue
                batch.append(row)
                lines.append(line)
                if len(batch) >= BATCH_SIZE:
                    self._submit(writer, batch, lines)
                    batch, lines = [], []
        except (OSError, UnicodeDecodeError):
            if batch:  # the rows read before the failure are valid: write them, then fail
                self._submit(writer, batch, lines)
            raise
        if batch:
            self._submit(writer, batch, lines)

    def _reject(self, line: int, problems: list[tuple[str, str]]) -> None:
        self.rows_rejected += 1
        self.rejected_reading += 1
        for column, reason in problems:
            self._problem(line, column, reason)

    def _submit(self, writer: BatchWriter, rows: list[Row], lines: list[int]) -> None:
        """Hand a batch to the writer (encoding it here: that part is Python, the writer's is not)."""
        positions = self.key_positions
        if len(positions) == 1:
            (position,) = positions
            keys = [[row[position], line] for row, line in zip(rows, lines, strict=True)]
        else:
            keys = [
                [" / ".join(str(row[p]) for p in positions), line]
                for row, line in zip(rows, lines, strict=True)
            ]
        related: tuple[list[tuple[object, object]], ...] = ()
        if self.spec.related:
            width = self.width
            (key_position,) = positions
            related = tuple(
                [(row[key_position], row[width + n]) for row in rows]
                for n in range(len(self.spec.related))
            )
            rows = [row[:width] for row in rows]
        batch = Batch(
            encoded=self.upsert.encode(rows),
            size=len(rows),
            keys=json.dumps(keys, ensure_ascii=False),
            rows_read=self.rows_read,
            rejected=self.rejected_reading,
            related=related,
        )
        self._collect(writer.submit(batch))

    def _write_related(self, connection: Connection, batch: Batch, refused: set[int]) -> None:
        """The related rows of a batch, after its upsert (runs on the writer's thread)."""
        for spec, rows in zip(self.spec.related, batch.related, strict=True):
            replace_related(connection, spec, rows, refused)

    def _collect(self, results: list[Written]) -> None:
        """Count and report what the writer did with each batch, in order."""
        for result in results:
            self.rows_imported += result.imported
            self.rows_rejected += len(result.refused)
            for line, reason in result.refused:
                self._problem(line, "", reason)
            for earlier, later, key in result.replaced:
                self.duplicates += 1
                self._problem(
                    earlier,
                    self.spec.key_label,
                    f"chiave ripetuta / duplicate key {key}: replaced by line {later} "
                    "(the last row of a key wins)",
                )
            if self.progress is not None:
                self.progress(result.rows_read)

    def _problem(self, line: int, column: str, reason: str) -> None:
        self.problems_total += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(RowProblem(line, column, reason))
        if self.report is not None:
            self.report.writerow((line, column, reason))

    def _write_counts(
        self, connection: Connection, read: int, imported: int, rejected: int
    ) -> None:
        """The run's counts, in the writer's transaction of each batch (runs on its thread)."""
        connection.execute(
            update(RegistryImport)
            .where(RegistryImport.id == self.import_id)
            .values(rows_read=read, rows_imported=imported, rows_rejected=rejected)
        )

    def _finish(self, action: str, reason: str | None) -> None:
        record = self.record
        record.rows_read = self.rows_read
        record.rows_imported = self.rows_imported
        record.rows_rejected = self.rows_rejected
        if action == "imported":
            record.finished_at = utcnow()
        record_event(
            self.session,
            self.actor,
            "registry",
            self.spec.name,
            action,
            reason=reason,
            data={
                "import_id": self.import_id,
                "source": self.source_name,
                "rows_read": self.rows_read,
                "rows_imported": self.rows_imported,
                "rows_rejected": self.rows_rejected,
                "duplicates": self.duplicates,
            },
        )
        self.session.commit()


def _zone_codes() -> dict[str, str]:
    codes = db.session.scalars(select(Zone.code)).all()
    return {code: code for code in codes}


@contextmanager
def _opened(source: Path | TextIO | str) -> Iterator[tuple[TextIO, str]]:
    """The source as a text stream and its name; a path is checked to be a readable UTF-8 file.
    The name is the file's own, not the folder it was read from: the import history shows it to
    supervisors, and a server's paths are nobody's business on a page."""
    if not isinstance(source, str | os.PathLike):
        yield source, str(getattr(source, "name", "<stream>"))
        return
    path = Path(source)
    try:
        if not path.is_file():
            reason = "non è un file / not a file" if path.exists() else "non esiste / not found"
            raise RegistryFileError(f"{path}: {reason}", code="file_unreadable")
        check_utf8(path)
        handle = path.open(encoding="utf-8", newline="")
    except CsvFileError as exc:
        raise RegistryFileError(f"{path}: {exc}", code="file_not_utf8") from exc
    except OSError as exc:
        raise RegistryFileError(_unreadable(str(path), exc), code="file_unreadable") from exc
    with handle:
        yield handle, path.name


def _unreadable(name: str, exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"{name}: il file non è UTF-8 / the file is not UTF-8"
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return f"{name}: file non leggibile / cannot read the file ({detail})"
