"""The error catalogue: every error code the service refuses with, and what a person reads for it.

Services refuse with stable codes (`ServiceError.code` and its subclasses, the API's answers, the
payment receipts' refusals, the sign-in outcomes); this module is the one place that turns a code
into words. Each entry is a lazy Italian msgid (Italian is the source language; English comes from
ztl/translations) and the HTTP status an answer refusing with that code carries (the JSON API,
the sign-in pages). Web views, the API and the `ztl` command line all take their text from here.

A message may name parameters (`%(checks)s`): the caller passes them as keywords. `detail` is
special: given an exception, it is the exception's own text (what exactly was wrong, in English,
for people who run the service), so only entries whose reader benefits from it use it.

Adding a code: raise it, add its entry below. tests/test_error_catalogue.py finds every code raised
in ztl/ and fails when one has no entry here, or when an entry is raised nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

# What a code missing from the catalogue falls back to (ServiceError's own default code).
FALLBACK = "refused"
DETAIL = "detail"


@dataclass(frozen=True)
class ErrorText:
    message: Any  # a lazy string: translated when turned into text, in the reader's language
    status: int = 422  # the HTTP status of an answer refusing with this code

    @property
    def msgid(self) -> str:
        """The Italian source text (its placeholders name the parameters)."""
        args = getattr(self.message, "_args", None)  # flask_babel's LazyString(gettext, msgid)
        return str(args[0]) if args else str(self.message)


def _e(message: Any, status: int = 422) -> ErrorText:
    return ErrorText(message, status)


CATALOGUE: Mapping[str, ErrorText] = {
    # --- any refusal; the default codes of the ServiceError subclasses ----------------------------
    "refused": _e(_l("L'operazione non è stata eseguita.")),
    "bad_input": _e(_l("I dati inviati non sono validi: controllali e riprova.")),
    "not_found": _e(_l("Non trovato: nulla corrisponde a questo numero o indirizzo."), 404),
    "account": _e(_l("L'operazione sull'account non è riuscita.")),
    "token": _e(_l("L'operazione sul token non è riuscita.")),
    "user_admin": _e(_l("La modifica dell'account non è riuscita.")),
    "second_factor": _e(_l("L'operazione sul secondo fattore non è riuscita.")),
    "document_refused": _e(_l("Il documento non è stato accettato.")),
    "issuance_failed": _e(
        _l("Il permesso non è stato rilasciato: riprova o avvisa l'amministratore.")
    ),
    "registry_file": _e(_l("Il file del registro non si può importare: %(detail)s")),
    # --- the JSON API ---------------------------------------------------------------------------
    "bad_request": _e(_l("Richiesta non valida: %(detail)s"), 400),
    "csrf": _e(_l("Manca l'intestazione X-CSRFToken, o non è valida."), 400),
    "unauthorized": _e(_l("Serve un token valido o l'accesso al servizio."), 401),
    "forbidden": _e(_l("Il tuo ruolo non consente questa richiesta."), 403),
    "rate_limited": _e(_l("Troppe richieste: riprova più tardi."), 429),
    "no_zones": _e(
        _l("Nessuna zona configurata: il Comune non ha ancora caricato le sue regole."), 503
    ),
    "keys_missing": _e(
        _l(
            "Le chiavi di firma mancano o non si possono leggere: avvisa l'amministratore "
            "(si creano con «ztl keys init»)."
        ),
        503,
    ),
    # --- payment notifications (ztl.applications.payment_receipts) --------------------------------
    "bad_signature": _e(_l("La notifica non è firmata dal sistema dei pagamenti: %(detail)s"), 401),
    "already_paid": _e(_l("L'avviso risulta già pagato con un'altra ricevuta.")),
    "unknown_notice": _e(_l("Nessun avviso di pagamento con questo IUV.")),
    "amount_mismatch": _e(_l("L'importo della ricevuta non corrisponde a quello dell'avviso.")),
    "notice_cancelled": _e(_l("L'avviso è annullato: la domanda non attende più un pagamento.")),
    "receipt_reused": _e(_l("Questa ricevuta è già stata usata per un altro pagamento.")),
    "unknown_notice_here": _e(_l("Nessun avviso di pagamento con questo IUV."), 404),
    "payer_mismatch": _e(_l("La ricevuta indica un debitore diverso da quello dell'avviso.")),
    "tls_required": _e(_l("Questa richiesta si accetta solo su HTTPS."), 403),
    "notice_not_ready": _e(
        _l(
            "L'avviso di pagamento è in preparazione presso il sistema pagoPA: riprova tra "
            "qualche minuto."
        ),
        503,
    ),
    # --- applications and eligibility questions -------------------------------------------------
    "category_unknown": _e(_l("Questo tipo di permesso non esiste.")),
    "no_codice_fiscale": _e(
        _l("Il tuo account non ha un codice fiscale: rivolgiti all'ufficio permessi.")
    ),
    "applicant_invalid": _e(_l("La partita IVA non è valida.")),
    "not_a_firm": _e(_l("Per questo permesso serve la partita IVA dell'impresa (11 cifre).")),
    "plate_invalid": _e(_l("Una targa non è valida: controlla di averla scritta per intero.")),
    "plate_not_italian": _e(
        _l("La targa non ha un formato italiano: per una targa estera indica il paese.")
    ),
    "country_invalid": _e(
        _l("Il codice del paese della targa estera deve avere due lettere, per esempio DE.")
    ),
    "plate_twice": _e(_l("Hai scritto due volte la stessa targa.")),
    "plate_missing": _e(_l("Scrivi almeno una targa.")),
    "too_many_plates": _e(_l("Hai scritto più targhe di quante ne ammetta questo permesso.")),
    # --- a vehicle outside the register, declared by the applicant (unregistered_vehicles) -------
    "vehicle_declaration_needed": _e(
        _l(
            "La targa non è nel registro dei veicoli italiano: dichiara tipo di veicolo, "
            "alimentazione e classe Euro."
        )
    ),
    "declared_category_invalid": _e(_l("Scegli il tipo di veicolo dall'elenco.")),
    "declared_fuel_invalid": _e(_l("Scegli l'alimentazione dall'elenco.")),
    "declared_euro_invalid": _e(_l("Scegli la classe Euro dall'elenco.")),
    "zone": _e(_l("Una delle zone scelte non fa parte di questo permesso.")),
    "validity_unknown": _e(_l("Questa durata non è prevista per questo permesso.")),
    "date_past": _e(_l("La data di inizio è già passata.")),
    "date_far": _e(_l("La data di inizio è troppo lontana: al massimo un anno da oggi.")),
    "time_past": _e(_l("L'ora di inizio è già passata.")),
    "time_naive": _e(_l("L'ora deve indicare il fuso orario, per esempio +01:00 o Z.")),
    "transit_future": _e(_l("Il transito indicato è nel futuro.")),
    "not_editable": _e(_l("La domanda è già stata inviata: non si può più modificare.")),
    "not_a_draft": _e(_l("La domanda è già stata inviata.")),
    "not_eligible_automatic": _e(
        _l(
            "I controlli non sono superati e questo permesso non prevede l'esame di un operatore: "
            "la domanda non può essere inviata. Leggi sotto l'esito di ogni controllo."
        )
    ),
    "not_payable": _e(_l("La domanda non è in attesa di pagamento.")),
    "awaiting_receipt": _e(
        _l(
            "Il pagamento sarà registrato appena arriva la ricevuta del sistema pagoPA: "
            "non serve fare altro. Ricarica la pagina tra qualche minuto."
        )
    ),
    "not_withdrawable": _e(_l("La domanda non può più essere ritirata.")),
    "review_reason_required": _e(
        _l(
            "I controlli non sono superati: per inviare comunque la domanda chiedi la revisione "
            "dell'ufficio e scrivi il motivo."
        )
    ),
    # --- documents ------------------------------------------------------------------------------
    "empty": _e(_l("Il file è vuoto.")),
    "too_large": _e(_l("Il file è troppo grande."), 413),
    "type": _e(_l("Sono accettati solo file PDF, JPEG e PNG.")),
    "kind": _e(_l("Tipo di documento non previsto.")),
    "closed": _e(_l("Non si possono più aggiungere o togliere documenti a questa domanda.")),
    "storage_unavailable": _e(_l("Non è stato possibile salvare il documento: riprova più tardi.")),
    "transit_decided": _e(
        _l(
            "Questa violazione è già stata decisa (confermata o archiviata): la decisione non è "
            "stata registrata."
        ),
        409,
    ),
    "dismissal_note": _e(
        _l("Per archiviare per un altro motivo scrivi il motivo nella nota."), 422
    ),
    "dismissal_reason": _e(_l("Scegli uno dei motivi di archiviazione dell'elenco."), 422),
    "transit_storage": _e(
        _l("Non è stato possibile salvare l'immagine del transito: invialo di nuovo più tardi."),
        503,
    ),
    "file_missing": _e(
        _l("Il file di questo documento non è più disponibile: rivolgiti all'ufficio permessi.")
    ),
    # --- clerks' decisions and issuance -----------------------------------------------------------
    "not_decidable": _e(
        _l("La domanda è già stata decisa o ritirata: la decisione non è stata registrata.")
    ),
    "reason_missing": _e(_l("Scrivi il motivo del rifiuto.")),
    "message_missing": _e(_l("Scrivi quali documenti servono.")),
    "override_reason_missing": _e(
        _l(
            "La domanda non supera alcuni controlli: per approvarla lo stesso scrivi il motivo "
            "nella nota, che resta nella storia della domanda."
        )
    ),
    "reason_required": _e(_l("Scrivi il motivo della revoca.")),
    "not_approved": _e(_l("La domanda non è approvata: il permesso non si può rilasciare.")),
    "signing_failed": _e(
        _l("La firma del permesso non è riuscita: il permesso non è stato rilasciato. Riprova.")
    ),
    "seal_too_large": _e(
        _l("Il sigillo del permesso sarebbe troppo grande: riduci le targhe o le zone.")
    ),
    "validity": _e(_l("Non è stato possibile calcolare la validità del permesso.")),
    "zone_unknown": _e(_l("Una zona della domanda non esiste più.")),
    # --- permits: changes, renewals ---------------------------------------------------------------
    "not_active": _e(
        _l("Il permesso non è più valido: non si può revocare, rinnovare né modificare.")
    ),
    "too_early": _e(_l("Il rinnovo si apre 60 giorni prima della scadenza.")),
    "not_renewable": _e(_l("Questo permesso non si rinnova: se ne chiede uno nuovo.")),
    "plate_not_on_permit": _e(_l("La targa da sostituire non è sul permesso.")),
    "plate_unchanged": _e(_l("La nuova targa è già sul permesso.")),
    "plate_change_limit": _e(
        _l(
            "Su questo permesso non si può cambiare ancora la targa: il Comune ne limita i cambi "
            "(nessuno per i permessi giornalieri e di due ore già validi)."
        )
    ),
    "not_eligible": _e(_l("I controlli non sono superati: il permesso non può essere rilasciato.")),
    "needs_review": _e(
        _l("I controlli chiedono l'esame di un operatore: rivolgiti all'ufficio permessi.")
    ),
    # --- hotels and their guests ------------------------------------------------------------------
    "hotel_invalid": _e(_l("La partita IVA dell'albergo non è valida.")),
    "hotel_unknown": _e(_l("La partita IVA non risulta tra le imprese attive del registro.")),
    "hotel_not_accommodation": _e(
        _l("I blocchetti per gli ospiti sono riservati alle strutture ricettive (codice ATECO 55).")
    ),
    "hotel_outside_zone": _e(_l("La sede della struttura non è nella zona a traffico limitato.")),
    "no_booklets": _e(_l("Questo Comune non vende blocchetti per gli ospiti degli alberghi.")),
    "no_booklet": _e(_l("L'albergo non ha un blocchetto pagato con registrazioni disponibili.")),
    "nights": _e(_l("La permanenza va da 1 a 7 giorni.")),
    "time_without_offset": _e(_l("L'ora di arrivo deve indicare il fuso orario.")),
    "guest_needs_office": _e(
        _l(
            "La targa estera non è nei registri e va controllata dall'ufficio permessi: per questo "
            "ospite rivolgiti all'ufficio, la registrazione online non è stata fatta."
        )
    ),
    "guest_already_registered": _e(
        _l(
            "Questa targa è già registrata dall'albergo per giorni che si sovrappongono: non serve "
            "registrarla di nuovo."
        )
    ),
    "guest_not_eligible": _e(_l("Registrazione non ammessa. %(checks)s")),
    "arrival_invalid": _e(
        _l(
            "L'ora di arrivo non è valida: scrivila come 24/12/2026 15:00 (ora locale) o "
            "2026-12-24T15:00:00+01:00."
        )
    ),
    "too_many_rows": _e(_l("Il file ha troppe righe: al massimo 500.")),
    "unreadable_file": _e(
        _l("Il file non è un CSV leggibile: salvalo come CSV (righe targa,arrivo,notti) e riprova.")
    ),
    # --- firms: representatives and delegations -------------------------------------------------
    "not_representative": _e(
        _l(
            "Non risulti legale rappresentante dell'impresa né suo delegato approvato: chiedi una "
            "delega dalla pagina «Le tue imprese»."
        ),
        403,
    ),
    "firm_invalid": _e(_l("La partita IVA non è valida.")),
    "firm_unknown": _e(_l("La partita IVA non risulta tra le imprese attive del registro.")),
    "already_representative": _e(
        _l("Sei già legale rappresentante di questa impresa: non ti serve una delega.")
    ),
    "delegation_exists": _e(_l("Hai già una delega richiesta o approvata per questa impresa.")),
    "delegation_decided": _e(
        _l("La delega è già stata decisa o revocata: la decisione non è stata registrata.")
    ),
    "not_revocable": _e(_l("La delega è già terminata.")),
    # --- accounts, passwords, tokens --------------------------------------------------------------
    "registration_closed": _e(
        _l("I cittadini accedono con SPID o CIE: la registrazione con password non è disponibile.")
    ),
    "email_taken": _e(_l("Esiste già un account con questo indirizzo e-mail.")),
    "email_invalid": _e(_l("Scrivi un indirizzo e-mail completo, per esempio nome@esempio.it.")),
    "codice_fiscale_taken": _e(_l("Esiste già un account per questo codice fiscale.")),
    "codice_fiscale_invalid": _e(
        _l("Il codice fiscale non è valido: controlla di averlo scritto per intero.")
    ),
    "role_unknown": _e(_l("Ruolo sconosciuto.")),
    "language_unknown": _e(_l("Lingua non disponibile.")),
    # ztl.accounts.passwords.password_problem, prefixed (AccountError codes)
    "password_too_short": _e(_l("La password deve avere almeno 10 caratteri.")),
    "password_too_short_staff": _e(_l("La password del personale deve avere almeno 12 caratteri.")),
    "password_too_simple": _e(_l("La password deve contenere lettere e cifre o simboli.")),
    "password_too_common": _e(
        _l(
            "La password è troppo facile da indovinare (parole o sequenze comuni, il tuo nome o "
            "la tua e-mail): scegline una più lunga e meno prevedibile."
        )
    ),
    "password_blank_padded": _e(_l("La password non può iniziare o finire con uno spazio.")),
    "name_taken": _e(_l("Esiste già un token con questo nome: scegline un altro.")),
    "gate_not_gate_role": _e(_l("Solo un token di ruolo varco può essere legato a un varco.")),
    "gate": _e(_l("Codice del varco non valido: da 1 a 20 lettere, cifre, punto, trattino.")),
    "name_invalid": _e(_l("Usa lettere, cifre, punto, trattino o trattino basso, senza spazi.")),
    "own_account": _e(_l("Non puoi disattivare il tuo stesso account.")),
    "admin_only": _e(
        _l("Solo un amministratore può modificare l'account di un amministratore."), 403
    ),
    # --- signing in: passwords (SignInFailure), second factor (CodeOutcome and enrolment) -------
    "invalid": _e(_l("E-mail o password non corretti."), 401),
    "provider_only": _e(_l("I cittadini accedono con SPID o CIE: usa i pulsanti qui sotto."), 401),
    "inactive": _e(_l("Questo account è disattivato. Rivolgiti all'ufficio permessi."), 403),
    "locked": _e(
        _l("Troppi tentativi non riusciti: l'account è bloccato. Riprova più tardi."), 401
    ),
    "locked_until": _e(
        _l(
            "Troppi tentativi non riusciti: l'account è bloccato fino alle %(time)s. "
            "Riprova più tardi."
        ),
        401,
    ),
    "wrong": _e(_l("Codice non corretto."), 401),
    "replayed": _e(_l("Questo codice è già stato usato: attendi il prossimo."), 401),
    "unreadable": _e(
        _l(
            "Il codice dell'app non può essere verificato: usa un codice di recupero "
            "o chiedi a un supervisore di azzerare il secondo fattore."
        ),
        401,
    ),
    "wrong_code": _e(_l("Il codice non corrisponde: controlla l'ora del telefono e riprova.")),
    "already_enrolled": _e(_l("Il secondo fattore è già attivo.")),
    "not_enrolled": _e(_l("Questo account non ha un secondo fattore attivo.")),
    "not_staff": _e(_l("I cittadini non hanno un secondo fattore.")),
    "own_second_factor": _e(_l("Il tuo secondo fattore lo azzera un altro supervisore.")),
    # --- signing in through an identity provider: ztl.identity.Refusal, prefixed "identity_" ----
    "identity_state": _e(
        _l(
            "La richiesta di accesso è scaduta o non è partita da questo browser. "
            "Riprova dall'inizio."
        ),
        400,
    ),
    "identity_cancelled": _e(
        _l("L'accesso è stato annullato presso il gestore dell'identità."), 401
    ),
    "identity_signature": _e(
        _l("La risposta del gestore dell'identità non porta una firma valida: accesso negato."),
        401,
    ),
    "identity_expired": _e(
        _l("La risposta del gestore dell'identità è scaduta: riprova l'accesso."), 401
    ),
    "identity_issuer": _e(
        _l("La risposta non proviene dal gestore dell'identità atteso: accesso negato."), 401
    ),
    "identity_audience": _e(
        _l("La risposta del gestore dell'identità era destinata a un altro servizio."), 401
    ),
    "identity_nonce": _e(
        _l("La risposta del gestore dell'identità non corrisponde a questa richiesta di accesso."),
        401,
    ),
    "identity_invalid": _e(_l("La risposta del gestore dell'identità non è valida."), 401),
    "identity_subject": _e(_l("La risposta del gestore dell'identità non è coerente."), 401),
    "identity_low_assurance": _e(
        _l(
            "Per questo servizio serve un'identità digitale di livello 2 o superiore "
            "(ad esempio SPID con codice temporaneo o app, oppure CIE)."
        ),
        403,
    ),
    "identity_no_fiscal_number": _e(
        _l(
            "Il gestore dell'identità non ha comunicato un codice fiscale italiano valido: "
            "senza non possiamo riconoscerti."
        ),
        403,
    ),
    # ... and what the service decides about the person it asserted (VerifiedRefusal; "inactive"
    # is above)
    "staff_unknown": _e(
        _l(
            "Non c'è un account del personale per l'identità con cui hai effettuato l'accesso. "
            "Chiedi all'amministratore del servizio."
        ),
        403,
    ),
    "identity_changed": _e(
        _l(
            "Il gestore dell'identità comunica un codice fiscale diverso da quello di questo "
            "account. Rivolgiti all'ufficio permessi."
        ),
        403,
    ),
    # --- registers and the rules file (supervisors, the command line) ---------------------------
    "kind_unknown": _e(_l("Tipo di registro sconosciuto.")),
    "file_invalid": _e(_l("Il file non ha le colonne attese: %(detail)s")),
    "file_unreadable": _e(_l("Il file non si può leggere: %(detail)s")),
    "file_not_utf8": _e(_l("Il file non è in codifica UTF-8: %(detail)s")),
    "city_conflict": _e(
        _l("Il file delle regole non si può applicare: toglierebbe dati ancora in uso."), 409
    ),
}

# Identity-provider refusals share words with other codes ("invalid", "expired"), so their codes
# in the catalogue carry this prefix (ztl.web.auth.provider_views adds it).
IDENTITY_PREFIX = "identity_"


class Coded(Protocol):
    """A refusal carrying a code: a ServiceError or any of its subclasses."""

    @property
    def code(self) -> str: ...


class _Params(dict[str, Any]):
    """Format arguments; a parameter the caller did not give reads as empty, never a KeyError."""

    def __missing__(self, key: str) -> str:
        return ""


def entry(code: str | None) -> ErrorText:
    """The catalogue's entry for a code; an unknown code gets the general refusal."""
    return CATALOGUE.get(str(code), CATALOGUE[FALLBACK]) if code else CATALOGUE[FALLBACK]


def _code_and_params(error: str | Coded, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(error, str):
        return error, params
    return error.code, {DETAIL: str(error), **params}


def error_text(error: str | Coded, /, **params: Any) -> str:
    """What a person reads for a code, or for a refusal (its code; `detail` its own text), in the
    current language (a request's; Flask-Babel's selector)."""
    code, values = _code_and_params(error, params)
    text = str(entry(code).message)
    return text % _Params(values) if "%(" in text else text


def error_text_in(language: str, error: str | Coded, /, **params: Any) -> str:
    """The same in a given language ("it", "en"): the command line, e-mails, jobs."""
    with force_locale(language):
        return error_text(error, **params)


def error_status(error: str | Coded) -> int:
    code = error if isinstance(error, str) else error.code
    return entry(code).status


def uses_detail(error: str | Coded) -> bool:
    """Whether the message already carries the refusal's own text (the `detail` parameter)."""
    code = error if isinstance(error, str) else error.code
    return f"%({DETAIL})s" in entry(code).msgid
