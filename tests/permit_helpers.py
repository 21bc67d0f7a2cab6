"""Kept only for the API tests that still import `issue_resident` from here (test_openapi,
test_seal_api, test_enforcement_api): it lives in tests/factories.py, with the other builders.
Import it from there; this module goes once those imports have moved."""

from __future__ import annotations

from tests.factories import issue_resident

__all__ = ["issue_resident"]
