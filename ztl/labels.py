"""The label catalogue: the human name of every stored code (statuses, checks, documents,
register values, roles, events), in the reader's language.

Pages, e-mails and PDFs show these, never raw codes: a resident reads "In istruttoria", not
`under_review`; a clerk reads "Veicolo nel registro", not `vehicle_found`. Refusals have their own
catalogue (`ztl.errors`), built the same way. Most names are Italian msgids translated through
ztl/translations; the names of register values and documents are the rules engine's own pairs
(`ztl.rules.wording`), since its explanations name them too and must say the same.
`CATALOGUE` lists every kind of code; tests/test_no_internal_codes.py holds it complete and scans
rendered pages, e-mails and PDFs for any code that slipped through. An unknown code falls back to
itself, so a new value shows up (and the test fails) instead of breaking a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from ztl.i18n import current_language
from ztl.rules import wording
from ztl.rules.wording import Pair


class _Said:
    """A rules-engine pair that reads in the current language when turned into text."""

    def __init__(self, pair: Pair) -> None:
        self.pair = pair

    def __str__(self) -> str:
        return self.pair.said_in(current_language())


def _from_pairs(pairs: Mapping[str, Pair]) -> dict[str, Any]:
    return {code: _Said(pair) for code, pair in pairs.items()}


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
    "violation_confirmed": _l("Violazione confermata"),
    "violation_dismissed": _l("Violazione archiviata"),
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

DOCUMENT_KINDS: dict[str, Any] = _from_pairs(wording.DOCUMENT_KINDS)
RESIDENT_STATUS_LABELS: dict[str, Any] = _from_pairs(wording.RESIDENT_STATUS)
VEHICLE_STATUS_LABELS: dict[str, Any] = _from_pairs(wording.VEHICLE_STATUS)
VEHICLE_USAGE_LABELS: dict[str, Any] = _from_pairs(wording.VEHICLE_USAGE)
BUSINESS_STATUS_LABELS: dict[str, Any] = _from_pairs(wording.BUSINESS_STATUS)
FUEL_LABELS: dict[str, Any] = _from_pairs(wording.FUELS)

# What each eligibility check verifies (its explanation says how it went).
CHECK_LABELS: dict[str, Any] = {
    "applicant_identity": _l("Codice fiscale o partita IVA valido"),
    "badge_valid": _l("Contrassegno disabili valido"),
    "business_active": _l("Impresa attiva"),
    "business_seat_in_zone": _l("Sede dell'impresa nella zona"),
    "daily_monthly_limit": _l("Limite mensile dei permessi giornalieri"),
    "documents_attached": _l("Documenti obbligatori allegati"),
    "emission_floor": _l("Classe di emissione ammessa"),
    "household_limit": _l("Permessi del nucleo familiare"),
    "one_permit_per_plate": _l("Un solo permesso per targa"),
    "residence_in_zone": _l("Residenza nella zona"),
    "retroactive_window": _l("Registrazione entro il termine"),
    "vehicle_active": _l("Veicolo in circolazione"),
    "vehicle_category": _l("Categoria del veicolo ammessa"),
    "vehicle_found": _l("Veicolo nel registro"),
    "vehicle_tied": _l("Veicolo del richiedente o del nucleo"),
}

# Who decides a category's applications (the rules file's `decided_by`).
DECIDER_LABELS: dict[str, Any] = {
    "automatic": _l("Rilascio automatico"),
    "automatic_if_registered": _l("Rilascio automatico se i dati risultano nei registri"),
    "clerk": _l("Ufficio permessi"),
}

# The evidence a check looked at, as the clerk reads it.
EVIDENCE_KEYS: dict[str, Any] = {
    "active_permits": _l("Permessi attivi"),
    "address_zones": _l("Zone dell'indirizzo"),
    "allowed": _l("Categorie ammesse"),
    "attached": _l("Documenti allegati"),
    "badge": _l("Contrassegno"),
    "canonical": _l("Codice fiscale normalizzato"),
    "category": _l("Categoria del veicolo"),
    "country": _l("Paese della targa"),
    "declared": _l("Dati dichiarati dal richiedente"),
    "euro_class": _l("Classe Euro"),
    "fuel": _l("Alimentazione"),
    "holder": _l("Utilizzatore"),
    "hours_allowed": _l("Ore ammesse"),
    "house_number": _l("Numero civico"),
    "limit": _l("Massimo"),
    "minimum": _l("Classe Euro minima"),
    "missing": _l("Documenti mancanti"),
    "month": _l("Mese"),
    "on": _l("Data della verifica"),
    "owner": _l("Intestatario"),
    "partita_iva": _l("Partita IVA"),
    "plate": _l("Targa"),
    "registered_at": _l("Registrazione"),
    "required": _l("Documenti obbligatori"),
    "seat_zones": _l("Zone della sede"),
    "status": _l("Stato nel registro"),
    "street": _l("Via"),
    "subject_id": _l("Codice fiscale o partita IVA"),
    "transit_at": _l("Transito"),
    "usage": _l("Titolo d'uso"),
    "used": _l("Già usati"),
    "valid_until": _l("Valido fino al"),
    "within_hours": _l("Ore entro cui decide l'ufficio"),
    "zones_requested": _l("Zone richieste"),
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


# Which names a piece of evidence's value takes, by its key ("status": a person's or a firm's).
EVIDENCE_VALUES: dict[str, dict[str, Any]] = {
    "fuel": FUEL_LABELS,
    "usage": VEHICLE_USAGE_LABELS,
    "required": DOCUMENT_KINDS,
    "attached": DOCUMENT_KINDS,
    "missing": DOCUMENT_KINDS,
}
STATUS_VALUES: dict[str, Any] = {
    **BUSINESS_STATUS_LABELS,
    **RESIDENT_STATUS_LABELS,
}

# The accounting office's page (ztl.records.accounting): payments, receipts, refunds.
# What a refused receipt's reason means, in words (the codes of ztl.applications.payment_receipts).
RECEIPT_REASON_LABELS: dict[str, Any] = {
    "unknown_notice": _l("Nessun avviso con questo numero"),
    "amount_mismatch": _l("Importo diverso da quello dell'avviso"),
    "payer_mismatch": _l("Pagatore diverso dal debitore dell'avviso"),
    "already_paid": _l("Avviso già pagato con un'altra ricevuta: doppio pagamento da rimborsare"),
    "notice_cancelled": _l(
        "Avviso annullato (domanda ritirata o respinta): pagamento da rimborsare"
    ),
    "receipt_reused": _l("Codice della ricevuta già usato per un altro pagamento"),
    "already_recorded": _l("Ricevuta già registrata"),
    "other": _l("Motivo non riconosciuto"),
}
POSITION_STATE_LABELS: dict[str, Any] = {
    "opening": _l("In preparazione: l'intermediario non l'ha ancora confermato"),
    "open": _l("Da pagare"),
    "paid": _l("Pagato"),
    "cancelling": _l("In annullamento: l'intermediario non l'ha ancora confermato"),
    "cancelled": _l("Annullato"),
    "expired": _l("Scaduto"),
}
REFUND_REASON_LABELS: dict[str, Any] = {
    "rejected": _l("Domanda respinta"),
    "withdrawn": _l("Domanda ritirata"),
    "double_payment": _l("Doppio pagamento"),
    "cancelled_notice": _l("Pagamento di un avviso annullato"),
}
PAYMENT_CHANNEL_LABELS: dict[str, Any] = {
    "notification": _l("Notifica dell'intermediario pagoPA"),
    "reconciliation": _l("Riconciliazione giornaliera"),
    "signed": _l("Notifica firmata del sistema di pagamento"),
    "counter": _l("Sportello"),
}
TRANSIT_STATUS_LABELS: dict[str, Any] = {
    "authorized": _l("Autorizzato"),
    "pending": _l("In attesa: una registrazione successiva può ancora coprirlo"),
    "cleared": _l("Coperto da una registrazione successiva"),
    "violation": _l("Violazione da esaminare"),
    "confirmed": _l("Violazione confermata"),
    "dismissed": _l("Archiviato"),
    "held": _l("Varco sconosciuto: in attesa della configurazione"),
}
DISMISSAL_LABELS: dict[str, Any] = {
    "emergency": _l("Veicolo di emergenza o di polizia in servizio"),
    "misread": _l("Targa letta male dalla telecamera"),
    "late_permit": _l("Coperto da un permesso inserito in ritardo"),
    "other": _l("Altro motivo (indicato nella nota)"),
}
PERMIT_MISS_LABELS: dict[str, Any] = {
    "other_zone": _l("Non vale in questa zona"),
    "not_valid_then": _l("Non valido in quella data"),
    "outside_hours": _l("Non vale a quell'ora"),
    "permit": _l("Copre il transito"),
}

# Every kind of code a person may meet, by what it is (tests/test_no_internal_codes.py).
CATALOGUE: dict[str, dict[str, Any]] = {
    "application status": STATUS_LABELS,
    "permit status": PERMIT_STATUS_LABELS,
    "delegation status": DELEGATION_STATUS_LABELS,
    "check": CHECK_LABELS,
    "check status": CHECK_STATUS,
    "outcome": OUTCOMES,
    "event": EVENT_LABELS,
    "document kind": DOCUMENT_KINDS,
    "resident status": RESIDENT_STATUS_LABELS,
    "vehicle status": VEHICLE_STATUS_LABELS,
    "vehicle usage": VEHICLE_USAGE_LABELS,
    "business status": BUSINESS_STATUS_LABELS,
    "fuel": FUEL_LABELS,
    "decider": DECIDER_LABELS,
    "role": ROLE_LABELS,
    "token role": TOKEN_ROLE_LABELS,
    "register": REGISTRY_LABELS,
    "gate direction": GATE_DIRECTION_LABELS,
    "capacity": CAPACITY_LABELS,
    "evidence": EVIDENCE_KEYS,
    "receipt reason": RECEIPT_REASON_LABELS,
    "payment notice state": POSITION_STATE_LABELS,
    "refund reason": REFUND_REASON_LABELS,
    "payment channel": PAYMENT_CHANNEL_LABELS,
    "transit status": TRANSIT_STATUS_LABELS,
    "dismissal": DISMISSAL_LABELS,
    "permit miss": PERMIT_MISS_LABELS,
}


def label(labels: dict[str, Any], code: str | None) -> str:
    """The translated name of a code, or the code itself when it has none yet."""
    if code is None:
        return ""
    found = labels.get(str(code))
    return str(found) if found is not None else str(code)
