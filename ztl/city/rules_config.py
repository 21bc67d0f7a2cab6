"""The municipality's rules file, loaded once at start-up and shared by every request.

Why at start-up: a broken file must stop the application with the file's line and field named,
before anyone gets a verdict decided by half a rulebook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app

from ztl.rules.loader import DEFAULT_RULES, load_rules
from ztl.rules.municipality import Municipality

EXTENSION_KEY = "ztl.rules"


def init_rules(app: Flask) -> None:
    """Load ZTL_RULES_FILE (default: Prato's); RulesFileError propagates and stops start-up."""
    path = Path(app.config.get("ZTL_RULES_FILE") or DEFAULT_RULES)
    rules = load_rules(path)
    app.extensions[EXTENSION_KEY] = rules
    # Several municipalities may share one Redis (a region): each keeps to its own keys.
    if not app.config.get("ZTL_REDIS_PREFIX"):
        app.config["ZTL_REDIS_PREFIX"] = f"ztl:{rules.code}"


def current_rules(app: Any = None) -> Municipality:
    rules: Municipality = (app or current_app).extensions[EXTENSION_KEY]
    return rules
