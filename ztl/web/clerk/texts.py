"""What clerks read instead of stored codes: refusals, history actions, document kinds, checks.

Services speak in stable codes; these are the words for people, in the clerk's language. An unknown
code falls back to a general sentence (refusals) or to the code itself (labels), never to an error.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ztl.services.unit_of_work import ServiceError
from ztl.web.labels import CHECK_STATUS, DOCUMENT_KINDS, EVENT_LABELS, OUTCOMES

REFUSALS: dict[str, Any] = {
    "not_found": _l("Pagina non trovata."),
    "not_decidable": _l(
        "La domanda è già stata decisa o ritirata: la decisione non è stata registrata."
    ),
    "reason_missing": _l("Scrivi il motivo del rifiuto."),
    "message_missing": _l("Scrivi quali documenti servono."),
    "reason_required": _l("Scrivi il motivo della revoca."),
    "not_active": _l("Il permesso non è più valido: non si può revocare."),
    "keys_missing": _l(
        "Le chiavi di firma non sono disponibili: il permesso non è stato rilasciato. "
        "Avvisa l'amministratore."
    ),
    "signing_failed": _l(
        "La firma del permesso non è riuscita: il permesso non è stato rilasciato. Riprova."
    ),
    "seal_too_large": _l(
        "Il sigillo del permesso sarebbe troppo grande: riduci le targhe o le zone."
    ),
    "validity": _l("Non è stato possibile calcolare la validità del permesso."),
    "zone_unknown": _l("Una zona della domanda non esiste più."),
    "delegation_decided": _l(
        "La delega è già stata decisa o revocata: la decisione non è stata registrata."
    ),
    "not_revocable": _l("La delega è già terminata."),
}
GENERIC_REFUSAL = _l("L'operazione non è stata eseguita.")

WEEKDAYS = (_l("lun"), _l("mar"), _l("mer"), _l("gio"), _l("ven"), _l("sab"), _l("dom"))


def refusal_text(error: ServiceError) -> str:
    return str(REFUSALS.get(error.code, GENERIC_REFUSAL))


def labels() -> dict[str, dict[str, Any]]:
    """The label tables templates look codes up in (unknown codes show as themselves)."""
    return {
        "event_labels": EVENT_LABELS,
        "document_kinds": DOCUMENT_KINDS,
        "check_status": CHECK_STATUS,
        "outcomes": OUTCOMES,
    }


DETAIL_LABELS: dict[str, Any] = {
    "validity": _l("Durata"),
    "registration_number": _l("Numero di iscrizione all'albo"),
    "parking_spaces": _l("Posti auto dichiarati"),
    "notes": _l("Note per l'ufficio"),
    "starts_at": _l("Inizio (UTC)"),
    "transit_at": _l("Primo transito (UTC)"),
    "renews": _l("Rinnova il permesso"),
    "renews_id": _l("Identificativo del permesso rinnovato"),
}
