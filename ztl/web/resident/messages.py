"""What the applicant reads when a service refuses: one sentence per stable error code.

Services speak in codes (stable for tests and APIs); these are the words for people, in the
applicant's language. An unknown code falls back to a general sentence, never to a traceback.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ztl.services.unit_of_work import ServiceError

MESSAGES: dict[str, Any] = {
    "not_found": _l("Pagina non trovata."),
    "category_unknown": _l("Questo tipo di permesso non esiste."),
    "no_codice_fiscale": _l(
        "Il tuo account non ha un codice fiscale: rivolgiti all'ufficio permessi."
    ),
    "applicant_invalid": _l("La partita IVA non è valida."),
    "not_a_firm": _l("Per questo permesso serve la partita IVA dell'impresa (11 cifre)."),
    "plate_invalid": _l("Una targa non è valida: controlla di averla scritta per intero."),
    "country_invalid": _l(
        "Il codice del paese della targa estera deve avere due lettere, per esempio DE."
    ),
    "plate_twice": _l("Hai scritto due volte la stessa targa."),
    "plate_missing": _l("Scrivi almeno una targa."),
    "too_many_plates": _l("Hai scritto più targhe di quante ne ammetta questo permesso."),
    "zone": _l("Una delle zone scelte non fa parte di questo permesso."),
    "validity_unknown": _l("Questa durata non è prevista per questo permesso."),
    "date_past": _l("La data di inizio è già passata."),
    "date_far": _l("La data di inizio è troppo lontana: al massimo un anno da oggi."),
    "time_past": _l("L'ora di inizio è già passata."),
    "transit_future": _l("Il transito indicato è nel futuro."),
    "not_editable": _l("La domanda è già stata inviata: non si può più modificare."),
    "not_a_draft": _l("La domanda è già stata inviata."),
    "not_eligible_automatic": _l(
        "I controlli non sono superati e questo permesso non prevede l'esame di un operatore: "
        "la domanda non può essere inviata. Leggi sotto l'esito di ogni controllo."
    ),
    "not_payable": _l("La domanda non è in attesa di pagamento."),
    "not_paid": _l("Il pagamento non risulta ancora: riprova tra qualche minuto."),
    "awaiting_receipt": _l(
        "Il pagamento sarà registrato appena arriva la ricevuta del sistema pagoPA: "
        "non serve fare altro. Ricarica la pagina tra qualche minuto."
    ),
    "not_withdrawable": _l("La domanda non può più essere ritirata."),
    "empty": _l("Il file è vuoto."),
    "too_large": _l("Il file è troppo grande."),
    "type": _l("Sono accettati solo file PDF, JPEG e PNG."),
    "kind": _l("Tipo di documento non previsto."),
    "closed": _l("Non si possono più aggiungere o togliere documenti a questa domanda."),
    "storage_unavailable": _l("Non è stato possibile salvare il documento: riprova più tardi."),
    "file_missing": _l(
        "Il file di questo documento non è più disponibile: rivolgiti all'ufficio permessi."
    ),
    "not_active": _l("Il permesso non è più valido."),
    "too_early": _l("Il rinnovo si apre 60 giorni prima della scadenza."),
    "not_renewable": _l("Questo permesso non si rinnova: se ne chiede uno nuovo."),
    "plate_not_on_permit": _l("La targa da sostituire non è sul permesso."),
    "plate_unchanged": _l("La nuova targa è già sul permesso."),
    "hotel_unknown": _l("La partita IVA non risulta tra le imprese attive del registro."),
    "hotel_not_accommodation": _l(
        "I blocchetti per gli ospiti sono riservati alle strutture ricettive (codice ATECO 55)."
    ),
    "hotel_outside_zone": _l("La sede della struttura non è nella zona a traffico limitato."),
    "guest_already_registered": _l(
        "Questa targa è già registrata dall'albergo per giorni che si sovrappongono: non serve "
        "registrarla di nuovo."
    ),
    "plate_change_limit": _l(
        "Su questo permesso non si può cambiare ancora la targa: il Comune ne limita i cambi "
        "(nessuno per i permessi giornalieri e di due ore già validi)."
    ),
    "not_eligible": _l("I controlli non sono superati per la nuova targa."),
    "needs_review": _l(
        "La nuova targa richiede l'esame di un operatore: rivolgiti all'ufficio permessi."
    ),
    "hotel_invalid": _l("La partita IVA dell'albergo non è valida."),
    "no_booklet": _l("L'albergo non ha un blocchetto pagato con registrazioni disponibili."),
    "nights": _l("La permanenza va da 1 a 7 giorni."),
    "not_representative": _l(
        "Non risulti legale rappresentante dell'impresa né suo delegato approvato: chiedi una "
        "delega dalla pagina «Le tue imprese»."
    ),
    "firm_invalid": _l("La partita IVA non è valida."),
    "firm_unknown": _l("La partita IVA non risulta tra le imprese attive del registro."),
    "already_representative": _l(
        "Sei già legale rappresentante di questa impresa: non ti serve una delega."
    ),
    "delegation_exists": _l("Hai già una delega richiesta o approvata per questa impresa."),
    "not_revocable": _l("La delega è già terminata."),
    "too_many_rows": _l("Il file ha troppe righe: al massimo 500."),
    "unreadable_file": _l(
        "Il file non è un CSV leggibile: salvalo come CSV (righe targa,arrivo,notti) e riprova."
    ),
}
GENERIC = _l("L'operazione non è stata eseguita.")


def refusal_text(error: ServiceError) -> str:
    return str(MESSAGES.get(error.code, GENERIC))
