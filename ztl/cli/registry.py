"""`ztl registry import KIND FILE [--report FILE]`: load a registry file, show progress and a summary.

Exit status (shared/spec/cli.md): 0 when the import ran, even if some rows were refused (they are
counted and listed, in the report or on stderr); 2 when the file cannot be imported at all (unknown
kind, missing or unreadable file, not UTF-8, missing column), and then nothing was written.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from ztl.cli.common import BadInput, refusal_text
from ztl.infrastructure.unit_of_work import Actor
from ztl.registries.importer import ImportResult, RegistryFileError, import_registry
from ztl.registries.schemas import KINDS

PROBLEMS_SHOWN = 20
PROGRESS_EVERY_SECONDS = 2.0


@click.group(help="Registry imports (residents, vehicles, streets, badges, businesses).")
def registry() -> None:
    pass


@registry.command("import")
@click.argument("kind", type=click.Choice(KINDS, case_sensitive=False), metavar="KIND")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every refused row to this CSV file (line,column,reason).",
)
def import_(kind: str, file: Path, report_path: Path | None) -> None:
    """Import FILE (UTF-8 CSV with a header row) into the KIND register, updating rows by key.

    KIND: residents, vehicles, streets, badges or businesses. Rows that fail validation are
    counted and reported (--report FILE, or the first ones on stderr); the rest are imported.
    """
    kind = kind.lower()
    progress = _Progress(kind)
    if report_path is not None and report_path.resolve() == file.resolve():
        raise BadInput("--report must not be the file being imported")
    try:
        report = report_path.open("w", encoding="utf-8", newline="") if report_path else None
    except OSError as exc:
        raise BadInput(f"--report {report_path}: {exc.strerror or exc}") from exc
    try:
        result = import_registry(kind, file, actor=Actor.cli(), progress=progress, report=report)
    except RegistryFileError as exc:
        raise BadInput(refusal_text(exc)) from exc
    finally:
        if report is not None:
            empty = report.tell() == 0
            report.close()
            if empty and report_path is not None:
                report_path.unlink(missing_ok=True)  # nothing was imported: no report either
    _summary(result, report_path)


class _Progress:
    """Prints rows read to stderr now and then: a long import must show it is alive."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.started = self.last = time.monotonic()

    def __call__(self, rows_read: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_SECONDS:
            self.last = now
            rate = rows_read / max(now - self.started, 1e-9)
            click.echo(f"{self.kind}: {rows_read:,} rows read ({rate:,.0f} rows/s)", err=True)


def _summary(result: ImportResult, report_path: Path | None) -> None:
    click.echo(
        f"{result.kind}: {result.rows_read:,} rows read, {result.rows_imported:,} imported, "
        f"{result.rows_rejected:,} rejected, {result.duplicates:,} duplicate keys "
        f"(import #{result.import_id})"
    )
    if not result.problems_total:
        return
    if report_path is not None:
        click.echo(f"{result.problems_total:,} problems written to {report_path}", err=True)
        return
    for problem in result.problems[:PROBLEMS_SHOWN]:
        column = f" [{problem.column}]" if problem.column else ""
        click.echo(f"line {problem.line}{column}: {problem.reason}", err=True)
    hidden = result.problems_total - min(len(result.problems), PROBLEMS_SHOWN)
    if hidden > 0:
        click.echo(f"... and {hidden:,} more: use --report FILE to get them all", err=True)
