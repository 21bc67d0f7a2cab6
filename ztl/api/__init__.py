"""The JSON API under /api/v1 and the published lists under /.well-known/ztl.

Each operation is declared once beside its view (ztl.api.operations): its route, who may call it,
the schemas that validate its input, and its answers; the OpenAPI document (ztl.api.openapi) is
generated from those declarations, and one guard checks every caller.
"""

from __future__ import annotations

from flask import Flask


def register_api(app: Flask) -> None:
    # ztl.api.openapi imports every module that declares operations, so all of them are here.
    from ztl.api import (
        eligibility,
        enforcement,
        openapi,
        pagopa,
        payments,
        seals,
        transits,
        v1,
        wellknown,
    )

    for module in (
        seals,
        enforcement,
        transits,
        eligibility,
        v1,
        openapi,
        payments,
        pagopa,
        wellknown,
    ):
        app.register_blueprint(module.bp)
