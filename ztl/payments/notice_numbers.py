"""pagoPA notice numbers (codice avviso), IUVs and the notice's QR code text.

Why the municipality makes its own numbers: the IUV identifies the debt everywhere (the notice the
resident holds, the intermediary's position, the receipt that comes back), so it is fixed when the
position is stored, before any call to the intermediary; a retried call then carries the same
number and the intermediary answers with the same position.

The layout is pagoPA's for a creditor reached through an intermediary (aux digit 3):

    notice number (18 digits) = aux digit "3" + IUV
    IUV (17 digits)           = segregation code (2) + base (13) + check digits (2)
    check digits              = remainder of int(aux digit + segregation code + base) / 93

The segregation code is the one the intermediary assigned to the municipality's station
(ZTL_PAGOPA_SEGREGATION_CODE). The QR code on the printed notice reads
`PAGOPA|002|<notice number>|<creditor's fiscal code>|<amount in cents>`, the text banking apps
and ATMs scan.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

AUX_DIGIT = "3"
IUV_LENGTH = 17
NOTICE_LENGTH = 18
BASE_LENGTH = 13
QR_PREFIX = "PAGOPA|002"


class BadNoticeNumber(ValueError):
    """Not a pagoPA notice number of this layout: the message says which rule it breaks."""


def check_digits(aux_and_body: str) -> str:
    """The two check digits of the digits before them (aux digit included), modulo 93."""
    return f"{int(aux_and_body) % 93:02d}"


def new_iuv(segregation_code: str) -> str:
    """A fresh IUV under the station's segregation code: 13 random digits and their check."""
    if len(segregation_code) != 2 or not segregation_code.isdigit():
        raise BadNoticeNumber("the segregation code is two digits")
    base = "".join(str(secrets.randbelow(10)) for _ in range(BASE_LENGTH))
    body = segregation_code + base
    return body + check_digits(AUX_DIGIT + body)


def notice_number(iuv: str) -> str:
    """The 18-digit number the payer types or scans: the aux digit before the IUV."""
    check_iuv(iuv)
    return AUX_DIGIT + iuv


def check_iuv(iuv: str) -> None:
    if len(iuv) != IUV_LENGTH or not iuv.isascii() or not iuv.isdigit():
        raise BadNoticeNumber(f"an IUV is {IUV_LENGTH} digits")
    if iuv[15:] != check_digits(AUX_DIGIT + iuv[:15]):
        raise BadNoticeNumber("the IUV's last two digits are not its check digits")


def iuv_of(number: str) -> str:
    """The IUV inside a notice number, after checking every rule of the layout."""
    if len(number) != NOTICE_LENGTH or not number.isascii() or not number.isdigit():
        raise BadNoticeNumber(f"a notice number is {NOTICE_LENGTH} digits")
    if number[0] != AUX_DIGIT:
        raise BadNoticeNumber(f"a notice number of this creditor starts with {AUX_DIGIT}")
    check_iuv(number[1:])
    return number[1:]


def iuv_is_well_formed(iuv: str) -> bool:
    try:
        check_iuv(iuv)
    except BadNoticeNumber:
        return False
    return True


def grouped(number: str) -> str:
    """The notice number as the printed notice shows it, in groups of four: easier to copy."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


@dataclass(frozen=True)
class QrText:
    """The fields of a notice's QR code, and the text that encodes them."""

    notice_number: str
    creditor_fiscal_code: str
    amount_cents: int

    def text(self) -> str:
        return f"{QR_PREFIX}|{self.notice_number}|{self.creditor_fiscal_code}|{self.amount_cents}"

    @classmethod
    def parse(cls, text: str) -> QrText:
        """Read a scanned code back; refuses what a banking app would refuse."""
        parts = text.split("|")
        if len(parts) != 5 or "|".join(parts[:2]) != QR_PREFIX:
            raise BadNoticeNumber(f"a pagoPA QR code reads {QR_PREFIX}|number|creditor|amount")
        number, creditor, amount = parts[2], parts[3], parts[4]
        iuv_of(number)
        if len(creditor) != 11 or not creditor.isdigit():
            raise BadNoticeNumber("the creditor's fiscal code is 11 digits")
        if not amount.isdigit() or int(amount) <= 0:
            raise BadNoticeNumber("the amount is a positive number of cents")
        return cls(number, creditor, int(amount))
