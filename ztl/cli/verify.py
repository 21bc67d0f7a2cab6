"""`ztl verify FILE.pdf|SEAL` and `ztl lists export|fetch`: checking permits offline.

`ztl verify` needs no database and no network: it reads the pinned root and the cached trust and
revocation lists from a folder (default instance/lists). On a PDF it checks the PAdES signature
against the root and reads the QR code from the rendered page, then verifies that seal.
Exit status: 0 genuine and valid, 1 refused (the reason is printed), 2 bad input or no lists.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from cryptography.hazmat.primitives import serialization
from flask import current_app

from ztl.city.rules_config import current_rules
from ztl.cli.common import BadInput, Refused
from ztl.pdf.read import SealNotFound, read_seal
from ztl.pdf.sign import check_pdf_signature
from ztl.seals.keys import key_store
from ztl.seals.trust_lists import revocation_list_document, trust_list_document
from ztl.seals.verification import seal_result_json, zone_calendars
from ztl.signing.cache import ListCache
from ztl.signing.keys import KeyStoreError
from ztl.signing.lists import ListError
from ztl.signing.seal import PREFIX as SEAL_PREFIX
from ztl.signing.seal import SealCheck, verify_seal
from ztl.values import InvalidValue
from ztl.values.plates import normalise_plate
from ztl.values.times import parse_instant

MAX_PDF_BYTES = 20 * 1024 * 1024


def _cache(folder: Path | None) -> ListCache:
    return ListCache(folder or Path(current_app.instance_path) / "lists")


def _target(target: str) -> tuple[str, dict[str, Any] | None]:
    """The seal text, and the PDF signature check when the target is a PDF file."""
    if target == "-":
        return sys.stdin.read().strip(), None
    if target.startswith(SEAL_PREFIX):  # a seal is never a file name (and may be too long for one)
        return target, None
    path = Path(target)
    try:
        is_file = path.is_file()
    except OSError:  # a name too long for the file system: not a file, so the text itself
        is_file = False
    if not is_file:
        return target, None
    if path.stat().st_size > MAX_PDF_BYTES:
        raise BadInput(f"{path} is larger than 20 MiB")
    data = path.read_bytes()
    if not data.startswith(b"%PDF"):
        return data.decode("ascii", "replace").strip(), None
    return data.decode("latin-1"), {"pdf": data}


@click.command("verify")
@click.argument("target")
@click.option("--at", default=None, help="Time of the check, with offset (default now).")
@click.option("--zone", default=None, help="Zone where the vehicle is.")
@click.option("--plate", default=None, help="Plate of the vehicle.")
@click.option("--lists", "lists_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def verify(
    target: str,
    at: str | None,
    zone: str | None,
    plate: str | None,
    lists_dir: Path | None,
    as_json: bool,
) -> None:
    """Verify a permit PDF (signature and seal) or a seal string, offline, with cached lists."""
    try:
        when = parse_instant(at) if at else dt.datetime.now(dt.UTC)
        plate = normalise_plate(plate) if plate else None
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc
    try:
        cached = _cache(lists_dir).load()
    except ListError as exc:
        raise BadInput(str(exc)) from exc
    seal, pdf = _target(target)
    report: dict[str, Any] = {}
    if pdf is not None:
        signature = check_pdf_signature(pdf["pdf"], cached.root)
        report["pdf_signature"] = {
            "ok": signature.ok,
            "reason": signature.reason,
            "intact": signature.intact,
            "trusted": signature.trusted,
            "whole_file": signature.whole_file,
            "signer": signature.signer,
        }
        try:
            seal = read_seal(pdf["pdf"])
        except SealNotFound as exc:
            raise Refused(f"PDF signature: {signature.reason}; seal: {exc}") from exc
    # Windows in a seal are the municipality's wall clock: the rules file's time zone.
    timezone = ZoneInfo(current_rules().timezone)
    revoked = dict(cached.revocations.revoked)
    result = verify_seal(
        seal,
        cached.trust.seal_keys,
        revoked,
        SealCheck(when, zone.upper() if zone else None, plate),
        timezone,
        zone_calendars(),
    )
    report["seal"] = seal_result_json(result)
    report["lists"] = {
        "trust_list_issued_at": cached.trust.issued_at.isoformat(),
        "revocations_sequence": cached.revocations.sequence,
        "revocations_issued_at": cached.revocations.issued_at.isoformat(),
        "warnings": cached.stale(dt.datetime.now(dt.UTC)),
    }
    ok = result.valid and report.get("pdf_signature", {"ok": True})["ok"]
    report["valid"] = ok
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print(report)
    if not ok:
        sys.exit(1)


def _print(report: dict[str, Any]) -> None:
    if "pdf_signature" in report:
        sig = report["pdf_signature"]
        click.echo(f"PDF signature: {'OK' if sig['ok'] else 'REFUSED'} - {sig['reason']}")
    seal = report["seal"]
    click.echo(f"Seal: {'VALID' if seal['valid'] else 'REFUSED'} - {seal['reason']}")
    permit = seal["permit"]
    if permit:
        click.echo(
            f"  permit {permit['number']} cat. {permit['category']} plates "
            f"{', '.join(permit['plates'])} zones {', '.join(permit['zones'])} "
            f"{permit['validity']['en']}"
            + (f" hours {', '.join(permit['windows'])}" if permit["windows"] else "")
        )
    lists = report["lists"]
    click.echo(
        f"Lists: trust list of {lists['trust_list_issued_at']}, revocation list "
        f"#{lists['revocations_sequence']} of {lists['revocations_issued_at']}"
    )
    for warning in lists["warnings"]:
        click.echo(f"  warning: {warning}")


@click.group(help="Trust and revocation lists for offline verification.")
def lists() -> None:
    pass


@lists.command("export")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path))
def export(folder: Path | None) -> None:
    """Write the current signed lists and the root certificate (run on the server)."""
    cache = _cache(folder)
    try:
        root = key_store().root().certificate
        cache.pin_root(root.public_bytes(serialization.Encoding.PEM))
        stored = cache.store(trust_list_document(), revocation_list_document())
    except (KeyStoreError, ListError) as exc:
        raise BadInput(str(exc)) from exc
    click.echo(
        f"lists written to {cache.folder}: {len(stored.trust.seal_keys)} seal keys, "
        f"revocation list #{stored.revocations.sequence}"
    )


@lists.command("fetch")
@click.argument("base_url")
@click.option("--root", "root_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path))
def fetch(base_url: str, root_file: Path | None, folder: Path | None) -> None:
    """Download and verify the lists from a server; the root is pinned once with --root."""
    cache = _cache(folder)
    if root_file is not None:
        try:
            cache.pin_root(root_file.read_bytes())
        except ValueError as exc:
            raise BadInput(f"{root_file} is not a PEM certificate") from exc
    base = base_url.rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise BadInput("the URL must start with https:// (or http:// on a trusted network)")
    try:
        trust = _download(f"{base}/.well-known/ztl/trust-list")
        revocations = _download(f"{base}/.well-known/ztl/revocations")
        stored = cache.store(trust, revocations)
    except (OSError, ListError) as exc:
        raise BadInput(f"lists not updated: {exc}") from exc
    click.echo(
        f"lists verified and cached in {cache.folder}: revocation list "
        f"#{stored.revocations.sequence}"
    )


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 (scheme checked above)
        data: bytes = response.read(8 * 1024 * 1024 + 1)
    return data
