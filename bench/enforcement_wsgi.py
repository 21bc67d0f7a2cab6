"""The app as gunicorn serves it in bench/enforcement.py, plus a bare Flask JSON endpoint.

The bare endpoint is the floor the authorization endpoint is compared with: same server, same
workers, same run. It exists only in this benchmark module, never in the product.
"""

from __future__ import annotations

from ztl import create_app

app = create_app()


@app.get("/bench/bare")
def bare() -> dict[str, str]:
    return {"ok": "yes"}
