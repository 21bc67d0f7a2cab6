"""Sign-in through SPID/CIE over OpenID Connect, against a real OpenID Provider on loopback.

The provider is panva/oidc-provider (tests/identity_provider/), started as a Node.js process; the
app talks to it over HTTP as it would to a SPID/CIE gateway: discovery, authorization code with PKCE,
private_key_jwt, signed ID tokens, userinfo. Where a test needs a bad answer (tampered, expired,
meant for another client or from another issuer), a relay on the way to the token endpoint swaps
the provider's real answer for another real one, or alters it, as an attacker in the middle would.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import _empty_all_tables, login, make_app
from tests.factories import DEMO_RESIDENT, PASSWORD
from tests.identity_provider_harness import (
    L1,
    L3,
    Client,
    IdentityProvider,
    citizen,
    free_port,
    new_rsa_key,
    query,
    sign_in_at_provider,
)
from ztl.accounts.staff import create_user, register_resident
from ztl.config import ConfigurationError, build_settings
from ztl.extensions import db
from ztl.identity.providers import ProviderSettingsError, load_providers
from ztl.models import BrowserSession, Event, ExternalIdentity, User

CF_MARIA = "BNCMRA80A41G999P"
CF_PAOLO = "VRDPLA75C12G999N"
CALLBACKS = [f"http://localhost/accedi/con/{name}/ritorno" for name in ("spid", "cie", "comune")]
OTHER_CALLBACK = "http://localhost/other/callback"


def _cf_ok() -> None:
    from ztl.values.fiscal import parse_codice_fiscale

    for cf in (CF_MARIA, CF_PAOLO):
        parse_codice_fiscale(cf)


ACCOUNTS = [
    citizen("maria", CF_MARIA, email="maria.bianchi@esempio.it"),
    citizen("maria-l3", CF_MARIA, acr=L3, email="maria.bianchi@esempio.it"),
    citizen("paolo", CF_PAOLO, email="paolo.verdi@esempio.it", given_name="Paolo"),
    citizen("low", CF_PAOLO, acr=L1),
    citizen("nocf", None, email="senza.cf@esempio.it"),
    citizen("noemail", "RSSMRA80A01G999F"),
    citizen("clerk", None, email="impiegata@comune.example.org"),
    citizen("stranger", None, email="nessuno@comune.example.org"),
    citizen("demo", DEMO_RESIDENT, email="residente.demo@esempio.it", given_name="Demo"),
]


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("identity")


@pytest.fixture(scope="module")
def rp() -> Client:
    return Client("https://ztl.comune.example/oidc/rp", new_rsa_key("rp-1"), CALLBACKS)


@pytest.fixture(scope="module")
def other_service() -> Client:
    return Client("https://altro.servizio.example", new_rsa_key("other-1"), [OTHER_CALLBACK])


@pytest.fixture(scope="module")
def provider(keys_dir: Path, rp: Client, other_service: Client) -> Iterator[IdentityProvider]:
    op = IdentityProvider(keys_dir, [rp, other_service], ACCOUNTS).start()
    yield op
    op.stop()


@pytest.fixture(scope="module")
def twin_provider(
    keys_dir: Path, provider: IdentityProvider, rp: Client
) -> Iterator[IdentityProvider]:
    """Another issuer that signs with the same key (one operator, two tenants)."""
    op = IdentityProvider(keys_dir, [rp], ACCOUNTS, signing_key=provider.signing_key).start()
    yield op
    op.stop()


class Relay:
    """A man in the middle on the way to the token endpoint: forwards to the provider, and lets a
    test rewrite the answer (or hold it back) before the app reads it."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.rewrite: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.delay = 0.0
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {"Content-Type": self.headers.get("Content-Type", "")}
                if self.headers.get("Authorization"):
                    headers["Authorization"] = self.headers["Authorization"]
                answer = requests.post(relay.target, data=body, headers=headers, timeout=10)
                payload = answer.json()
                if relay.rewrite is not None and answer.ok:
                    payload = relay.rewrite(payload)
                time.sleep(relay.delay)
                data = json.dumps(payload).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def relay(provider: IdentityProvider) -> Iterator[Relay]:
    r = Relay(provider.issuer + "/token")
    yield r
    r.close()


