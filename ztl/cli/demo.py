"""`ztl demo load` and `ztl demo generate`: the demo city and synthetic registry files."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from ztl.cli.common import BadInput, refusal_text
from ztl.demo.generator import CitySize, generate
from ztl.demo.loader import load_demo
from ztl.demo.permits import issue_demo_permits
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.seals.keys import key_store


@click.group(help="Demo city (Prato) and synthetic registry files.")
def demo() -> None:
    pass


@demo.command("load")
def load() -> None:
    """Load the demo city (idempotent) and print one login per role.

    Refused when ZTL_ENV is production: the demo makes an account for every role, administrator
    included, with passwords printed on screen, and fills the registers with invented people.
    """
    if current_app.config.get("ZTL_ENV") == "production":
        raise BadInput(
            "ztl demo load is refused with ZTL_ENV=production: it creates demo accounts "
            "(an administrator too) and invented registers. Use it on a demo instance only."
        )
    summary = load_demo(progress=lambda message: click.echo(message, err=True))
    click.echo("Demo logins (kept in the instance folder, demo_logins.txt):")
    for login in summary.logins:
        click.echo(f"  {login.role:<11} {login.email:<24} {login.password}")
    if not key_store().exists():
        click.echo(
            "No signing keys: run `ztl keys init`, then `ztl demo load` again for demo permits."
        )
        return
    try:
        numbers = issue_demo_permits()
    except ServiceError as exc:
        raise BadInput(f"demo permits not issued: {refusal_text(exc)}") from exc
    for number in numbers:
        click.echo(f"Demo permit issued: {number} (`ztl permits pdf {number} --out permit.pdf`)")


@demo.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--residents", default=3000, show_default=True, type=int)
@click.option("--vehicles", default=2500, show_default=True, type=int)
@click.option("--badges", default=60, show_default=True, type=int)
@click.option("--businesses", default=200, show_default=True, type=int)
@click.option("--seed", default=2026, show_default=True, type=int)
def generate_(
    out_dir: Path, residents: int, vehicles: int, badges: int, businesses: int, seed: int
) -> None:
    """Write synthetic registry files (any size, streamed) into OUT."""
    try:
        size = CitySize(residents, vehicles, badges, businesses)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc

    def progress(kind: str, rows: int) -> None:
        click.echo(f"{kind}: {rows:,} rows", err=True)

    try:
        paths = generate(out_dir, size, seed=seed, progress=progress)
    except OSError as exc:
        raise BadInput(f"cannot write to {out_dir}: {exc.strerror or exc}") from exc
    for kind, path in paths.items():
        click.echo(f"{kind}\t{path}")
    sys.stdout.flush()
