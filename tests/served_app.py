"""The application as gunicorn serves it in tests that need real processes (the concurrency matrix).

gunicorn imports `tests.served_app:app()`; the test passes the same settings as its own app (the
database, keys, upload and mail folders) as JSON in ZTL_TEST_SERVED_CONFIG.
"""

from __future__ import annotations

import json
import os

from flask import Flask

from ztl import create_app


def app() -> Flask:
    return create_app(json.loads(os.environ["ZTL_TEST_SERVED_CONFIG"]))
