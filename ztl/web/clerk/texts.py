"""What clerks read instead of stored codes: history actions, document kinds, checks, details.

Services speak in stable codes; these are the words for people, in the clerk's language. An unknown
code shows as itself, never as an error. Refusals (error codes) are worded by ztl.errors.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from ztl.labels import CHECK_STATUS, DOCUMENT_KINDS, EVENT_LABELS, OUTCOMES

WEEKDAYS = (_l("lun"), _l("mar"), _l("mer"), _l("gio"), _l("ven"), _l("sab"), _l("dom"))


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
    "starts_at": _l("Inizio (ora locale)"),
    "transit_at": _l("Primo transito (ora locale)"),
    "renews": _l("Rinnova il permesso"),
    "renews_id": _l("Identificativo del permesso rinnovato"),
}
