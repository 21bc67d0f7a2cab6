"""`ztl static build`: the hashed and compressed copies of static/ that the web server serves."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from ztl.static_build import build_static, read_manifest, remove_other_builds


@click.group(help="Static files (styles, scripts, fonts, icons) as the web server serves them.")
def static() -> None:
    pass


@static.command("build")
@click.option(
    "--remove-old",
    is_flag=True,
    help="Also delete the builds of other versions (once no running server uses them).",
)
def build(remove_old: bool) -> None:
    """Build the hashed, compressed copies of static/ (once per version of its files).

    The web server also builds them at start-up when missing; running this first (as `make run`
    does) spares the first start the compression.
    """
    builds = Path(current_app.config["ZTL_STATIC_BUILD_DIR"])
    folder = build_static(Path(current_app.static_folder or "static"), builds)
    click.echo(f"{len(read_manifest(folder))} static files in {folder}")
    if remove_old:
        removed = remove_other_builds(builds, folder)
        click.echo(f"removed {len(removed)} build(s) of other versions")
