"""The person an identity provider asserts, read from the ID token and the userinfo answer.

SPID and CIE give the fiscal number as the claim `https://attributes.eid.gov.it/fiscal_number`,
prefixed with the issuing country (`TINIT-` for Italy). The account's codice fiscale comes from
here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ztl.values import InvalidValue
from ztl.values.fiscal import parse_codice_fiscale

FISCAL_NUMBER_CLAIM = "https://attributes.eid.gov.it/fiscal_number"
ITALIAN_PREFIX = "TINIT-"


class Refusal(StrEnum):
    """Why an answer from a provider was not accepted; each has its own message for the person."""

    STATE = "state"  # no sign-in started from this browser, or it was already used
    CANCELLED = "cancelled"  # the person cancelled or the provider refused at its end
    SIGNATURE = "signature"  # the ID token is not signed by the provider's keys
    EXPIRED = "expired"
    ISSUER = "issuer"
    AUDIENCE = "audience"
    NONCE = "nonce"
    INVALID = "invalid"  # any other malformed token or answer
    LOW_ASSURANCE = "low_assurance"
    NO_FISCAL_NUMBER = "no_fiscal_number"
    SUBJECT = "subject"  # userinfo about somebody else than the ID token


class IdentityRefused(Exception):
    def __init__(self, refusal: Refusal, detail: str = "") -> None:
        super().__init__(f"{refusal.value}: {detail}" if detail else refusal.value)
        self.refusal = refusal
        self.detail = detail


class ProviderUnavailable(Exception):
    """The provider did not answer (down, unreachable, timed out, answered 5xx)."""


@dataclass(frozen=True)
class AssertedPerson:
    provider: str
    subject: str
    acr: str
    codice_fiscale: str | None
    given_name: str
    family_name: str
    email: str | None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


def _claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def fiscal_number(raw: str) -> str:
    """The codice fiscale inside a `TINIT-...` claim; InvalidValue when it is not an Italian one."""
    text = raw.strip().upper()
    if not text.startswith(ITALIAN_PREFIX):
        raise InvalidValue(f"not an Italian fiscal number: {raw!r}")
    return parse_codice_fiscale(text[len(ITALIAN_PREFIX) :])


def person_from_claims(
    provider: str, id_claims: Mapping[str, Any], userinfo: Mapping[str, Any], citizen: bool
) -> AssertedPerson:
    """Merge the ID token's claims with userinfo's (same subject only) into the asserted person.

    A citizens' provider must assert a valid Italian fiscal number; the municipality's staff
    provider need not (staff are matched by their work e-mail, see ztl.accounts.staff).
    """
    subject = _claim(id_claims, "sub")
    if userinfo and _claim(userinfo, "sub") != subject:
        raise IdentityRefused(Refusal.SUBJECT, "userinfo names another subject")
    claims = {**userinfo, **id_claims}
    codice_fiscale: str | None = None
    raw = _claim(claims, FISCAL_NUMBER_CLAIM)
    if raw:
        try:
            codice_fiscale = fiscal_number(raw)
        except InvalidValue as exc:
            raise IdentityRefused(Refusal.NO_FISCAL_NUMBER, str(exc)) from exc
    elif citizen:
        raise IdentityRefused(Refusal.NO_FISCAL_NUMBER, "the fiscal number claim is missing")
    email = _claim(claims, "email").lower() or None
    return AssertedPerson(
        provider=provider,
        subject=subject,
        acr=_claim(id_claims, "acr"),
        codice_fiscale=codice_fiscale,
        given_name=_claim(claims, "given_name"),
        family_name=_claim(claims, "family_name"),
        email=email if email and "@" in email else None,
    )
