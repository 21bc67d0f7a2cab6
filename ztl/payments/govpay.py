"""The pagoPA intermediary, spoken to with GovPay's "API Pendenze", and its receipts read back.

Why GovPay's interface: it is what many Italian municipalities' technological partners expose (and
others offer the same operations), published as an OpenAPI document. We use four things of it:

- `PUT /pendenze/{idA2A}/{idPendenza}` opens a debt position with the notice number we fixed;
  the call is idempotent on idPendenza, so a retry after a lost answer finds the same position;
- `PATCH` of the same path with `{"stato": "ANNULLATA"}` cancels it;
- `GET` of the same path reads its state and its receipts (`rpp[].rt`), for the daily
  reconciliation;
- the intermediary's notification of a payment to us (`notifica`, with the receipt `rt`),
  read by `receipt_from_notification`.

Every call carries HTTP Basic credentials (ZTL_PAGOPA_USER / ZTL_PAGOPA_PASSWORD) and a timeout; an
answer we cannot use raises IntermediaryUnavailable (try later) or IntermediaryRefused (the request
is wrong as it is). Amounts cross the wire in euros as JSON numbers and are converted to and from
integer cents exactly, through Decimal. The receipt's time comes without an offset (pagoPA's
receipts are in Italian time) and is read in the municipality's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests

from ztl.payments.providers import (
    A2A,
    CHECKOUT_URL,
    FEE_ENTRY,
    PAGOPA,
    PASSWORD,
    TIMEOUT,
    URL,
    USER,
    IntermediaryRefused,
    IntermediaryUnavailable,
    PositionAlreadyPaid,
    PositionRequest,
    RemoteState,
)
from ztl.payments.receipts import NOTIFICATION, RECONCILIATION, Receipt
from ztl.values import InvalidValue

# The pagoPA taxonomy of notices the resident's banking app shows.
TAXONOMY = "Trasporti, mobilità e parcheggi"
STAMP_KIND = "Imposta di bollo"
PAID_OUTCOME = "0"  # codiceEsitoPagamento of a receipt whose payment went through
REMOTE_STATES = {
    "NON_ESEGUITA": "open",
    "ESEGUITA": "paid",
    "ESEGUITA_PARZIALE": "paid",
    "ANNULLATA": "cancelled",
    "SCADUTA": "expired",
}
MAX_RECEIPT_ID = 64
CENT = Decimal("0.01")


def euros(cents: int) -> float:
    """Cents as the JSON number the API takes (two decimals; exact for any fee)."""
    return float(Decimal(cents) / 100)


def cents(value: Any, name: str) -> int:
    """A JSON number of euros as integer cents; more than two decimals or not a number refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        raise InvalidValue(f"'{name}' must be an amount in euros")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidValue(f"'{name}' must be an amount in euros") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidValue(f"'{name}' must be a positive amount in euros with at most 2 decimals")
    if amount > 1_000_000:  # before quantize, which cannot take an exponent like 1e400
        raise InvalidValue(f"'{name}' is more than any fee")
    if amount != amount.quantize(CENT):
        raise InvalidValue(f"'{name}' must be a positive amount in euros with at most 2 decimals")
    return int(amount * 100)


