"""Entry point of the `ztl` console script: the Flask CLI bound to `create_app`."""

from __future__ import annotations

from flask.cli import FlaskGroup

from ztl import create_app


def main() -> None:
    cli = FlaskGroup(create_app=create_app, help="ZTL permits: administration commands.")
    cli.main(prog_name="ztl")
