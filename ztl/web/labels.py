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

GATE_DIRECTION_LABELS: dict[str, Any] = {
    "in": _l("in entrata"),
    "out": _l("in uscita"),
    "both": _l("in entrata e in uscita"),
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


EVENT_LABELS: dict[str, Any] = {
    "drafted": _l("Bozza creata"),
    "edited": _l("Bozza modificata"),
    "checked": _l("Controlli eseguiti"),
    "submitted": _l("Domanda inviata"),
    "payment_requested": _l("Avviso di pagamento emesso"),
    "paid": _l("Pagamento registrato"),
    "queued": _l("Passata all'ufficio permessi"),
    "documents_requested": _l("L'ufficio chiede documenti"),
    "document_attached": _l("Documento allegato"),
    "document_removed": _l("Documento tolto"),
    "documents_sent": _l("Documenti inviati all'ufficio"),
    "approved": _l("Approvata"),
    "rejected": _l("Respinta"),
    "issued": _l("Permesso rilasciato"),
    "withdrawn": _l("Ritirata"),
    "recheck_failed": _l("Segnalato dal controllo sui registri"),
    "recheck_passed": _l("Controllo sui registri di nuovo superato"),
    "revoked": _l("Revocato"),
    "replaced": _l("Sostituito"),
    "surrendered": _l("Restituito"),
    "expired": _l("Scaduto"),
    "delegation_requested": _l("Delega richiesta"),
    "delegation_approved": _l("Delega approvata"),
    "delegation_refused": _l("Delega rifiutata"),
    "delegation_revoked": _l("Delega revocata"),
}

DELEGATION_STATUS_LABELS: dict[str, Any] = {
    "requested": _l("In attesa dell'ufficio"),
    "approved": _l("Approvata"),
    "refused": _l("Rifiutata"),
    "revoked": _l("Revocata"),
}

# In what capacity a person acts for a firm (ztl.accounts.representation).
CAPACITY_LABELS: dict[str, Any] = {
    "representative": _l("Legale rappresentante"),
    "delegate": _l("Delegato"),
    "clerk": _l("Ufficio permessi"),
}

DOCUMENT_KINDS: dict[str, Any] = {
    "lease_or_deed": _l("Contratto di locazione o atto di proprietà"),
    "garage_deed_or_lease": _l("Atto o contratto del posto auto"),
    "medical_registration": _l("Iscrizione all'albo dei medici"),
    "works_contract": _l("Contratto di lavori o servizio"),
    "identity_document": _l("Documento di identità"),
    "other": _l("Altro documento"),
    "delegation_form": _l("Delega firmata"),
}

CHECK_STATUS: dict[str, Any] = {
    "pass": _l("superato"),
    "fail": _l("non superato"),
    "needs_review": _l("da verificare"),
}

OUTCOMES: dict[str, Any] = {
    "eligible": _l("requisiti soddisfatti"),
    "not_eligible": _l("requisiti non soddisfatti"),
    "needs_review": _l("serve l'esame di un operatore"),
}


def label(labels: dict[str, Any], code: str | None) -> str:
    """The translated name of a code, or the code itself when it has none yet."""
    if code is None:
        return ""
    found = labels.get(str(code))
    return str(found) if found is not None else str(code)
