"""Human names of stored codes (statuses, roles, registers), translated.

Templates show these, never raw codes: a resident should read "In istruttoria", not "under_review".
They are registered as Jinja filters in `ztl.web.context`; an unknown code falls back to itself so a
new status added to the enums shows up (untranslated) instead of breaking the page.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

STATUS_LABELS: dict[str, Any] = {
    "draft": _l("Bozza"),
    "submitted": _l("Inviata"),
    "under_review": _l("In istruttoria"),
    "documents_requested": _l("Documenti richiesti"),
    "approved": _l("Approvata"),
    "rejected": _l("Respinta"),
    "withdrawn": _l("Ritirata"),
    "issued": _l("Permesso rilasciato"),
}

PERMIT_STATUS_LABELS: dict[str, Any] = {
    "active": _l("Valido"),
    "expired": _l("Scaduto"),
    "revoked": _l("Revocato"),
    "replaced": _l("Sostituito"),
    "surrendered": _l("Restituito"),
}

ROLE_LABELS: dict[str, Any] = {
    "resident": _l("Cittadino"),
    "clerk": _l("Operatore ufficio permessi"),
    "supervisor": _l("Supervisore"),
    "police": _l("Polizia municipale"),
    "admin": _l("Amministratore"),
}

TOKEN_ROLE_LABELS: dict[str, Any] = {
    "police": _l("Dispositivo della polizia"),
    "gate": _l("Varco elettronico"),
}

REGISTRY_LABELS: dict[str, Any] = {
    "residents": _l("Anagrafe dei residenti"),
    "vehicles": _l("Veicoli"),
    "streets": _l("Stradario"),
    "badges": _l("Contrassegni disabili"),
    "businesses": _l("Imprese"),
}


def label(labels: dict[str, Any], code: str | None) -> str:
    """The translated name of a code, or the code itself when it has none yet."""
    if code is None:
        return ""
    found = labels.get(str(code))
    return str(found) if found is not None else str(code)
