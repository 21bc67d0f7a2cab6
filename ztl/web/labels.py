"""Human names of stored codes (statuses, roles), translated; templates show these, never raw codes."""

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

ROLE_LABELS: dict[str, Any] = {
    "resident": _l("Cittadino"),
    "clerk": _l("Operatore ufficio permessi"),
    "supervisor": _l("Supervisore"),
    "police": _l("Polizia municipale"),
    "admin": _l("Amministratore"),
}
