"""The app as gunicorn serves it in bench/transits.py, plus a bare Flask endpoint that reads a JSON
body and answers JSON: the floor the transit endpoint is compared with (same server, same workers,
same run). It exists only in this benchmark module, never in the product.
"""

from __future__ import annotations

from flask import request

from ztl import create_app
from ztl.extensions import csrf

app = create_app()


@app.post("/api/bench/bare")  # under /api/: no form machinery, like the API
def bare() -> tuple[dict[str, object], int]:
    body = request.get_json(silent=True) or {}
    return {"id": body.get("id"), "outcome": "authorized", "repeat": False}, 201


csrf.exempt(bare)  # a machine endpoint, like the API's
