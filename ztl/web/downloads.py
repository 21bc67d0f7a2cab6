"""Files handed to a browser: uploaded documents and signed permits, always as downloads.

An uploaded file came from outside and may lie about itself, so it is never shown inline: it is an
attachment, with nosniff and a sandboxing CSP in case a browser opens it anyway. The owner and the
clerks reach the same file through their own pages; who may open it is decided by the service.
"""

from __future__ import annotations

from typing import Any

from flask import abort, send_file
from werkzeug.wrappers import Response

from ztl.accounts.representation import open_delegation_document
from ztl.applications.documents import open_document
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.infrastructure.uploads import StoredFile
from ztl.models import Permit


def document_download(document_id: int, user: Any) -> Response:
    """The stored file for `user` (owner or clerk), or 404 for anyone else and for no such file."""
    try:
        stored = open_document(document_id, user)
    except ServiceError:
        abort(404)
    return _attachment(stored)


def delegation_document_download(document_id: int, user: Any) -> Response:
    """A delegation's file (the signed form, the identity document) for a clerk; 404 otherwise."""
    try:
        stored = open_delegation_document(document_id, user)
    except ServiceError:
        abort(404)
    return _attachment(stored)


def _attachment(stored: StoredFile) -> Response:
    response = send_file(
        stored.path,
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=stored.download_name,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def permit_pdf_download(permit: Permit) -> Response:
    """The signed PDF exactly as issued (its signature covers every byte), named after the number."""
    if not permit.pdf:
        abort(404)
    response = Response(permit.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{permit.number}.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def notice_pdf_download(pdf: bytes, notice_number: str | None = None) -> Response:
    """A pagoPA payment notice, named after its number when known (the payer files it so)."""
    response = Response(pdf, mimetype="application/pdf")
    name = f"avviso-pagopa-{notice_number}.pdf" if notice_number else "avviso-pagopa.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
