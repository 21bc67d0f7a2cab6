"""Documents attached to an application: checked by content, stored outside static/, served by rule.

The checks and the storage (check_upload, store_upload, discard_upload) also serve the documents of
a delegation to act for a firm (ztl.services.representation): the same types, sizes and folder.

Why by content: a file's name and its declared type are whatever the sender says; a "PDF" that is an
HTML page would be served back to a clerk's browser. The first bytes decide (PDF, JPEG, PNG only),
the size is capped, and the file is stored under a random name in the upload folder (instance/
uploads by default), so nothing a user sends can choose where it lands or how it is served.

The database row and the file are written together: the file first, then the row in the same
transaction; if the transaction fails the file is removed, so no row points to a missing file and
no orphan file outlives a failed upload. A full disk is a clear refusal, not a 500.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ztl.city.rules_config import current_rules
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.models import Application, Document, User
from ztl.models.enums import ApplicationStatus
from ztl.permissions import CLERKS, has_role, owns_application
from ztl.services.issuance import locked_application

log = logging.getLogger(__name__)

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Kinds an applicant may always attach, besides those the category asks for.
GENERAL_KINDS = ("identity_document", "other")
# Documents may be added while the application is being prepared or when the office asks for them.
ATTACHABLE = {
    ApplicationStatus.DRAFT.value,
    ApplicationStatus.SUBMITTED.value,
    ApplicationStatus.UNDER_REVIEW.value,
    ApplicationStatus.DOCUMENTS_REQUESTED.value,
}


class DocumentError(ServiceError):
    code = "document_refused"


@dataclass(frozen=True)
class StoredFile:
    path: Path
    content_type: str
    download_name: str


def sniff_content_type(head: bytes) -> str | None:
    """The type the content really is (PDF, JPEG, PNG), or None."""
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def max_document_bytes() -> int:
    return int(current_app.config.get("ZTL_MAX_DOCUMENT_BYTES", DEFAULT_MAX_BYTES))


def document_kinds(category_code: str) -> tuple[str, ...]:
    """The kinds the category asks for first, then the general ones."""
    try:
        asked = current_rules().category(category_code).documents
    except KeyError:
        asked = ()
    return tuple(dict.fromkeys((*asked, *GENERAL_KINDS)))


def document_kinds_all() -> tuple[str, ...]:
    """Every kind some category asks for, and the general ones (what an upload form may send)."""
    asked = [k for category in current_rules().categories for k in category.documents]
    return tuple(dict.fromkeys((*asked, *GENERAL_KINDS)))


def upload_folder() -> Path:
    return Path(current_app.config["ZTL_UPLOAD_DIR"])


def _safe_name(name: str) -> str:
    """The original name for display and download only: no path, no control characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|')
    return cleaned[:255] or "documento"


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # the folder itself is unusable: nothing was written there
        log.warning("could not remove %s: %s", path.name, exc.strerror)


def _owner_only(path: str, flags: int) -> int:
    """open()'s opener: identity documents and contracts are nobody else's to read on the server."""
    return os.open(path, flags, 0o600)


def check_upload(data: bytes) -> str:
    """The type an uploaded file really is; DocumentError when it is empty, too large or not a
    PDF, JPEG or PNG. Nothing is written."""
    if len(data) == 0:
        raise DocumentError("the file is empty", code="empty")
    if len(data) > max_document_bytes():
        raise DocumentError("the file is too large", code="too_large")
    content_type = sniff_content_type(data[:16])
    if content_type is None:
        raise DocumentError("only PDF, JPEG and PNG files are accepted", code="type")
    return content_type


def safe_name(name: str) -> str:
    """An uploaded file's name as it may be shown and offered for download."""
    return _safe_name(name)


def store_upload(data: bytes) -> tuple[Path, str]:
    """Write checked content under a random name in the upload folder: (path, stored name).
    The caller writes its row in a transaction and calls discard_upload(path) if that fails."""
    return _write(data)


def discard_upload(path: Path) -> None:
    """Remove a stored file whose row was never written (or was deleted)."""
    _remove(path)


def _write(data: bytes) -> tuple[Path, str]:
    folder = upload_folder()
    stored_name = secrets.token_hex(16)
    path = folder / stored_name
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(path, "xb", opener=_owner_only) as handle:
            handle.write(data)
    except OSError as exc:
        _remove(path)
        log.error("upload storage failed: %s", exc.strerror)
        raise DocumentError(
            "the document could not be stored; try again later", code="storage_unavailable"
        ) from exc
    return path, stored_name


def attach_document(
    application_id: int,
    user: User,
    kind: str,
    original_name: str,
    data: bytes,
    at: dt.datetime | None = None,
) -> int:
    """Attach a file to the user's own application; a requested document puts it back in the queue."""
    content_type = check_upload(data)
    path, stored_name = _write(data)
    try:
        with unit_of_work() as session:
            application = locked_application(session, application_id)
            if not owns_application(user, application, session):
                raise ServiceError(f"no application {application_id}", code="not_found")
            if kind not in document_kinds(application.category.code):
                raise DocumentError(f"unknown document kind {kind!r}", code="kind")
            if application.status not in ATTACHABLE:
                raise DocumentError("documents can no longer be added", code="closed")
            document = Document(
                application_id=application.id,
                kind=kind,
                original_name=_safe_name(original_name),
                stored_name=stored_name,
                content_type=content_type,
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_at=at or dt.datetime.now(dt.UTC),
                uploaded_by_id=user.id,
            )
            session.add(document)
            actor = Actor.of_user(user)
            if application.status == ApplicationStatus.DOCUMENTS_REQUESTED.value:
                application.status = ApplicationStatus.UNDER_REVIEW.value
                record_event(session, actor, "application", application.id, "documents_sent")
            session.flush()
            record_event(
                session,
                actor,
                "application",
                application.id,
                "document_attached",
                data={"document": document.id, "kind": kind, "sha256": document.sha256},
            )
            document_id = document.id
    except BaseException:
        _remove(path)
        raise
    return document_id


def remove_document(document_id: int, user: User) -> None:
    """Whoever owns a draft (ztl.permissions) may remove its documents; after submission they
    stay."""
    with unit_of_work() as session:
        document = session.get(Document, document_id)
        if document is None or not owns_application(user, document.application, session):
            raise ServiceError(f"no document {document_id}", code="not_found")
        if document.application.status != ApplicationStatus.DRAFT.value:
            raise DocumentError("documents of a submitted application stay", code="closed")
        stored = upload_folder() / document.stored_name
        record_event(
            session,
            Actor.of_user(user),
            "application",
            document.application_id,
            "document_removed",
            data={"kind": document.kind, "sha256": document.sha256},
        )
        session.delete(document)
    stored.unlink(missing_ok=True)


def open_document(document_id: int, user: User) -> StoredFile:
    """The file of a document for whoever owns its application (ztl.permissions) or a clerk;
    anyone else gets "not found"."""
    with unit_of_work() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise ServiceError(f"no document {document_id}", code="not_found")
        application: Application = document.application
        if not (has_role(user, CLERKS) or owns_application(user, application, session)):
            raise ServiceError(f"no document {document_id}", code="not_found")
        path = upload_folder() / document.stored_name
        found = StoredFile(path, document.content_type, document.original_name)
    if not path.is_file():
        raise ServiceError("the stored file is missing", code="file_missing")
    return found
