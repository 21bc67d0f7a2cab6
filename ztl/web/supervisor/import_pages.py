"""Registry import by upload: the file is checked here, at the edge, then handed to the service.

The upload goes to a temporary file outside the application (never under static/) and is removed
when the import ends. Before anything is written, the file must be a non-empty UTF-8 text file; the
service then refuses a file whose header is wrong, also before writing. Refusals are a 400 page
with the reason, never a 500.
"""

from __future__ import annotations

import dataclasses
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from ztl.errors import error_text
from ztl.infrastructure import submissions
from ztl.records.overview import recent_imports
from ztl.records.statistics import registry_rows
from ztl.registries.csvfile import CsvFileError, check_utf8
from ztl.registries.importer import (
    ImportResult,
    RegistryFileError,
    RowProblem,
    import_registry,
)
from ztl.web.idempotency import remember_result, submission_key, submission_scope
from ztl.web.supervisor.blueprint import acting_user, bp
from ztl.web.supervisor.forms import ImportForm

PROBLEMS_SHOWN = 500
SNIFF_BYTES = 64 * 1024
# What browsers send for a .csv file (Excel on Windows claims vnd.ms-excel; some send nothing useful).
ACCEPTED_TYPES = {"application/vnd.ms-excel", "application/csv", "application/octet-stream", ""}


class UploadRefused(Exception):
    """The upload is not a file that can be imported; str() says why, in the user's language."""


@dataclass(frozen=True)
class ImportReport:
    """The service's result, with the rows the file added told apart from those it updated."""

    result: ImportResult
    file_name: str
    inserted: int
    updated: int

    @property
    def problems(self) -> list[RowProblem]:
        return list(self.result.problems[:PROBLEMS_SHOWN])

    @property
    def problems_not_shown(self) -> int:
        return self.result.problems_total - len(self.problems)

    def shown(self) -> dict[str, Any]:
        """What the page after the redirect shows (post/redirect/get), as plain data."""
        return {
            "file_name": self.file_name,
            "inserted": self.inserted,
            "updated": self.updated,
            "result": {
                "kind": self.result.kind,
                "rows_read": self.result.rows_read,
                "duplicates": self.result.duplicates,
                "rows_rejected": self.result.rows_rejected,
            },
            "problems": [dataclasses.asdict(p) for p in self.problems],
            "problems_not_shown": self.problems_not_shown,
        }


class _NamedText(io.TextIOWrapper):
    """A UTF-8 text stream that the import records under the uploaded file's name, not the temp path."""

    def __init__(self, buffer: io.BufferedReader, display_name: str) -> None:
        super().__init__(buffer, encoding="utf-8", newline="")
        self._display_name = display_name

    @property
    def name(self) -> str:
        return self._display_name


@contextmanager
def _saved(upload: FileStorage) -> Iterator[Path]:
    """The upload in a temporary file, removed afterwards whatever happens."""
    handle, name = tempfile.mkstemp(prefix="ztl-import-", suffix=".csv")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            upload.save(out)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _check_text(upload: FileStorage, path: Path) -> None:
    """Refuse what is not a UTF-8 text file, before the importer opens it."""
    mimetype = (upload.mimetype or "").lower()
    if not mimetype.startswith("text/") and mimetype not in ACCEPTED_TYPES:
        raise UploadRefused(_("Il file non è un file di testo CSV."))
    if path.stat().st_size == 0:
        raise UploadRefused(_("Il file è vuoto."))
    with path.open("rb") as data:
        if b"\x00" in data.read(SNIFF_BYTES):
            raise UploadRefused(_("Il file non è un file di testo CSV."))
    try:
        check_utf8(path)
    except CsvFileError as exc:
        raise UploadRefused(error_text("file_not_utf8", detail=str(exc))) from exc


def _import(kind: str, upload: FileStorage) -> ImportReport:
    file_name = secure_filename(upload.filename or "") or "upload.csv"
    with _saved(upload) as path:
        _check_text(upload, path)
        before = registry_rows(kind)
        with path.open("rb") as raw, _NamedText(raw, file_name) as stream:
            try:
                result = import_registry(kind, stream, actor=acting_user())
            except RegistryFileError as exc:
                raise UploadRefused(error_text(exc)) from exc
    inserted = max(registry_rows(kind) - before, 0)
    updated = max(result.rows_imported - result.duplicates - inserted, 0)
    return ImportReport(result, file_name, inserted, updated)


@bp.route("/importazioni", methods=["GET", "POST"])
def imports() -> tuple[str, int] | Response:
    form = ImportForm()
    refusal: str | None = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = _import(form.kind.data or "", upload)
        except UploadRefused as exc:
            refusal, status = str(exc), 400
        else:
            remember_result(report.shown())
            return redirect(url_for("supervisor.import_report", key=submission_key()), 303)
    elif request.method == "POST":
        status = 400
    return _page(form, None, refusal, status)


@bp.get("/importazioni/esito/<key>")
def import_report(key: str) -> tuple[str, int]:
    """The report of an import just made, to the supervisor who made it (after the redirect)."""
    shown = submissions.result_of(submission_scope(), key)
    if shown is None:
        abort(404)
    return _page(ImportForm(formdata=None), shown, None, 200)


def _page(
    form: ImportForm, report: dict[str, Any] | None, refusal: str | None, status: int
) -> tuple[str, int]:
    return render_template(
        "supervisor/imports.html",
        form=form,
        report=report,
        refusal=refusal,
        imports=recent_imports(),
    ), status
