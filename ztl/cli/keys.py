"""`ztl keys init / rotate / list / import-p12`: the municipality's signing keys."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ztl.cli.common import BadInput
from ztl.seals.keys import key_store
from ztl.signing.keys import KeyStore, KeyStoreError, Purpose


@click.group(help="Signing keys and certificates (instance folder, mode 0600).")
def keys() -> None:
    pass


@keys.command("init")
def init() -> None:
    """Create the root CA and the seal, PDF and list signing keys that are missing.

    The certificates name the municipality of the rules file in force ([municipality] name).
    """
    store = key_store()
    made = store.init()
    if made:
        click.echo(f"created: {', '.join(made)} (subject: {store.municipality})")
    else:
        click.echo(f"keys already present in {store.folder}")
    _warn_if_other_name(store)


def _warn_if_other_name(store: KeyStore) -> None:
    """Keys made under another name (an earlier rules file) are kept, never replaced silently:
    replacing the root would make every permit already issued unverifiable. Say so instead."""
    named = store.root_organisation()
    if named is not None and named != store.municipality:
        click.echo(
            f"warning: the root certificate in {store.folder} names {named!r}, the rules file "
            f"{store.municipality!r}: certificates keep the name they were made with (new keys "
            "in an empty ZTL_KEYS_DIR would carry the new one, and permits sealed before would "
            "stop verifying)",
            err=True,
        )


@keys.command("rotate")
@click.option(
    "--publish-hours",
    type=click.IntRange(0, 24 * 30),
    default=24,
    show_default=True,
    help="Hours the new key is published in the trust list before it signs (0: at once).",
)
def rotate(publish_hours: int) -> None:
    """Add a new seal key; it signs new seals after the publication delay, older keys keep verifying."""
    now = dt.datetime.now(dt.UTC)
    try:
        store = key_store()
        pair = store.rotate(now, starts_at=now + dt.timedelta(hours=publish_hours))
    except KeyStoreError as exc:
        raise BadInput(str(exc)) from exc
    _warn_if_other_name(store)
    click.echo(
        f"new seal key {pair.kid.hex()} published now, signs from "
        f"{pair.valid_from + dt.timedelta(minutes=5):%Y-%m-%d %H:%M}Z, valid until {pair.valid_to:%Y-%m-%d}"
    )


@keys.command("list")
def list_() -> None:
    store = key_store()
    try:
        pairs = [store.root(), *store.seals(), store.pdf(), store.lists()]
        current = store.current_seal()
    except KeyStoreError as exc:
        raise BadInput(str(exc)) from exc
    for pair in pairs:
        marker = " (signs new seals)" if pair.name == current.name else ""
        if pair.valid_from > dt.datetime.now(dt.UTC):
            marker = " (published, not signing yet)"
        click.echo(
            f"{pair.purpose:<13} {pair.kid.hex()}  {pair.valid_from:%Y-%m-%d} .. "
            f"{pair.valid_to:%Y-%m-%d}  {pair.name}{marker}"
        )


@keys.command("import-p12")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--purpose", type=click.Choice([p.value for p in Purpose]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the PKCS#12 password from stdin.")
def import_p12(file: Path, purpose: str, password_stdin: bool) -> None:
    """Use the municipality's own key and certificate from a real CA."""
    password = sys.stdin.readline().rstrip("\n").encode() if password_stdin else None
    try:
        pair = key_store().import_p12(file.read_bytes(), password, Purpose(purpose))
    except KeyStoreError as exc:
        raise BadInput(str(exc)) from exc
    click.echo(
        f"imported {purpose} key {pair.kid.hex()} ({pair.certificate.subject.rfc4514_string()})"
    )
