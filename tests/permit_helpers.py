"""Shared set-up for issuance tests: a demo city with fresh signing keys, and list loading."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.demo.loader import load_demo
from ztl.eligibility.service import PlateInput
from ztl.infrastructure.unit_of_work import Actor
from ztl.permits.issuance import IssueResult
from ztl.seals.keys import key_store
from ztl.signing.keys import KeyStore
from ztl.signing.lists import RevocationList, TrustList, load_revocation_list, load_trust_list


@pytest.fixture
def keys(app: Flask, tmp_path: Path) -> Iterator[KeyStore]:
    """Fresh keys per test (rotation tests must not leak into others)."""
    previous = app.config["ZTL_KEYS_DIR"]
    app.config["ZTL_KEYS_DIR"] = str(tmp_path / "keys")
    store = key_store()  # named after the rules file's municipality, as `ztl keys init` does
    store.init()
    yield store
    app.config["ZTL_KEYS_DIR"] = previous


@pytest.fixture
def city(app: Flask, keys: KeyStore) -> Flask:
    load_demo()
    return app


def issue_resident(plate: str = DEMO_OWN_CAR, **extra: object) -> IssueResult:
    request = CounterRequest(
        category="1",
        applicant_id=DEMO_RESIDENT,
        plates=(PlateInput(plate),),
        **extra,  # type: ignore[arg-type]
    )
    return issue_at_counter(request, Actor.cli())


def fetch_lists(
    client: FlaskClient, keys: KeyStore, held: int | None = None
) -> tuple[TrustList, RevocationList]:
    trust_response = client.get("/.well-known/ztl/trust-list")
    assert trust_response.status_code == 200, trust_response.get_data(as_text=True)
    trust = load_trust_list(trust_response.get_data(), keys.root().certificate)
    revocations = load_revocation_list(
        client.get("/.well-known/ztl/revocations").get_data(), trust, held
    )
    return trust, revocations


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, as a reader extracts it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()
