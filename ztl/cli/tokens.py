"""`ztl tokens create/revoke/list`: API tokens for police devices and camera gates."""

from __future__ import annotations

import click

from ztl.accounts.api_tokens import TokenError, create_token, list_tokens, revoke_token
from ztl.cli.common import refusal_text


@click.group(help="API tokens for machine clients.")
def tokens() -> None:
    pass


@tokens.command("create")
@click.option("--role", required=True, type=click.Choice(["police", "gate"]))
@click.option(
    "--gate",
    default=None,
    metavar="CODE",
    help="A gate token for this gate only: its transits are that gate's, whatever they say.",
)
@click.argument("name")
def create(role: str, name: str, gate: str | None) -> None:
    """Create a token and print it once: it cannot be shown again."""
    try:
        _, plaintext = create_token(name, role, gate=gate)
    except TokenError as exc:
        raise click.UsageError(refusal_text(exc)) from exc
    click.echo(plaintext)
    click.echo(f"token {name!r} ({role}) created: store it now, it is not shown again.", err=True)


@tokens.command("revoke")
@click.argument("name")
def revoke(name: str) -> None:
    try:
        revoke_token(name)
    except TokenError as exc:
        raise click.UsageError(refusal_text(exc)) from exc
    click.echo(f"token {name!r} revoked")


@tokens.command("list")
def list_() -> None:
    for token in list_tokens():
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        gate = f"\tgate {token.gate}" if token.gate else ""
        click.echo(f"{token.name}\t{token.role}\t{token.prefix}…\t{state}{gate}")
