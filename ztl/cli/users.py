"""`ztl users create`: accounts for staff and residents, password from a prompt or stdin.
`ztl users reset-second-factor`: a staff member who lost their phone and their recovery codes."""

from __future__ import annotations

import sys

import click

from ztl.accounts import second_factor
from ztl.accounts.staff import AccountError, create_user, find_user_by_email
from ztl.cli.common import refusal_text
from ztl.infrastructure.unit_of_work import Actor
from ztl.models.enums import Role


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
        raise click.UsageError(refusal_text(exc)) from exc
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@users.command("reset-second-factor")
@click.argument("email")
def reset_second_factor(email: str) -> None:
    """Delete a staff member's authenticator and recovery codes and end their open sessions; they
    set up a new one at their next sign-in. Exit 1 when the account has none."""
    user = find_user_by_email(email)
    if user is None:
        raise click.UsageError(f"no account with e-mail {email!r}")
    try:
        user, ended = second_factor.reset(int(user.id), Actor.cli())
    except second_factor.SecondFactorError as exc:
        if exc.code == "not_enrolled":
            click.echo(f"{user.email} has no second factor: nothing to reset", err=True)
            raise SystemExit(1) from exc
        raise click.UsageError(refusal_text(exc)) from exc
    click.echo(f"second factor reset for {user.email}; sessions ended: {ended}")