class GovPayProvider:
    """The `pagopa` provider: positions at the intermediary, receipts by notification or reading."""

    name = PAGOPA
    confirms_on_payer_word = False

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        id_a2a: str,
        fee_entry: str,
        checkout_template: str,
        zone: ZoneInfo,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.zone = zone
        self.base_url = base_url.rstrip("/")
        self.id_a2a = id_a2a
        self.fee_entry = fee_entry
        self.checkout_template = checkout_template
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.auth = (user, password)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> GovPayProvider:
        session = settings.get("ZTL_PAGOPA_SESSION")  # tests attach their contract checker
        return cls(
            str(settings[URL]),
            str(settings[USER]),
            str(settings[PASSWORD]),
            str(settings[A2A]),
            str(settings[FEE_ENTRY]),
            str(settings[CHECKOUT_URL]),
            ZoneInfo(str(settings.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Rome")),
            float(settings.get(TIMEOUT) or 10.0),
            session if isinstance(session, requests.Session) else None,
        )

    def _url(self, remote_id: str) -> str:
        return f"{self.base_url}/pendenze/{quote(self.id_a2a, safe='')}/{quote(remote_id, safe='')}"

    def _call(self, method: str, url: str, body: Any = None) -> requests.Response:
        try:
            answer = self.session.request(method, url, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise IntermediaryUnavailable(f"the intermediary did not answer: {exc}") from exc
        if answer.status_code in (401, 403):
            raise IntermediaryRefused(
                f"the intermediary refused our credentials ({answer.status_code}): check "
                f"{USER}, {PASSWORD} and {A2A}"
            )
        if answer.status_code >= 500 or answer.status_code == 429:
            raise IntermediaryUnavailable(
                f"the intermediary answered {answer.status_code}: {_fault(answer)}"
            )
        return answer

    def open_position(self, request: PositionRequest) -> None:
        answer = self._call("PUT", self._url(request.remote_id), position_body(request, self))
        if answer.status_code not in (200, 201):
            raise IntermediaryRefused(
                f"the intermediary refused the position ({answer.status_code}): {_fault(answer)}"
            )
        notice = _json(answer).get("numeroAvviso")
        if notice != request.notice_number:
            raise IntermediaryRefused(
                f"the intermediary answered notice number {notice!r}, not {request.notice_number}"
            )

    def cancel_position(self, remote_id: str, reason: str) -> None:
        body = {"stato": "ANNULLATA", "descrizioneStato": reason[:140]}
        answer = self._call("PATCH", self._url(remote_id), body)
        if answer.status_code in (200, 204, 404):  # 404: never opened there, nothing to cancel
            return
        state = self.read_position(remote_id)
        if state is not None and state.state == "cancelled":
            return
        if state is not None and state.state == "paid":
            raise PositionAlreadyPaid(f"the position {remote_id} is paid at the intermediary")
        raise IntermediaryRefused(
            f"the intermediary refused the cancellation ({answer.status_code}): {_fault(answer)}"
        )

    def read_position(self, remote_id: str) -> RemoteState | None:
        answer = self._call("GET", self._url(remote_id))
        if answer.status_code == 404:
            return RemoteState("unknown")
        if answer.status_code != 200:
            raise IntermediaryRefused(f"reading the position answered {answer.status_code}")
        data = _json(answer)
        state = REMOTE_STATES.get(str(data.get("stato")), "unknown")
        receipts = []
        for attempt in data.get("rpp") or ():
            rt = attempt.get("rt") if isinstance(attempt, dict) else None
            if isinstance(rt, dict) and _paid(rt):
                try:
                    receipts.append(receipt_from_rt(rt, RECONCILIATION, self.zone))
                except InvalidValue as exc:
                    raise IntermediaryRefused(
                        f"a receipt of {remote_id} is unreadable: {exc}"
                    ) from exc
        return RemoteState(state, tuple(receipts))

    def checkout_url(self, notice_number: str, creditor: str) -> str | None:
        return self.checkout_template.format(notice_number=notice_number, creditor=creditor)


def position_body(request: PositionRequest, provider: GovPayProvider) -> dict[str, Any]:
    """The `pendenzaPut` body: the fee as one entry, each digital stamp duty as its own."""
    entries: list[dict[str, Any]] = []
    if request.fee_cents:
        entries.append(
            {
                "idVocePendenza": f"{request.remote_id}-T"[:35],
                "importo": euros(request.fee_cents),
                "descrizione": request.reason[:140],
                "codEntrata": provider.fee_entry,
            }
        )
    for index, (amount, digest) in enumerate(
        zip(request.stamp_duty_cents, request.stamp_hashes, strict=True), start=1
    ):
        entries.append(
            {
                "idVocePendenza": f"{request.remote_id}-B{index}"[:35],
                "importo": euros(amount),
                "descrizione": "Imposta di bollo",
                "tipoBollo": STAMP_KIND,
                "hashDocumento": digest,
                "provinciaResidenza": request.stamp_province,
            }
        )
    return {
        "idDominio": request.creditor_fiscal_code,
        "causale": request.reason[:140],
        "soggettoPagatore": {
            "tipo": request.payer_kind,
            "identificativo": request.payer_tax_code,
            "anagrafica": request.payer_name[:70] or request.payer_tax_code,
        },
        "importo": euros(request.amount_cents),
        "numeroAvviso": request.notice_number,
        "dataValidita": request.expires_on.isoformat(),
        "dataScadenza": request.expires_on.isoformat(),
        "tassonomiaAvviso": TAXONOMY,
        "voci": entries,
    }


def receipt_from_notification(body: Mapping[str, Any], iuv: str, zone: ZoneInfo) -> Receipt:
    """The receipt in the intermediary's notification (`notifica`), for the IUV of its path."""
    rt = body.get("rt")
    if not isinstance(rt, dict):
        raise InvalidValue("'rt' must be the receipt, an object")
    if not _paid(rt):
        raise InvalidValue("the receipt does not report a payment (codiceEsitoPagamento is not 0)")
    receipt = receipt_from_rt(rt, NOTIFICATION, zone)
    if receipt.iuv != iuv:
        raise InvalidValue("the receipt's IUV is not the one of the address")
    return receipt


def receipt_from_rt(rt: Mapping[str, Any], channel: str, zone: ZoneInfo) -> Receipt:
    """A pagoPA receipt (`rt`) as a Receipt; a field missing or malformed is named."""
    receipt_id = rt.get("identificativoMessaggioRicevuta")
    if not isinstance(receipt_id, str) or not 1 <= len(receipt_id.strip()) <= MAX_RECEIPT_ID:
        raise InvalidValue(
            f"'identificativoMessaggioRicevuta' must be text of 1 to {MAX_RECEIPT_ID} characters"
        )
    payment = rt.get("datiPagamento")
    if not isinstance(payment, dict):
        raise InvalidValue("'datiPagamento' must be an object")
    iuv = payment.get("identificativoUnivocoVersamento")
    if not isinstance(iuv, str) or not 1 <= len(iuv) <= 35:
        raise InvalidValue("'identificativoUnivocoVersamento' must be the notice's IUV")
    amount = cents(payment.get("importoTotalePagato"), "importoTotalePagato")
    payer = rt.get("soggettoPagatore")
    identifier = payer.get("identificativoUnivocoPagatore") if isinstance(payer, dict) else None
    tax_code = (
        identifier.get("codiceIdentificativoUnivoco") if isinstance(identifier, dict) else None
    )
    if not isinstance(tax_code, str) or not 1 <= len(tax_code.strip()) <= 16:
        raise InvalidValue("'soggettoPagatore.identificativoUnivocoPagatore' must name the payer")
    return Receipt(
        receipt_id=receipt_id.strip(),
        iuv=iuv,
        amount_cents=amount,
        paid_at=_local_instant(rt.get("dataOraMessaggioRicevuta"), zone),
        payer_tax_code=tax_code.strip().upper(),
        channel=channel,
    )


def _paid(rt: Mapping[str, Any]) -> bool:
    payment = rt.get("datiPagamento")
    return isinstance(payment, dict) and str(payment.get("codiceEsitoPagamento")) == PAID_OUTCOME


def _local_instant(value: Any, zone: ZoneInfo) -> dt.datetime:
    """pagoPA's receipt time: ISO, in Italian time when it carries no offset (its convention)."""
    if not isinstance(value, str):
        raise InvalidValue("'dataOraMessaggioRicevuta' must be a date and time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue("'dataOraMessaggioRicevuta' must be an ISO date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(dt.UTC)


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError as exc:
        raise IntermediaryRefused(f"the intermediary's answer is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise IntermediaryRefused("the intermediary's answer is not a JSON object")
    return data


def _fault(answer: requests.Response) -> str:
    """The intermediary's faultBean in a line, for the accounting office's log."""
    try:
        data = answer.json()
    except ValueError:
        return answer.text[:200]
    if isinstance(data, dict):
        parts = [str(data.get(k)) for k in ("codice", "descrizione", "dettaglio") if data.get(k)]
        return " - ".join(parts)[:300]
    return str(data)[:200]
