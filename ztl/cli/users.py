"""`ztl users create`: accounts for staff and residents, password from a prompt or stdin."""

from __future__ import annotations

import sys

import click

from ztl.models.enums import Role
from ztl.services.accounts import AccountError, create_user


@click.group(help="User accounts.")
def users() -> None:
    pass


@users.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--email", required=True)
@click.option("--name", "full_name", default="", help="Full name shown in the back office.")
@click.option("--codice-fiscale", default=None, help="For residents: their codice fiscale.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(
    role: str, email: str, full_name: str, codice_fiscale: str | None, password_stdin: bool
) -> None:
    """Create an account; the password is asked for (or read from stdin), never an argument."""
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(role, email, password, full_name, codice_fiscale)
    except AccountError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(f"created {user.role} {user.email} (id {user.id})")
