"""Starts the real OpenID Provider (panva/oidc-provider, tests/identity_provider/) on loopback.

The provider is installed from npm on first use (`npm ci` against the committed lock file) and run
with Node.js as a separate process; the tests talk to it over HTTP exactly as the app would talk to
a SPID/CIE gateway. Keys are generated per run: the provider's signing key, and our client key
whose public half is registered with the provider (private_key_jwt).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from joserfc.jwk import RSAKey

HERE = Path(__file__).parent / "identity_provider"
FISCAL_NUMBER = "https://attributes.eid.gov.it/fiscal_number"
L1 = "https://www.spid.gov.it/SpidL1"
L2 = "https://www.spid.gov.it/SpidL2"
L3 = "https://www.spid.gov.it/SpidL3"
TEST_PASSWORD = "test-password"


def ensure_installed() -> None:
    """`npm ci` once (a lock file keeps concurrent test processes from installing twice)."""
    if (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError(
            "Node.js and npm are needed to run the test identity provider: "
            "apt-get install nodejs npm"
        )
    with open(HERE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HERE,
                check=True,
                timeout=600,
            )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def new_rsa_key(kid: str) -> RSAKey:
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})
    return key


@dataclass
class Account:
    username: str
    password: str
    acr: str
    claims: dict[str, Any]

    def as_config(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "acr": self.acr,
            "claims": self.claims,
        }


def citizen(
    username: str,
    codice_fiscale: str | None,
    acr: str = L2,
    email: str | None = None,
    given_name: str = "Maria",
    family_name: str = "Bianchi",
) -> Account:
    claims: dict[str, Any] = {"given_name": given_name, "family_name": family_name}
    if codice_fiscale:
        claims[FISCAL_NUMBER] = f"TINIT-{codice_fiscale}"
    if email:
        claims["email"] = email
        claims["email_verified"] = True
    return Account(username, TEST_PASSWORD, acr, claims)


@dataclass
class Client:
    client_id: str
    key: RSAKey
    redirect_uris: list[str]

    def as_config(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {
            "client_id": self.client_id,
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "RS256",
            "jwks": {"keys": [public]},
            "redirect_uris": self.redirect_uris,
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "id_token_signed_response_alg": "RS256",
        }

    def pem(self) -> bytes:
        return self.key.as_pem(private=True)


@dataclass
class IdentityProvider:
    """One provider process; `issuer` is its URL on loopback."""

    workdir: Path
    clients: list[Client]
    accounts: list[Account]
    signing_key: RSAKey = field(default_factory=lambda: new_rsa_key("op-signing"))
    id_token_ttl: int = 600
    port: int = 0
    process: subprocess.Popen[str] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> IdentityProvider:
        ensure_installed()
        self.port = self.port or free_port()
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "signing_keys": [self.signing_key.as_dict(private=True)],
            "clients": [c.as_config() for c in self.clients],
            "accounts": [a.as_config() for a in self.accounts],
            "id_token_ttl": self.id_token_ttl,
        }
        path = self.workdir / f"provider-{self.port}.json"
        path.write_text(json.dumps(config))
        self.process = subprocess.Popen(
            ["node", str(HERE / "provider.mjs"), str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "NODE_ENV": "test"},
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("READY"):
                return self
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"the identity provider did not start (exit {self.process.returncode})")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def settings(self, name: str, kind: str, client: Client, key_file: Path, **extra: Any) -> dict:
        """The app's ZTL_IDENTITY_PROVIDERS entry for this provider and client."""
        key_file.write_bytes(client.pem())
        key_file.chmod(0o600)
        entry = {
            "name": name,
            "kind": kind,
            "issuer": self.issuer,
            "client_id": client.client_id,
            "private_key_file": str(key_file),
            "key_id": str(client.key.kid),
            "minimum_acr": L2,
            "timeout_seconds": 5,
        }
        entry.update(extra)
        return entry


def sign_in_at_provider(authorize_url: str, username: str, password: str = TEST_PASSWORD) -> str:
    """Walk the provider's pages as a browser would: its login form, then back to the app.

    Returns the URL the provider finally sends the browser to (the app's callback with the code),
    without following it.
    """
    browser = requests.Session()
    url = authorize_url
    provider_origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    for _ in range(12):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.status_code in (302, 303):
            target = urljoin(url, response.headers["Location"])
            if not target.startswith(provider_origin):
                return target
            url = target
            continue
        if response.status_code == 200 and 'name="username"' in response.text:
            action = re.search(r'action="([^"]+)"', response.text)
            assert action, response.text
            posted = browser.post(
                urljoin(url, action.group(1)),
                data={"username": username, "password": password},
                allow_redirects=False,
                timeout=10,
            )
            assert posted.status_code == 303, posted.text  # the provider's redirects are 303s
            url = urljoin(url, posted.headers["Location"])
            continue
        raise AssertionError(f"unexpected provider answer {response.status_code}: {response.text}")
    raise AssertionError("the provider never sent the browser back")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
