"""Issuance end to end: number, validity, seal, signed PDF, one transaction, retry-safe."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.permit_helpers import city, fetch_lists, issue_resident, keys  # noqa: F401
from ztl.extensions import db
from ztl.models import Event, Permit, PermitNumberCounter
from ztl.pdf.read import read_seal
from ztl.pdf.sign import check_pdf_signature
from ztl.signing.keys import KeyStore
from ztl.signing.seal import SealCheck, verify_seal

ROME = ZoneInfo("Europe/Rome")


def test_issue_render_scan_verify_and_validate_signature(
    city: Flask, keys: KeyStore, client: FlaskClient
) -> None:
    result = issue_resident()
    year = dt.datetime.now(ROME).year
    assert result.created and result.number == f"PO-{year}-000001"
    # The printed QR, read back from the page rendered at 200 dpi, is the seal that was issued.
    assert read_seal(result.pdf, dpi=200) == result.seal
    trust, revocations = fetch_lists(client, keys)
    verdict = verify_seal(
        result.seal,
        trust.seal_keys,
        revocations.revoked,
        SealCheck(dt.datetime.now(dt.UTC), zone="A", plate=result and "AA000AA"),
        ROME,
    )
    assert verdict.step is not None and verdict.step.value == "plate"  # any other plate: refused
    permit = db.session.scalars(select(Permit)).one()
    plate = permit.plates[0].plate
    verdict = verify_seal(
        result.seal,
        trust.seal_keys,
        revocations.revoked,
        SealCheck(dt.datetime.now(dt.UTC), zone="A", plate=plate),
        ROME,
    )
    assert verdict.valid, verdict.reason
    assert verdict.claims is not None and verdict.claims.permit_number == result.number
    signature = check_pdf_signature(result.pdf, keys.root().certificate)
    assert signature.ok and signature.intact and signature.valid and signature.trusted
    assert signature.whole_file and "ZTL permit documents" in signature.signer
