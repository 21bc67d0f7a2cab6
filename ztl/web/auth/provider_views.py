"""Sign-in through an identity provider: "Entra con SPID", "Entra con CIE", the staff provider.

The views only start the exchange, hand the provider's answer to `ztl.identity` for checking and to
`ztl.accounts.verified_identity` for the account, and explain a refusal. A refusal stores nothing:
no account, no session; a provider that does not answer gets the 503 page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.jwk import KeySet, RSAKey
from werkzeug.wrappers import Response

from ztl.accounts.verified_identity import VerifiedRefusal, sign_in_verified
from ztl.errors import IDENTITY_PREFIX, error_status, error_text
from ztl.identity.assertion import IdentityRefused, ProviderUnavailable, Refusal
from ztl.identity.client import identity_clients
from ztl.identity.providers import ProviderSettings
from ztl.web.auth.views import bp, home_for, start_session
from ztl.web.redirects import safe_next

logger = logging.getLogger(__name__)
NEXT_KEY = "ztl_after_provider"
RETRY_AFTER_SECONDS = 60


def _provider(name: str) -> ProviderSettings:
    provider = identity_clients().providers.get(name)
    if provider is None:
        abort(404)
    return provider


def _unavailable(provider: ProviderSettings, exc: Exception) -> tuple[Response, int]:
    logger.warning("identity provider %s unavailable: %s", provider.name, exc)
    response = Response(render_template("errors/503.html", code=503), status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503


def _refused(
    provider: ProviderSettings, reason: Refusal | VerifiedRefusal, detail: str = ""
) -> tuple[str, int]:
    logger.warning("sign-in through %s refused: %s %s", provider.name, reason.value, detail)
    # The provider's own refusals share words with other codes ("invalid"): prefixed in the catalogue.
    code = IDENTITY_PREFIX + reason.value if isinstance(reason, Refusal) else reason.value
    message, status = error_text(code), error_status(code)
    return render_template("auth/provider_refused.html", message=message, status=status), status


@bp.get("/accedi/con/<name>")
def provider_start(name: str) -> Response | tuple[Response, int] | tuple[str, int]:
    """Send the browser to the provider, remembering where to go back afterwards."""
    provider = _provider(name)
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    session[NEXT_KEY] = safe_next(request.args.get("next")) or ""
    callback = url_for("auth.provider_return", name=provider.name, _external=True)
    try:
        return identity_clients().start(provider, callback)
    except ProviderUnavailable as exc:
        return _unavailable(provider, exc)
    except IdentityRefused as exc:  # the discovery document names another issuer
        return _unavailable(provider, exc)


@bp.get("/accedi/con/<name>/ritorno")
def provider_return(name: str) -> Response | tuple[Response, int] | tuple[str, int]:
    """The provider's answer: checked, then the person's account is signed in."""
    provider = _provider(name)
    try:
        person = identity_clients().finish(provider)
    except ProviderUnavailable as exc:
        return _unavailable(provider, exc)
    except IdentityRefused as exc:
        return _refused(provider, exc.refusal, exc.detail)
    outcome = sign_in_verified(person)
    if outcome.user is None or outcome.refusal is not None:
        return _refused(provider, outcome.refusal or VerifiedRefusal.INACTIVE)
    after = session.pop(NEXT_KEY, "")
    start_session(outcome.user)
    if outcome.frozen_account_id is not None:
        flash(
            _(
                "Un account aperto in precedenza con il tuo codice fiscale, senza verifica "
                "dell'identità, è stato bloccato. Se le sue domande non sono tue, segnalalo "
                "all'ufficio permessi."
            ),
            "warning",
        )
    return redirect(safe_next(after) or home_for(outcome.user))


@bp.get("/oidc/jwks.json")
def relying_party_keys() -> Response:
    """Our public keys, for providers that read a client's keys from a URL (private_key_jwt)."""
    keys: dict[str, dict[str, Any]] = {}
    for provider in identity_clients().providers.values():
        key = RSAKey.import_key(provider.private_key_pem)
        public: dict[str, Any] = dict(key.as_dict(private=False))
        public.update({"kid": provider.key_id, "use": "sig", "alg": "RS256"})
        keys[provider.key_id] = public
    KeySet.import_key_set({"keys": list(keys.values())})  # what we publish must parse as a set
    return jsonify({"keys": list(keys.values())})
