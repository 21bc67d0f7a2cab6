"""The OpenID Connect exchange with a provider, through Authlib's Flask client.

Authlib does the protocol: the authorization request with state, nonce and PKCE (S256), the code
exchange with the client authenticated by a JWT signed with our private key (private_key_jwt), the
ID token's signature against the provider's published keys, its issuer, audience, expiry and nonce.
This module adds what SPID and CIE require on top (the level of assurance, the fiscal number, the
discovery document naming the issuer we configured) and turns every failure into one of a few
refusals the sign-in page can explain, or `ProviderUnavailable` when the provider does not answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import Flask, current_app
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import RSAKey
from werkzeug.wrappers import Response

from ztl.identity import assurance
from ztl.identity.assertion import (
    FISCAL_NUMBER_CLAIM,
    AssertedPerson,
    IdentityRefused,
    ProviderUnavailable,
    Refusal,
    person_from_claims,
)
from ztl.identity.providers import ProviderSettings

EXTENSION_KEY = "ztl_identity"
# What SPID/CIE gateways return only when asked through the claims parameter.
REQUESTED_CLAIMS = {
    "id_token": {FISCAL_NUMBER_CLAIM: {"essential": True}},
    "userinfo": {
        FISCAL_NUMBER_CLAIM: {"essential": True},
        "given_name": None,
        "family_name": None,
        "email": None,
    },
}


class _SignedWithOurKey(PrivateKeyJWT):
    """private_key_jwt whose audience is the provider's token endpoint from its discovery document.

    Authlib's default audience is the URL the request goes to; SPID/CIE ask for the token endpoint
    the provider published, which is the same unless a gateway sits in between.
    """

    def __init__(self, audience: Callable[[], str], key_id: str) -> None:
        super().__init__(headers={"kid": key_id})
        self._audience = audience

    def sign(self, auth: Any, token_endpoint: str) -> Any:
        return super().sign(auth, self._audience())


class IdentityClients:
    """The configured providers, each registered once with Authlib for the app's lifetime."""

    def __init__(self, app: Flask, providers: Mapping[str, ProviderSettings]) -> None:
        self.providers = dict(providers)
        self._oauth = OAuth(app)
        for provider in self.providers.values():
            self._register(provider)

    def _register(self, provider: ProviderSettings) -> None:
        key = RSAKey.import_key(provider.private_key_pem)

        def audience() -> str:
            metadata = self._oauth.create_client(provider.name).load_server_metadata()
            return str(metadata.get("token_endpoint") or provider.issuer)

        self._oauth.register(
            name=provider.name,
            client_id=provider.client_id,
            client_secret=key,
            server_metadata_url=provider.discovery_url,
            access_token_url=provider.token_endpoint,
            client_auth_methods=[_SignedWithOurKey(audience, provider.key_id)],
            client_kwargs={
                "scope": provider.scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "private_key_jwt",
                "default_timeout": provider.timeout_seconds,
            },
        )

    def _client(self, provider: ProviderSettings) -> Any:
        client = self._oauth.create_client(provider.name)
        try:
            metadata = client.load_server_metadata()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"{provider.name}: discovery failed: {exc}") from exc
        if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
            # RFC 8414: the document must name the issuer it was fetched for; a mismatch is a
            # misconfiguration or an impostor, and trusting it would accept its tokens.
            client.server_metadata = {}
            raise IdentityRefused(Refusal.ISSUER, f"discovery names {metadata.get('issuer')!r}")
        return client

    def start(self, provider: ProviderSettings, redirect_uri: str) -> Response:
        """The redirect to the provider's authorization endpoint (state, nonce, PKCE in session)."""
        client = self._client(provider)
        return client.authorize_redirect(
            redirect_uri,
            acr_values=provider.minimum_acr,
            claims=json.dumps(REQUESTED_CLAIMS) if provider.for_citizens else None,
            prompt="login",
        )

    def finish(self, provider: ProviderSettings) -> AssertedPerson:
        """Exchange the code and check everything the provider asserted; refusals raise."""
        client = self._client(provider)
        try:
            token = client.authorize_access_token(
                leeway=provider.clock_leeway_seconds,
                claims_options={
                    "iss": {"essential": True, "values": [client.server_metadata["issuer"]]},
                    "acr": {"essential": True},
                },
            )
            id_claims = dict(token.get("userinfo") or {})
            if not id_claims:
                raise IdentityRefused(Refusal.INVALID, "the token answer carries no ID token")
            if not assurance.meets(id_claims.get("acr"), provider.minimum_acr):
                raise IdentityRefused(
                    Refusal.LOW_ASSURANCE, f"acr {id_claims.get('acr')!r} < {provider.minimum_acr}"
                )
            userinfo = dict(client.userinfo(token=token))
        except MismatchingStateError as exc:
            raise IdentityRefused(Refusal.STATE, "state missing or already used") from exc
        except OAuthError as exc:
            raise IdentityRefused(Refusal.CANCELLED, f"{exc.error}: {exc.description}") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ProviderUnavailable(f"{provider.name}: {exc}") from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500:
                raise ProviderUnavailable(f"{provider.name}: answered {status}") from exc
            raise IdentityRefused(Refusal.INVALID, f"answered {status}") from exc
        except BadSignatureError as exc:
            raise IdentityRefused(Refusal.SIGNATURE, str(exc)) from exc
        except ExpiredTokenError as exc:
            raise IdentityRefused(Refusal.EXPIRED, str(exc)) from exc
        except (InvalidClaimError, MissingClaimError) as exc:
            raise IdentityRefused(_claim_refusal(exc), str(exc)) from exc
        except (JoseError, AuthlibBaseError, ValueError, KeyError) as exc:
            raise IdentityRefused(Refusal.INVALID, f"{type(exc).__name__}: {exc}") from exc
        return person_from_claims(provider.name, id_claims, userinfo, provider.for_citizens)


def _claim_refusal(exc: InvalidClaimError | MissingClaimError) -> Refusal:
    claim = getattr(exc, "claim", "") or ""
    return {
        "iss": Refusal.ISSUER,
        "aud": Refusal.AUDIENCE,
        "azp": Refusal.AUDIENCE,
        "nonce": Refusal.NONCE,
        "exp": Refusal.EXPIRED,
        "acr": Refusal.LOW_ASSURANCE,
    }.get(claim, Refusal.INVALID)


def init_identity(app: Flask, providers: Mapping[str, ProviderSettings]) -> None:
    app.extensions[EXTENSION_KEY] = IdentityClients(app, providers)


def identity_clients() -> IdentityClients:
    clients: IdentityClients = current_app.extensions[EXTENSION_KEY]
    return clients
