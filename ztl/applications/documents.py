"""Documents attached to an application: which kinds a category asks for, attached and removed while
the application may still change, served only to its applicant and to clerks.

How a file is checked and stored (by content, under a random name, owner-only) is
ztl.infrastructure.uploads, shared with the documents of a delegation.

The database row and the file are written together: the file first, then the row in the same
transaction; if the transaction fails the file is removed, so no row points to a missing file and
no orphan file outlives a failed upload.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from ztl.applications.applicant import assess
from ztl.city.rules_config import current_rules
from ztl.infrastructure.events import record_event
from ztl.infrastructure.unit_of_work import Actor, ServiceError, unit_of_work
from ztl.infrastructure.uploads import (
    DocumentError,
    StoredFile,
    check_upload,
    discard_upload,
    safe_name,
    store_upload,
    upload_folder,
)
from ztl.models import Application, Document, User
from ztl.models.enums import ApplicationStatus
from ztl.permissions import CLERKS, has_role, owns_application
from ztl.permits.issuance import locked_application

log = logging.getLogger(__name__)

# Kinds an applicant may always attach, besides those the category asks for.
GENERAL_KINDS = ("identity_document", "other")
# Documents may be added while the application is being prepared or when the office asks for them.
ATTACHABLE = {
    ApplicationStatus.DRAFT.value,
    ApplicationStatus.SUBMITTED.value,
    ApplicationStatus.UNDER_REVIEW.value,
    ApplicationStatus.DOCUMENTS_REQUESTED.value,
}


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
    path, stored_name = store_upload(data)
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
                original_name=safe_name(original_name),
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
            # The checks again, with the document: a verdict that still said "document missing"
            # would show the clerk a failure that is no longer true, and ask them for a reason to
            # overrule it.
            session.expire(application, ["documents"])
            assess(application, at or dt.datetime.now(dt.UTC))
            document_id = document.id
    except BaseException:
        discard_upload(path)
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
