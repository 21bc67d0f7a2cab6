"""The identity providers a municipality configures, read and checked once at start-up.

Why settings and not code: a municipality reaches SPID and CIE directly or through a regional or
municipal gateway, and may have its own provider for staff; each is an OpenID Provider with an
issuer, a client registration and a key pair. `ZTL_IDENTITY_PROVIDERS` names a JSON file (a relative
path is read from the instance folder; key files are relative to the JSON file) listing them:

    [{"name": "spid", "kind": "spid", "issuer": "https://gateway.example/oidc",
      "client_id": "https://ztl.comune.example/oidc/rp",
      "private_key_file": "keys/oidc-rp.pem", "key_id": "rp-2026",
      "minimum_acr": "https://www.spid.gov.it/SpidL2"}]

`kind` is "spid" or "cie" for citizens (their buttons on the sign-in page) or "staff" for the
municipality's own provider, which signs in existing staff accounts only. A broken entry stops
start-up with a message that names it, rather than failing at a citizen's first sign-in.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ztl.identity import assurance

KINDS = ("spid", "cie", "staff")
CITIZEN_KINDS = ("spid", "cie")
NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
DEFAULT_SCOPES = "openid profile email"


class ProviderSettingsError(RuntimeError):
    """A provider entry that cannot work; the message says which entry and why."""


@dataclass(frozen=True)
class ProviderSettings:
    name: str
    kind: str
    issuer: str
    client_id: str
    private_key_pem: bytes
    key_id: str
    minimum_acr: str
    label: str
    scopes: str = DEFAULT_SCOPES
    timeout_seconds: float = 10.0
    # Clock difference tolerated with the provider when checking an ID token's times.
    clock_leeway_seconds: int = 30
    # Only for a gateway that publishes its token endpoint apart from its discovery document.
    token_endpoint: str | None = None

    @property
    def for_citizens(self) -> bool:
        return self.kind in CITIZEN_KINDS

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def _text(entry: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ProviderSettingsError(f"{where}: '{key}' is required (a non-empty text)")
    return value.strip()


def _url(value: str, where: str, key: str, production: bool) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"https", "http"} or not parts.netloc:
        raise ProviderSettingsError(f"{where}: '{key}' must be an absolute URL, got {value!r}")
    if production and parts.scheme != "https" and parts.hostname not in {"127.0.0.1", "localhost"}:
        raise ProviderSettingsError(f"{where}: '{key}' must use https in production")
    return value


def _private_key(entry: Mapping[str, Any], where: str, base: Path, production: bool) -> bytes:
    path = Path(_text(entry, "private_key_file", where))
    if not path.is_absolute():
        path = base / path
    try:
        mode = path.stat().st_mode
        pem = path.read_bytes()
    except OSError as exc:
        raise ProviderSettingsError(f"{where}: cannot read the private key {path}: {exc}") from exc
    if production and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ProviderSettingsError(
            f"{where}: the private key {path} is readable by others; chmod 600 it"
        )
    if b"PRIVATE KEY" not in pem:
        raise ProviderSettingsError(f"{where}: {path} is not a PEM private key")
    return pem


def parse_provider(
    entry: Mapping[str, Any], index: int, base: Path, production: bool
) -> ProviderSettings:
    where = f"identity provider #{index + 1}"
    name = _text(entry, "name", where)
    if not NAME.match(name):
        raise ProviderSettingsError(f"{where}: name {name!r}: lower-case letters, digits, dashes")
    where = f"identity provider {name!r}"
    kind = _text(entry, "kind", where)
    if kind not in KINDS:
        raise ProviderSettingsError(f"{where}: kind must be one of {', '.join(KINDS)}")
    minimum = _text(entry, "minimum_acr", where, assurance.SPID_L2)
    if not assurance.is_known(minimum):
        raise ProviderSettingsError(f"{where}: unknown minimum_acr {minimum!r}")
    if production and assurance.level(minimum) < 2:
        # Level 2 is two factors: for staff it is what stands in for our own second factor (TOTP),
        # which a sign-in through the municipality's provider does not ask again.
        raise ProviderSettingsError(f"{where}: production needs level 2 (SpidL2) at least")
    token_endpoint = entry.get("token_endpoint")
    timeout = entry.get("timeout_seconds", 10)
    if not isinstance(timeout, int | float) or not 0 < timeout <= 60:
        raise ProviderSettingsError(f"{where}: timeout_seconds must be between 0 and 60")
    leeway = entry.get("clock_leeway_seconds", 30)
    if not isinstance(leeway, int) or not 0 <= leeway <= 300:
        raise ProviderSettingsError(f"{where}: clock_leeway_seconds must be between 0 and 300")
    return ProviderSettings(
        name=name,
        kind=kind,
        issuer=_url(_text(entry, "issuer", where), where, "issuer", production),
        client_id=_text(entry, "client_id", where),
        private_key_pem=_private_key(entry, where, base, production),
        key_id=_text(entry, "key_id", where),
        minimum_acr=minimum,
        label=_text(entry, "label", where, {"spid": "SPID", "cie": "CIE"}.get(kind, name)),
        scopes=_text(entry, "scopes", where, DEFAULT_SCOPES),
        timeout_seconds=float(timeout),
        clock_leeway_seconds=leeway,
        token_endpoint=(
            _url(token_endpoint, where, "token_endpoint", production) if token_endpoint else None
        ),
    )


def load_providers(
    setting: str | Sequence[Mapping[str, Any]] | None, instance_path: Path, production: bool
) -> dict[str, ProviderSettings]:
    """The configured providers by name: from a JSON file's path, or a list (tests)."""
    if not setting:
        return {}
    base = instance_path
    if isinstance(setting, str):
        path = Path(setting)
        if not path.is_absolute():
            path = instance_path / path
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProviderSettingsError(
                f"ZTL_IDENTITY_PROVIDERS: cannot read {path}: {exc}"
            ) from exc
        base = path.parent
    else:
        entries = setting
    if not isinstance(entries, list):
        raise ProviderSettingsError("ZTL_IDENTITY_PROVIDERS: the file must hold a JSON list")
    providers: dict[str, ProviderSettings] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise ProviderSettingsError(f"identity provider #{index + 1}: not a JSON object")
        provider = parse_provider(entry, index, base, production)
        if provider.name in providers:
            raise ProviderSettingsError(f"identity provider {provider.name!r} configured twice")
        providers[provider.name] = provider
    return providers
