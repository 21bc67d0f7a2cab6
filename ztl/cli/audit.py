"""`ztl audit verify`: check that the audit trail (the event history) has not been altered.

It walks the hash chain of the events (ztl.records.audit_chain) and recomputes every hash: an
edited row, a deleted one, or events deleted at the end are reported with the event concerned.
On success it prints the chain head (position and hash): keep it outside the database (the daily
job's log, a ticket, an e-mail to the records office). Someone with write access to the database
can rewrite the whole chain, but not the heads exported before; `--anchor SEQ:HASH` checks them.
Exit status: 0 intact, 1 altered (the first broken link is printed), 2 bad usage (a bad anchor).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from ztl.cli.common import BadInput, Refused
from ztl.records.audit_chain import ChainReport, parse_anchor, verify_audit_trail


@click.group(help="The audit trail: the hash chain of the event history.")
def audit() -> None:
    pass


def _head(report: ChainReport) -> str:
    if report.head_seq is None:
        return "none (no head row)"
    return f"{report.head_seq}:{report.head_hash}"


@audit.command("verify")
@click.option(
    "--anchor",
    "anchor_texts",
    multiple=True,
    metavar="SEQ:HASH",
    help="A chain head printed by an earlier run; the event at SEQ must still have HASH. Repeatable.",
)
def verify(anchor_texts: tuple[str, ...]) -> None:
    """Recompute the chain of every event; report the first edited or deleted row."""
    anchors: dict[int, str] = {}
    for text in anchor_texts:
        try:
            seq, digest = parse_anchor(text)
        except ValueError as exc:
            raise BadInput(str(exc)) from exc
        if anchors.get(seq, digest) != digest:
            raise BadInput(f"two different hashes given for position {seq}")
        anchors[seq] = digest

    show_progress = sys.stderr.isatty()  # a person watching: show how far the walk is

    def progress(count: int) -> None:
        click.echo(f"\r{count} events checked...", nl=False, err=True)

    callback: Callable[[int], None] | None = progress if show_progress else None
    report = verify_audit_trail(anchors, callback)
    if show_progress:
        click.echo("\r", nl=False, err=True)
    if not report.intact:
        click.echo(f"{report.checked} events checked before the break")
        click.echo(f"chain head: {_head(report)}")
        raise Refused(f"audit trail altered: {report.problem}")
    redacted = f" ({report.redacted} redacted by retention)" if report.redacted else ""
    click.echo(f"audit trail intact: {report.checked} events checked{redacted}")
    click.echo(f"chain head: {_head(report)}")
    if report.head_seq:
        click.echo(f"(keep it elsewhere; check it later with --anchor {_head(report)})")
