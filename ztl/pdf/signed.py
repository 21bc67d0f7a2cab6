"""A permit's PDF rendered and then signed, as one pure function a process pool can run.

Why here and not in the services: the signing pool (pool.py) runs it in worker processes, and
the PDF layer must not reach up into the services that call it (the layers contract in setup.cfg).
"""

from __future__ import annotations

from ztl.pdf.render import PermitDocument, render_permit
from ztl.pdf.sign import sign_pdf
from ztl.signing.keys import KeyPair


def signed_permit(document: PermitDocument, pdf_key: KeyPair, root: KeyPair) -> bytes:
    """Render, then sign last; PdfSignatureError when the key cannot sign."""
    return sign_pdf(render_permit(document), pdf_key, root.certificate, document.municipality)
