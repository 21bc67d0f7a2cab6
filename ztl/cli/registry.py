"""`ztl registry import KIND FILE`: placeholder group, filled in by the registry import work."""

from __future__ import annotations

import click


@click.group(help="Registry imports (residents, vehicles, streets, badges, businesses).")
def registry() -> None:
    pass
