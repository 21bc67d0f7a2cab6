"""Files people upload (documents of an application, of a delegation): checked by content, stored
outside static/ under a random name, readable by the service's user only.

Why by content: a file's name and its declared type are whatever the sender says; a "PDF" that is an
HTML page would be served back to a clerk's browser. The first bytes decide (PDF, JPEG, PNG only),
the size is capped, and the file is stored under a random name in the upload folder (instance/
uploads by default), so nothing a user sends can choose where it lands or how it is served.

Why in infrastructure: applications (ztl.applications.documents) and delegations
(ztl.accounts.representation) store their documents the same way, and neither domain may import
the other's. A full disk is a clear refusal (DocumentError "storage_unavailable"), not a 500.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ztl.infrastructure.unit_of_work import ServiceError

log = logging.getLogger(__name__)

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


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
