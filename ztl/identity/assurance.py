"""Levels of assurance (the ID token's `acr`) as SPID and CIE name them, and their order.

SPID and CIE over OpenID Connect express the level as a URI; a service like this one asks for
level 2 at least (something the person knows plus something they have). A provider may answer with a
higher level than requested, never a lower one: the answer is compared, not trusted.
"""

from __future__ import annotations

SPID_L1 = "https://www.spid.gov.it/SpidL1"
SPID_L2 = "https://www.spid.gov.it/SpidL2"
SPID_L3 = "https://www.spid.gov.it/SpidL3"

# Ordered from weakest to strongest. The short names are what some gateways send.
LEVELS: dict[str, int] = {
    SPID_L1: 1,
    SPID_L2: 2,
    SPID_L3: 3,
    "SpidL1": 1,
    "SpidL2": 2,
    "SpidL3": 3,
    "CieL1": 1,
    "CieL2": 2,
    "CieL3": 3,
}


def level(acr: str | None) -> int:
    """The level an acr value stands for; 0 for an unknown or missing one (never enough)."""
    return LEVELS.get((acr or "").strip(), 0)


def is_known(acr: str) -> bool:
    return acr in LEVELS


def meets(acr: str | None, minimum: str) -> bool:
    """Whether the level the provider asserted is at least the configured minimum."""
    return level(acr) >= level(minimum) > 0
