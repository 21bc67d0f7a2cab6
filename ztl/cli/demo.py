"""`ztl demo load` and `ztl demo generate`: placeholder group, filled in by the demo work."""

from __future__ import annotations

import click


@click.group(help="Demo city (Prato) and synthetic registry files.")
def demo() -> None:
    pass
