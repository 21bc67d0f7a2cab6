"""The key store of this application (instance/keys or ZTL_KEYS_DIR).

Opened with the municipality's name from the rules file in force, so that `ztl keys init` and
`ztl keys rotate` write that name (never a default city's) into the certificates' subject.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from ztl.city.rules_config import current_rules
from ztl.signing.keys import KeyStore


def key_store() -> KeyStore:
    return KeyStore(Path(current_app.config["ZTL_KEYS_DIR"]), municipality=current_rules().name)