def _app(database_url: str, tmp_path: Path, providers: list[dict[str, Any]], **extra: Any) -> Flask:
    return make_app(database_url, tmp_path / "instance", ZTL_IDENTITY_PROVIDERS=providers, **extra)


@pytest.fixture
def app_with(
    migrated_app: Flask, database_url: str, tmp_path: Path
) -> Iterator[Callable[..., Flask]]:
    """Build an app configured with the given providers; tables are emptied afterwards."""
    made: list[Flask] = []

    def build(providers: list[dict[str, Any]], **extra: Any) -> Flask:
        app = _app(database_url, tmp_path, providers, **extra)
        made.append(app)
        return app

    yield build
    with migrated_app.app_context():
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def spid_app(
    app_with: Callable[..., Flask], provider: IdentityProvider, rp: Client, keys_dir: Path
) -> Iterator[Flask]:
    app = app_with([provider.settings("spid", "spid", rp, keys_dir / "rp.pem")])
    with app.app_context():
        yield app


def _start(client: FlaskClient, name: str = "spid") -> str:
    response = client.get(f"/accedi/con/{name}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def _finish(client: FlaskClient, callback_url: str) -> Any:
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def _sign_in(client: FlaskClient, username: str, name: str = "spid") -> Any:
    return _finish(client, sign_in_at_provider(_start(client, name), username))


def _users() -> list[User]:
    db.session.expire_all()
    return list(db.session.scalars(select(User).order_by(User.id)))


def _refusal(response: Any) -> str:
    text = response.get_data(as_text=True)
    start = text.index('id="refusal">') + len('id="refusal">')
    return text[start : text.index("</p>", start)]


def test_the_fiscal_codes_used_here_are_valid() -> None:
    _cf_ok()


# --- the journey ---------------------------------------------------------------------------------


def test_the_authorization_request_carries_pkce_state_nonce_and_the_minimum_level(
    spid_app: Flask, provider: IdentityProvider
) -> None:
    url = _start(spid_app.test_client())
    assert url.startswith(provider.issuer + "/auth?")
    params = query(url)
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256, unpadded
    assert (len(params["state"]), len(params["nonce"])) == (30, 20)  # Authlib's
    assert params["acr_values"] == "https://www.spid.gov.it/SpidL2"
    claims = json.loads(params["claims"])
    assert "https://attributes.eid.gov.it/fiscal_number" in claims["userinfo"]
    assert params["client_id"] == "https://ztl.comune.example/oidc/rp"


def test_a_resident_signs_in_with_spid_and_the_codice_fiscale_comes_from_the_provider(
    spid_app: Flask,
) -> None:
    client = spid_app.test_client()
    response = _sign_in(client, "maria")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/area-personale/")
    home = client.get("/area-personale/")
    assert home.status_code == 200
    assert CF_MARIA in home.get_data(as_text=True)
    assert 'id="unverified-identity"' not in home.get_data(as_text=True)
    [user] = _users()
    assert user.codice_fiscale == CF_MARIA
    assert user.identity_verified_by == "spid"
    assert user.password_hash is None
    assert user.email == "maria.bianchi@esempio.it"
    assert user.full_name == "Maria Bianchi"
    identity = db.session.scalar(select(ExternalIdentity))
    assert identity is not None and identity.last_acr == "https://www.spid.gov.it/SpidL2"

    # Again, from another browser, at a higher level: the same account, no new one.
    again = spid_app.test_client()
    assert _sign_in(again, "maria-l3").status_code == 302
    assert [u.id for u in _users()] == [user.id]


def test_a_provider_without_an_email_gives_an_account_that_receives_no_mail(
    spid_app: Flask,
) -> None:
    client = spid_app.test_client()
    assert _sign_in(client, "noemail").status_code == 302
    [user] = _users()
    assert user.email.endswith("@senza-email.invalid")
    page = client.get("/area-personale/").get_data(as_text=True)
    assert "senza-email.invalid" not in page


def test_a_resident_signed_in_through_spid_applies_pays_and_downloads_a_permit(
    spid_app: Flask, tmp_path: Path, quiet_mail: None
) -> None:
    from tests.conftest import apply_online, post_form, upload_document
    from ztl.demo.loader import load_demo
    from ztl.models import Application, Permit
    from ztl.seals.keys import key_store

    spid_app.config["ZTL_KEYS_DIR"] = str(tmp_path / "keys")
    key_store().init()
    load_demo()
    client = spid_app.test_client()
    assert _sign_in(client, "demo").status_code == 302
    application_id = apply_online(client)
    page = f"/area-personale/domande/{application_id}"
    assert "requisiti soddisfatti" in client.get(page).get_data(as_text=True)
    assert upload_document(client, page, "carta identita.pdf").status_code == 303
    assert post_form(client, f"{page}/invia", page).status_code == 303
    assert post_form(client, f"{page}/paga", page).status_code == 303
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    assert application is not None and application.status == "issued"
    assert application.applicant_id == DEMO_RESIDENT
    permit = db.session.scalars(select(Permit).where(Permit.application_id == application_id)).one()
    pdf = client.get(f"/area-personale/permessi/{permit.number}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


# --- refusals: nothing is stored, nobody is signed in ----------------------------------------------


def _nothing_stored(client: FlaskClient) -> None:
    assert _users() == []
    assert db.session.scalar(select(BrowserSession)) is None
    assert client.get("/area-personale/").status_code == 302  # sent to sign in


@pytest.mark.parametrize(
    ("username", "message"),
    [("low", "livello 2"), ("nocf", "codice fiscale")],
    ids=["a level below the minimum", "no fiscal number"],
)
def test_an_identity_the_service_cannot_accept_is_refused(
    spid_app: Flask, username: str, message: str
) -> None:
    client = spid_app.test_client()
    response = _sign_in(client, username)
    assert response.status_code == 403
    assert message in _refusal(response)
    _nothing_stored(client)


def test_a_wrong_nonce_is_refused(spid_app: Flask) -> None:
    client = spid_app.test_client()
    url = _start(client)
    params = query(url)
    params["nonce"] = "a-nonce-this-browser-never-sent-0123456789"
    forged = url.split("?")[0] + "?" + urlencode(params)
    response = _finish(client, sign_in_at_provider(forged, "maria"))
    assert response.status_code == 401
    assert "non corrisponde" in _refusal(response)
    _nothing_stored(client)


def test_an_answer_not_started_from_this_browser_or_used_twice_is_refused(
    spid_app: Flask,
) -> None:
    victim = spid_app.test_client()
    callback = sign_in_at_provider(_start(victim), "maria")
    attacker = spid_app.test_client()
    response = _finish(attacker, callback)  # login CSRF: the code sent to another browser
    assert response.status_code == 400
    assert "non è partita da questo browser" in _refusal(response)
    _nothing_stored(attacker)
    assert _finish(victim, callback).status_code == 302
    assert _finish(victim, callback).status_code == 400  # the state is used up
    fresh = spid_app.test_client()
    assert _finish(fresh, callback).status_code == 400


def _relayed_app(
    app_with: Callable[..., Flask], provider: IdentityProvider, rp: Client, keys_dir: Path, url: str
) -> Flask:
    return app_with(
        [provider.settings("spid", "spid", rp, keys_dir / "rp.pem", token_endpoint=url)]
    )


def _tamper(payload: dict[str, Any]) -> dict[str, Any]:
    header, body, signature = payload["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["https://attributes.eid.gov.it/fiscal_number"] = f"TINIT-{CF_PAOLO}"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return {**payload, "id_token": f"{header}.{forged}.{signature}"}


def test_a_tampered_id_token_is_refused(
    app_with: Callable[..., Flask],
    provider: IdentityProvider,
    rp: Client,
    keys_dir: Path,
    relay: Relay,
) -> None:
    app = _relayed_app(app_with, provider, rp, keys_dir, relay.url)
    relay.rewrite = _tamper
    try:
        with app.app_context():
            client = app.test_client()
            response = _sign_in(client, "maria")
            assert response.status_code == 401
            assert "firma" in _refusal(response)
            _nothing_stored(client)
    finally:
        relay.rewrite = None


def _token_for(
    op: IdentityProvider, client: Client, redirect_uri: str, nonce: str, username: str
) -> str:
    """A genuine ID token from `op` for `client`, carrying the given nonce (what an attacker who
    is a client of the same provider, or of another issuer, could obtain)."""
    session = OAuth2Session(
        client.client_id,
        client.key,
        token_endpoint_auth_method="private_key_jwt",
        scope="openid",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    session.register_client_auth_method(
        PrivateKeyJWT(op.issuer + "/token", headers={"kid": client.key.kid})
    )
    verifier = "v" * 64
    url, _state = session.create_authorization_url(
        op.issuer + "/auth",
        nonce=nonce,
        code_verifier=verifier,
        acr_values="https://www.spid.gov.it/SpidL2",
    )
    callback = sign_in_at_provider(url, username)
    token = session.fetch_token(
        op.issuer + "/token", code=query(callback)["code"], code_verifier=verifier
    )
    return str(token["id_token"])


@pytest.mark.parametrize("attack", ["audience", "issuer"])
def test_a_genuine_id_token_meant_for_another_client_or_from_another_issuer_is_refused(
    attack: str,
    app_with: Callable[..., Flask],
    provider: IdentityProvider,
    twin_provider: IdentityProvider,
    rp: Client,
    other_service: Client,
    keys_dir: Path,
    relay: Relay,
) -> None:
    app = _relayed_app(app_with, provider, rp, keys_dir, relay.url)
    with app.app_context():
        client = app.test_client()
        url = _start(client)
        nonce = query(url)["nonce"]
        if attack == "audience":
            swapped = _token_for(provider, other_service, OTHER_CALLBACK, nonce, "paolo")
        else:
            swapped = _token_for(twin_provider, rp, CALLBACKS[0], nonce, "paolo")
        relay.rewrite = lambda payload: {**payload, "id_token": swapped}
        try:
            response = _finish(client, sign_in_at_provider(url, "maria"))
        finally:
            relay.rewrite = None
        assert response.status_code == 401
        expected = "altro servizio" if attack == "audience" else "non proviene"
        assert expected in _refusal(response)
        _nothing_stored(client)


def test_an_expired_id_token_is_refused(
    app_with: Callable[..., Flask], rp: Client, keys_dir: Path
) -> None:
    short = IdentityProvider(keys_dir, [rp], ACCOUNTS, id_token_ttl=1).start()
    slow = Relay(short.issuer + "/token")
    slow.delay = 2.5  # the answer arrives after the ID token's lifetime
    try:
        app = app_with(
            [
                short.settings(
                    "spid",
                    "spid",
                    rp,
                    keys_dir / "rp.pem",
                    token_endpoint=slow.url,
                    clock_leeway_seconds=0,
                )
            ]
        )
        with app.app_context():
            client = app.test_client()
            response = _sign_in(client, "maria")
            assert response.status_code == 401
            assert "scaduta" in _refusal(response)
            _nothing_stored(client)
    finally:
        slow.close()
        short.stop()


def test_a_provider_that_is_down_gets_the_503_page_and_nothing_is_stored(
    app_with: Callable[..., Flask], rp: Client, keys_dir: Path
) -> None:
    op = IdentityProvider(keys_dir, [rp], ACCOUNTS).start()
    app = app_with([op.settings("spid", "spid", rp, keys_dir / "rp.pem")])
    with app.app_context():
        client = app.test_client()
        url = _start(client)
        callback = sign_in_at_provider(url, "maria")
        op.stop()  # down between the login at the provider and the code exchange
        response = _finish(client, callback)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        _nothing_stored(client)
        # Starting again still redirects: the discovery document is read once per process, so the
        # browser is sent on and meets the provider's outage there; a provider never reached at
        # all is the 503 below.
        assert client.get("/accedi/con/spid").status_code == 302
    down = app_with(
        [
            {
                **op.settings("spid", "spid", rp, keys_dir / "rp.pem"),
                "issuer": f"http://127.0.0.1:{free_port()}",
            }
        ]
    )
    with down.app_context():
        client = down.test_client()
        response = client.get("/accedi/con/spid")
        assert response.status_code == 503
        _nothing_stored(client)


# --- no self-declared identity ---------------------------------------------------------------------


def test_a_self_declared_account_with_anothers_codice_fiscale_is_frozen(spid_app: Flask) -> None:
    impostor = register_resident(
        email="vicino@esempio.it",
        full_name="Vicino Curioso",
        codice_fiscale=CF_MARIA,
        password=PASSWORD + "-vicino",
    )
    impostor_browser = spid_app.test_client()
    assert login(impostor_browser, "vicino@esempio.it", PASSWORD + "-vicino").status_code == 302
    assert impostor_browser.get("/area-personale/").status_code == 200

    maria = spid_app.test_client()
    response = _sign_in(maria, "maria")
    assert response.status_code == 302
    page = maria.get("/area-personale/").get_data(as_text=True)
    assert "bloccato" in page  # she is told an earlier account with her codice fiscale was frozen

    frozen, verified = _users()
    assert frozen.id == impostor.id
    assert frozen.frozen_at is not None and frozen.person_key is None
    assert frozen.password_hash is None
    assert verified.codice_fiscale == CF_MARIA and verified.identity_verified_by == "spid"
    # The impostor's session ended at once, and the password no longer opens anything.
    assert impostor_browser.get("/area-personale/").status_code == 302
    assert (
        login(spid_app.test_client(), "vicino@esempio.it", PASSWORD + "-vicino").status_code == 401
    )
    actions = {
        (e.subject_id, e.action): e
        for e in db.session.scalars(select(Event))
        if e.subject_type == "user"
    }
    assert (str(frozen.id), "frozen") in actions
    registered = actions[(str(verified.id), "registered")]
    assert registered.data["took_over_from"] == frozen.id


def test_a_self_declared_account_with_the_same_email_is_confirmed_in_place(
    spid_app: Flask,
) -> None:
    own = register_resident(
        email="maria.bianchi@esempio.it",
        full_name="Maria Bianchi",
        codice_fiscale=CF_MARIA,
        password=PASSWORD + "-maria",
    )
    client = spid_app.test_client()
    assert _sign_in(client, "maria").status_code == 302
    [user] = _users()
    assert user.id == own.id and user.identity_verified_by == "spid"
    assert user.password_hash is None and user.frozen_at is None
    assert any(e.action == "identity_verified" for e in db.session.scalars(select(Event)))


def test_registration_with_a_password_is_off_where_residents_use_providers(
    app_with: Callable[..., Flask], provider: IdentityProvider, rp: Client, keys_dir: Path
) -> None:
    app = app_with(
        [provider.settings("spid", "spid", rp, keys_dir / "rp.pem")], ZTL_RESIDENT_PASSWORDS=False
    )
    with app.app_context():
        client = app.test_client()
        assert client.get("/registrazione").status_code == 404
        page = client.get("/accedi").get_data(as_text=True)
        assert "Entra con SPID" in page and "/registrazione" not in page
        create_user("resident", "prova@esempio.it", PASSWORD, codice_fiscale=CF_PAOLO)
        response = login(client, "prova@esempio.it", PASSWORD)
        assert response.status_code == 401
        assert "SPID o CIE" in response.get_data(as_text=True)


# --- the municipality's own provider for staff ---------------------------------------------------


def test_the_staff_provider_signs_in_existing_staff_only(
    app_with: Callable[..., Flask], provider: IdentityProvider, rp: Client, keys_dir: Path
) -> None:
    app = app_with([provider.settings("comune", "staff", rp, keys_dir / "rp.pem", label="Comune")])
    with app.app_context():
        create_user("clerk", "impiegata@comune.example.org", PASSWORD + "-ufficio-1", "Anna")
        client = app.test_client()
        response = _sign_in(client, "clerk", "comune")
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/ufficio/")
        stranger = app.test_client()
        refused = _sign_in(stranger, "stranger", "comune")
        assert refused.status_code == 403
        assert "personale" in _refusal(refused)
        assert [u.email for u in _users()] == ["impiegata@comune.example.org"]


def test_our_public_keys_are_published_without_the_private_part(
    spid_app: Flask, rp: Client
) -> None:
    body = spid_app.test_client().get("/oidc/jwks.json").json
    assert body is not None
    [key] = body["keys"]
    assert key["kid"] == "rp-1" and key["n"] == rp.key.as_dict(private=False)["n"]
    assert "d" not in key and "p" not in key


# --- settings checked at start-up --------------------------------------------------------------

STRONG_SECRET = "k3J9-x0Qp2-Lm7Z-w5Rt8-Yv1B-n6Hc4-Gd0F"


def test_production_turns_password_registration_off_and_refuses_turning_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZTL_ENV", "production")
    monkeypatch.setenv("ZTL_SECRET_KEY", STRONG_SECRET)
    assert build_settings(tmp_path, None)["ZTL_RESIDENT_PASSWORDS"] is False
    monkeypatch.setenv("ZTL_RESIDENT_PASSWORDS", "1")
    with pytest.raises(ConfigurationError, match="ZTL_RESIDENT_PASSWORDS cannot be on"):
        build_settings(tmp_path, None)
    monkeypatch.setenv("ZTL_ENV", "development")
    assert build_settings(tmp_path, None)["ZTL_RESIDENT_PASSWORDS"] is True


@pytest.mark.parametrize(
    ("change", "production", "message"),
    [
        ({"kind": "saml"}, False, "kind must be one of"),
        ({"issuer": "gateway.example"}, False, "must be an absolute URL"),
        ({"issuer": "http://gateway.example"}, True, "must use https in production"),
        ({"minimum_acr": "https://www.spid.gov.it/SpidL1"}, True, "level 2"),
        ({"kind": "staff", "minimum_acr": "https://www.spid.gov.it/SpidL1"}, True, "level 2"),
        ({"minimum_acr": "gold"}, False, "unknown minimum_acr"),
        ({"private_key_file": "missing.pem"}, False, "cannot read the private key"),
        ({"client_id": ""}, False, "'client_id' is required"),
        ({"name": "SPID!"}, False, "lower-case letters"),
    ],
)
def test_a_broken_provider_entry_stops_start_up_with_a_message_naming_it(
    tmp_path: Path, rp: Client, change: dict[str, Any], production: bool, message: str
) -> None:
    key = tmp_path / "rp.pem"
    key.write_bytes(rp.pem())
    key.chmod(0o600)
    entry = {
        "name": "spid",
        "kind": "spid",
        "issuer": "https://gateway.example/oidc",
        "client_id": "https://ztl.comune.example/oidc/rp",
        "private_key_file": str(key),
        "key_id": "rp-1",
        **change,
    }
    with pytest.raises(ProviderSettingsError, match=message):
        load_providers([entry], tmp_path, production=production)


def test_a_private_key_readable_by_others_is_refused_in_production(
    tmp_path: Path, rp: Client
) -> None:
    key = tmp_path / "rp.pem"
    key.write_bytes(rp.pem())
    key.chmod(0o644)
    entry = {
        "name": "spid",
        "kind": "spid",
        "issuer": "https://gateway.example/oidc",
        "client_id": "rp",
        "private_key_file": "rp.pem",
        "key_id": "rp-1",
    }
    with pytest.raises(ProviderSettingsError, match="readable by others"):
        load_providers([entry], tmp_path, production=True)
    providers_file = tmp_path / "providers.json"
    providers_file.write_text(json.dumps([entry]))
    key.chmod(0o600)
    loaded = load_providers(str(providers_file), tmp_path, production=True)
    assert loaded["spid"].minimum_acr == "https://www.spid.gov.it/SpidL2"
