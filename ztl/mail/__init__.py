"""Outgoing e-mail: a message value and one way to send it (SMTP, or .eml files in development).

Why a package of its own: services decide *what* to tell a person; how a message leaves the
building (the municipality's SMTP relay, or a folder a developer can open) is configuration, and
keeping it here means no service imports smtplib.
"""

from ztl.mail.transport import Attachment, MailError, OutgoingMessage, build_email, send_message

__all__ = ["Attachment", "MailError", "OutgoingMessage", "build_email", "send_message"]
