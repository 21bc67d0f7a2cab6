"""The app's client of the pagoPA intermediary (ztl.payments.govpay), against the contract.

Each operation of the client runs against the test intermediary, with a recorder on the client's
HTTP session that checks every request and answer against the contract
(tests/payment_intermediary/api_pendenze.json): the happy path, and what the client makes of an
outage, wrong credentials, a refused body and a position paid before it could be cancelled.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.conftest import (
    PAGOPA_A2A,
    PAGOPA_CREDITOR,
    PAGOPA_PASSWORD,
    PAGOPA_SEGREGATION,
    PAGOPA_USER,
)
from tests.payment_intermediary.contract import ContractRecorder
from tests.payment_intermediary.server import Intermediary
from ztl.payments.govpay import GovPayProvider, euros, receipt_from_rt
from ztl.payments.notice_numbers import new_iuv, notice_number
from ztl.payments.providers import (
    IntermediaryRefused,
    IntermediaryUnavailable,
    PositionAlreadyPaid,
    PositionRequest,
)
from ztl.payments.receipts import RECONCILIATION
from ztl.values import InvalidValue

CREDITOR, SEGREGATION = PAGOPA_CREDITOR, PAGOPA_SEGREGATION
USER, PASSWORD = PAGOPA_USER, PAGOPA_PASSWORD
ROME = ZoneInfo("Europe/Rome")


def _client(
    intermediary: Intermediary, recorder: ContractRecorder, password: str = PASSWORD
) -> GovPayProvider:
    session = requests.Session()
    recorder.attach(session, intermediary.base_url)
    return GovPayProvider(
        intermediary.base_url,
        USER,
        password,
        PAGOPA_A2A,
        "ZTL",
        intermediary.checkout_url_template,
        ROME,
        timeout=5,
        session=session,
    )


def _request(stamps: bool = True) -> PositionRequest:
    iuv = new_iuv(SEGREGATION)
    return PositionRequest(
        remote_id="ZTL-" + iuv,
        iuv=iuv,
        notice_number=notice_number(iuv),
        creditor_fiscal_code=CREDITOR,
        payer_kind="F",
        payer_tax_code="RSSMRA80A01G702Q",
        payer_name="Mario Rossi",
        reason="Permesso ZTL 1 Residenti, domanda del 06/12/2026",
        fee_cents=1500,
        stamp_duty_cents=(1600, 1600) if stamps else (),
        stamp_hashes=("A" * 43 + "=", "B" * 43 + "=") if stamps else (),
        stamp_province="PO",
        amount_cents=4700 if stamps else 1500,
        expires_on=dt.date(2027, 1, 5),
    )


def test_open_read_and_cancel_follow_the_contract(payment_intermediary: Intermediary) -> None:
    intermediary, recorder = payment_intermediary, ContractRecorder()
    client = _client(intermediary, recorder)
    request = _request()
    client.open_position(request)
    client.open_position(request)  # a retry: the same position, answered 200
    assert client.read_position(request.remote_id).state == "open"  # type: ignore[union-attr]
    client.cancel_position(request.remote_id, "domanda ritirata")
    client.cancel_position(request.remote_id, "domanda ritirata")  # already cancelled: done
    assert client.read_position(request.remote_id).state == "cancelled"  # type: ignore[union-attr]
    assert client.read_position("ZTL-UNKNOWN").state == "unknown"  # type: ignore[union-attr]
    recorder.assert_clean()
    assert [name for name, _status in recorder.exchanges] == [
        "createPosition",
        "createPosition",
        "readPosition",
        "cancelPosition",
        "cancelPosition",
        "readPosition",
        "readPosition",
    ]
    assert [status for _name, status in recorder.exchanges][:2] == [201, 200]


def test_a_paid_position_is_read_with_its_receipt_and_cannot_be_cancelled(
    payment_intermediary: Intermediary,
) -> None:
    intermediary, recorder = payment_intermediary, ContractRecorder()
    client = _client(intermediary, recorder)
    request = _request(stamps=False)
    client.open_position(request)
    intermediary.pay(request.notice_number, notify=False)
    state = client.read_position(request.remote_id)
    assert state is not None and state.state == "paid"
    (receipt,) = state.receipts
    assert receipt.iuv == request.iuv and receipt.amount_cents == 1500
    assert receipt.payer_tax_code == "RSSMRA80A01G702Q" and receipt.channel == RECONCILIATION
    assert receipt.paid_at.tzinfo is not None
    with pytest.raises(PositionAlreadyPaid):
        client.cancel_position(request.remote_id, "domanda respinta")
    recorder.assert_clean()


def test_an_outage_is_unavailable_and_wrong_credentials_are_refused(
    payment_intermediary: Intermediary,
) -> None:
    intermediary, recorder = payment_intermediary, ContractRecorder()
    request = _request()
    intermediary.fail_next(1)
    with pytest.raises(IntermediaryUnavailable, match="503"):
        _client(intermediary, recorder).open_position(request)
    with pytest.raises(IntermediaryRefused, match="credentials"):
        _client(intermediary, recorder, password="wrong").open_position(request)
    assert request.remote_id not in intermediary.positions
    recorder.assert_clean()


def test_a_notice_number_the_intermediary_refuses_is_not_retried(
    payment_intermediary: Intermediary,
) -> None:
    intermediary, recorder = payment_intermediary, ContractRecorder()
    request = _request()
    broken = PositionRequest(
        **{**request.__dict__, "notice_number": request.notice_number[:-2] + "00"}
    )
    with pytest.raises(IntermediaryRefused, match="400"):
        _client(intermediary, recorder).open_position(broken)
    recorder.assert_clean()


def test_nothing_answers_is_unavailable() -> None:
    client = GovPayProvider(
        "http://127.0.0.1:9/pendenze-api", USER, PASSWORD, "ZTL", "ZTL", "x{notice_number}", ROME, 1
    )
    with pytest.raises(IntermediaryUnavailable, match="did not answer"):
        client.open_position(_request())


@pytest.mark.parametrize(
    ("cents", "json_number"), [(1, 0.01), (1500, 15.0), (4700, 47.0), (123_456, 1234.56)]
)
def test_amounts_cross_the_wire_exactly(cents: int, json_number: float) -> None:
    assert euros(cents) == json_number


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"identificativoMessaggioRicevuta": ""}, "identificativoMessaggioRicevuta"),
        ({"dataOraMessaggioRicevuta": "ieri"}, "dataOraMessaggioRicevuta"),
        ({"importoTotalePagato": 12.345}, "at most 2 decimals"),
        ({"importoTotalePagato": -1}, "positive"),
        ({"importoTotalePagato": "1e400"}, "more than any fee"),
        ({"importoTotalePagato": "0.001e-400"}, "at most 2 decimals"),
        ({"importoTotalePagato": "NaN"}, "positive"),
        ({"importoTotalePagato": True}, "amount in euros"),
        ({"soggettoPagatore": {}}, "soggettoPagatore"),
    ],
)
def test_a_malformed_receipt_is_refused_in_words(change: dict[str, object], message: str) -> None:
    rt: dict[str, object] = {
        "identificativoMessaggioRicevuta": "RT-1",
        "dataOraMessaggioRicevuta": "2026-12-06T10:15:00",
        "soggettoPagatore": {
            "identificativoUnivocoPagatore": {
                "tipoIdentificativoUnivoco": "F",
                "codiceIdentificativoUnivoco": "RSSMRA80A01G702Q",
            }
        },
        "datiPagamento": {
            "codiceEsitoPagamento": "0",
            "importoTotalePagato": 47.0,
            "identificativoUnivocoVersamento": new_iuv(SEGREGATION),
        },
    }
    if "importoTotalePagato" in change:
        rt["datiPagamento"] = {**rt["datiPagamento"], **change}  # type: ignore[dict-item]
    else:
        rt.update(change)
    with pytest.raises(InvalidValue, match=message):
        receipt_from_rt(rt, RECONCILIATION, ROME)


def test_a_receipt_time_without_offset_is_italian_time_winter_and_summer() -> None:
    def paid_at(local: str) -> dt.datetime:
        rt = {
            "identificativoMessaggioRicevuta": "RT-1",
            "dataOraMessaggioRicevuta": local,
            "soggettoPagatore": {
                "identificativoUnivocoPagatore": {"codiceIdentificativoUnivoco": "X"}
            },
            "datiPagamento": {
                "importoTotalePagato": 10,
                "identificativoUnivocoVersamento": "IUV",
            },
        }
        return receipt_from_rt(rt, RECONCILIATION, ROME).paid_at

    assert paid_at("2026-12-06T10:00:00") == dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
    assert paid_at("2026-07-06T10:00:00") == dt.datetime(2026, 7, 6, 8, 0, tzinfo=dt.UTC)
    assert paid_at("2026-07-06T10:00:00+00:00") == dt.datetime(2026, 7, 6, 10, 0, tzinfo=dt.UTC)
