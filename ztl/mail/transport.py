"""Send one e-mail through the municipality's SMTP server, or write it to the outbox folder.

Why both: a development machine or a test run has no mail server, and a message written as an
.eml file (ZTL_MAIL_OUTBOX, default instance/outbox) can be opened in any mail client to see
exactly what a citizen would receive. Production sets ZTL_SMTP_HOST and the same message goes out.

Every failure of delivery is raised as MailError, one exception for callers to catch, whose text
never contains the SMTP password or the message body.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app

SMTP_TIMEOUT_SECONDS = 30
_MAX_ERROR_CHARS = 500


class MailError(Exception):
    """The message could not be delivered to the SMTP server or written to the outbox."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str  # "application/pdf"
    data: bytes = field(repr=False)  # never in logs or reprs


@dataclass(frozen=True)
class OutgoingMessage:
    to: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()


def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    """The MIME message: plain text UTF-8, attachments as separate parts, marked as automatic."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    # RFC 3834: tells vacation responders not to answer an automatic message.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text, subtype="plain", charset="utf-8")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        email.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return email


def send_message(message: OutgoingMessage) -> None:
    """Deliver through SMTP when ZTL_SMTP_HOST is set, else write an .eml file; MailError if not."""
    config = current_app.config
    if message.to.strip().lower().endswith(".invalid"):
        # An account whose identity provider gave no e-mail (RFC 2606's reserved domain).
        raise MailError("the account has no e-mail address")
    email = build_email(message, config["ZTL_MAIL_FROM"])
    host = config.get("ZTL_SMTP_HOST")
    try:
        if host:
            _send_smtp(email, host, config)
        else:
            _write_outbox(email, Path(config["ZTL_MAIL_OUTBOX"]))
    # smtplib's and ssl's errors are OSErrors; ValueError: an address the headers cannot carry.
    except (OSError, ValueError) as exc:
        raise MailError(_describe(exc)) from exc


def _send_smtp(email: EmailMessage, host: str, config: Any) -> None:
    with smtplib.SMTP(host, int(config["ZTL_SMTP_PORT"]), timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if config.get("ZTL_SMTP_STARTTLS"):
            smtp.starttls(context=ssl.create_default_context())
        user = config.get("ZTL_SMTP_USER")
        if user:
            smtp.login(user, config.get("ZTL_SMTP_PASSWORD") or "")
        smtp.send_message(email)


def _write_outbox(email: EmailMessage, outbox: Path) -> Path:
    """A new file per message, created exclusively and readable by the owner only (personal data)."""
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = outbox / f"{stamp}-{secrets.token_hex(8)}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(email.as_bytes())
    return path


def _describe(exc: BaseException) -> str:
    """The class and the server's answer, short; smtplib never puts the password in its errors."""
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:_MAX_ERROR_CHARS]
