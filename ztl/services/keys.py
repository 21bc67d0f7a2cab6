"""The key store of this application (instance/keys or ZTL_KEYS_DIR)."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from ztl.signing.keys import KeyStore


def key_store() -> KeyStore:
    return KeyStore(Path(current_app.config["ZTL_KEYS_DIR"]))
