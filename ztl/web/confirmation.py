"""Irreversible actions (giving up a permit, withdrawing an application, deactivating an account)
happen only when the form says the person confirmed.

Why a field and not only a dialog: the dialog (static/js/confirm.js) is a convenience a script
provides; a post from a page without it (script blocked, an old tab, a double click on a stale
button) must not act on one click. The confirming forms (templates/macros/confirm.html, in the
dialog and on the fallback page) carry CONFIRM_FIELD=CONFIRM_VALUE; a post without it is sent to
the confirmation page with a message, and nothing changes.
"""

from __future__ import annotations

from flask import request

CONFIRM_FIELD = "confirmed"
CONFIRM_VALUE = "yes"


def confirmed() -> bool:
    """Whether this POST carries the explicit confirmation."""
    return request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE
