"""Streaming reader of registry CSV files: header first, then one row at a time with its line number.

Why streaming: a register of a large city has millions of rows; the importer holds one batch, never
the file. Column order is free and extra columns are ignored, so the header is mapped to positions
once. A byte-order mark (Excel's "CSV UTF-8") is tolerated, and so is a semicolon as separator
(Excel's CSV in an Italian locale) when the header has semicolons and no commas.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

_BOM = "\ufeff"
_CHUNK = 1 << 20


class CsvFileError(Exception):
    """The file as a whole cannot be read as a registry file; str() says why."""


@dataclass(frozen=True)
class Header:
    names: tuple[str, ...]
    delimiter: str

    def positions(self, required: tuple[str, ...]) -> dict[str, int]:
        """Where each required column is; CsvFileError naming every missing or repeated one."""
        missing = [name for name in required if name not in self.names]
        if missing:
            raise CsvFileError(
                f"colonne mancanti / missing column(s): {', '.join(missing)} "
                f"(required: {', '.join(required)}; found: {', '.join(self.names) or 'none'})"
            )
        repeated = [name for name in required if self.names.count(name) > 1]
        if repeated:
            raise CsvFileError(f"colonne ripetute / repeated column(s): {', '.join(repeated)}")
        return {name: self.names.index(name) for name in required}


def check_utf8(path: Path) -> None:
    """Refuse a file that is not UTF-8 before anything is imported, naming the first bad line.

    Why a pass of its own: the import commits in batches, so an encoding error found half-way would
    leave half a file imported. Decoding is fast (well under a second for a city-sized register).
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                line = lines_before + exc.object[: exc.start].count(b"\n") + 1
                raise CsvFileError(
                    f"il file non è UTF-8 / the file is not UTF-8 (first invalid byte on line "
                    f"{line}): save it as 'CSV UTF-8'"
                ) from exc
            lines_before += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise CsvFileError(
                "il file non è UTF-8 / the file is not UTF-8 (it ends inside a character)"
            ) from exc


def read_header(stream: TextIO) -> Header:
    """The header row: names stripped and lower-cased; CsvFileError when the file is empty."""
    first = stream.readline()
    if first.startswith(_BOM):
        first = first[1:]
    if not first.strip():
        raise CsvFileError("file vuoto / the file is empty: no header row")
    delimiter = ";" if ";" in first and "," not in first else ","
    try:
        names = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error as exc:  # e.g. a lone carriage return inside the header line
        raise CsvFileError(f"intestazione illeggibile / unreadable header row: {exc}") from exc
    return Header(tuple(name.strip().lower() for name in names), delimiter)


@dataclass(frozen=True)
class BadRecord:
    """A record the CSV parser itself could not read (e.g. a field over the size limit)."""

    line: int
    reason: str


def read_rows(stream: TextIO, header: Header) -> Iterator[tuple[int, list[str]] | BadRecord]:
    """(line number, fields) per record after the header; blank lines are skipped (no data).

    The line number is where the record starts (the header is line 1), so a record with a quoted
    line break is reported at its first line, where an editor shows it. A record the csv module
    cannot parse becomes a BadRecord and reading goes on with the next one.
    """
    reader = csv.reader(stream, delimiter=header.delimiter)
    consumed = 1  # lines consumed so far: the header was read before the reader existed
    while True:
        try:
            for fields in reader:
                start = consumed + 1
                consumed = reader.line_num + 1
                if fields:
                    yield start, fields
            return
        except csv.Error as exc:
            start = consumed + 1
            consumed = reader.line_num + 1
            yield BadRecord(start, f"CSV non leggibile / unreadable CSV: {exc}")
