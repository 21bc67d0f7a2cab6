"""The signed lists: verified against the pinned root, tampering refused, older lists refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import fetch_lists
from tests.factories import issue_resident
from ztl.infrastructure.unit_of_work import Actor
from ztl.permits.changes import revoke_permit
from ztl.signing.cache import ListCache
from ztl.signing.keys import KeyStore
from ztl.signing.lists import ListError, load_revocation_list, load_trust_list


def _tamper_payload(envelope: bytes, change: str, into: str) -> bytes:
    data = json.loads(envelope)
    payload = base64.urlsafe_b64decode(data["payload"] + "==").decode()
    assert change in payload
    data["payload"] = (
        base64.urlsafe_b64encode(payload.replace(change, into, 1).encode()).rstrip(b"=").decode()
    )
    return json.dumps(data).encode()


def test_lists_are_public_signed_and_cacheable(keys: KeyStore, client: FlaskClient) -> None:
    response = client.get("/.well-known/ztl/trust-list")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "public" in response.headers["Cache-Control"]
    trust = load_trust_list(response.get_data(), keys.root().certificate)
    assert set(trust.seal_keys) == {keys.current_seal().kid}
    assert trust.list_signer_kid == keys.lists().kid


def test_tampered_or_foreign_lists_are_refused(
    keys: KeyStore, client: FlaskClient, tmp_path: Path
) -> None:
    trust_bytes = client.get("/.well-known/ztl/trust-list").get_data()
    root = keys.root().certificate
    with pytest.raises(ListError, match="signature"):
        load_trust_list(_tamper_payload(trust_bytes, '"version":1', '"version":2'), root)
    other = KeyStore(tmp_path / "other", "Comune di Altrove")
    other.init()
    with pytest.raises(ListError, match="signature"):
        load_trust_list(trust_bytes, other.root().certificate)
    with pytest.raises(ListError):
        load_trust_list(b"{not json", root)
    trust = load_trust_list(trust_bytes, root)
    revocations = client.get("/.well-known/ztl/revocations").get_data()
    with pytest.raises(ListError, match="signature"):
        load_revocation_list(_tamper_payload(revocations, '"sequence":', '"sequence":9'), trust)


def test_an_older_revocation_list_is_refused(
    city: Flask, keys: KeyStore, client: FlaskClient, tmp_path: Path
) -> None:
    issued = issue_resident()
    cache = ListCache(tmp_path / "cache")
    from cryptography.hazmat.primitives import serialization

    cache.pin_root(keys.root().certificate.public_bytes(serialization.Encoding.PEM))
    trust_bytes = client.get("/.well-known/ztl/trust-list").get_data()
    old_list = client.get("/.well-known/ztl/revocations").get_data()
    cache.store(trust_bytes, old_list)
    revoke_permit(issued.number, Actor(label="clerk"), "fraud")
    new_list = client.get("/.well-known/ztl/revocations").get_data()
    newer = cache.store(trust_bytes, new_list)
    assert newer.revocations.sequence == 1 and newer.revocations.revoked
    with pytest.raises(ListError, match="older"):
        cache.store(trust_bytes, old_list)  # a replayed old list would hide the revocation
    assert cache.load().revocations.sequence == newer.revocations.sequence
    _, latest = fetch_lists(client, keys, held=newer.revocations.sequence)
    assert latest.sequence == newer.revocations.sequence  # the same list again is fine


def test_lists_without_keys_answer_503_with_the_command(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    app.config["ZTL_KEYS_DIR"], previous = str(tmp_path / "none"), app.config["ZTL_KEYS_DIR"]
    try:
        response = client.get("/.well-known/ztl/trust-list")
    finally:
        app.config["ZTL_KEYS_DIR"] = previous
    assert response.status_code == 503 and "ztl keys init" in response.get_json()["message"]
