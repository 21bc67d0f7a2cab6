"""The test pagoPA intermediary and its contract, on their own (no app).

Why test a test tool: the app's payment tests trust this server to behave like GovPay and the
contract to refuse what GovPay would refuse. If either were wrong, the app's tests would pass
against the wrong thing. These tests drive both over HTTP with `requests`, as the app will.
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.payment_intermediary.contract import (
    ContractError,
    ContractRecorder,
    check_digits,
    validate_exchange,
    validate_notification,
)
from tests.payment_intermediary.server import Intermediary, run_intermediary

CREDITOR = "00514490010"
SEGREGATION = "07"
USER = "ztl-app"
PASSWORD = "s3cret-pendenze"
NOTIFY_USER = "govpay"
NOTIFY_PASSWORD = "s3cret-notifiche"
A2A = "ZTL"


def notice_number(base: str = "0000000000042") -> str:
    """A well-formed notice number under the test segregation code."""
    body = SEGREGATION + base
    return "3" + body + check_digits("3" + body)


def position_body(number: str | None = None, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idDominio": CREDITOR,
        "causale": "Permesso ZTL residenti 2027, targa AB123CD",
        "soggettoPagatore": {
            "tipo": "F",
            "identificativo": "RSSMRA80A01H501U",
            "anagrafica": "Mario Rossi",
            "email": "mario.rossi@example.org",
        },
        "importo": 46.5,
        "numeroAvviso": number or notice_number(),
        "dataValidita": "2027-01-10",
        "dataScadenza": "2027-02-09",
        "tassonomiaAvviso": "Trasporti, mobilità e parcheggi",
        "voci": [
            {
                "idVocePendenza": "P1-DIRITTI",
                "importo": 30.5,
                "descrizione": "Diritti di rilascio del permesso",
                "codEntrata": "ZTL_DIRITTI",
            },
            {
                "idVocePendenza": "P1-BOLLO",
                "importo": 16,
                "descrizione": "Imposta di bollo sul permesso",
                "tipoBollo": "Imposta di bollo",
                "hashDocumento": base64.b64encode(hashlib.sha256(b"permit").digest()).decode(),
                "provinciaResidenza": "FI",
            },
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
def intermediary() -> Iterator[Intermediary]:
    with run_intermediary(
        creditor=CREDITOR, segregation_code=SEGREGATION, user=USER, password=PASSWORD, id_a2a=A2A
    ) as running:
        yield running


@pytest.fixture
def session(intermediary: Intermediary) -> Iterator[requests.Session]:
    """The app's side: Basic credentials, and every exchange checked by the contract."""
    with requests.Session() as client:
        client.auth = (USER, PASSWORD)
        recorder = ContractRecorder()
        recorder.attach(client, intermediary.base_url)
        yield client
        recorder.assert_clean()


def url(intermediary: Intermediary, id_pendenza: str = "P1") -> str:
    return f"{intermediary.base_url}/pendenze/{A2A}/{id_pendenza}"


def test_a_new_position_is_created_and_the_same_put_answers_the_same_notice(
    intermediary: Intermediary,
) -> None:
    with requests.Session() as client:
        client.auth = (USER, PASSWORD)
        recorder = ContractRecorder()
        recorder.attach(client, intermediary.base_url)
        first = client.put(url(intermediary), json=position_body(), timeout=5)
        again = client.put(url(intermediary), json=position_body(), timeout=5)

    assert first.status_code == 201
    assert first.json()["stato"] == "Non pagato"
    assert first.json()["qrcode"] == f"PAGOPA|002|{notice_number()}|{CREDITOR}|4650"
    assert again.status_code == 200
    assert again.json() == first.json()
    assert intermediary.positions["P1"].puts == 2
    assert recorder.exchanges == [("createPosition", 201), ("createPosition", 200)]
    assert recorder.errors == []


def test_a_put_with_another_amount_updates_an_unpaid_position_but_not_a_paid_one(
    intermediary: Intermediary, session: requests.Session
) -> None:
    session.put(url(intermediary), json=position_body(), timeout=5)
    cheaper = position_body(importo=16.0, voci=position_body()["voci"][1:])

    updated = session.put(url(intermediary), json=cheaper, timeout=5)
    intermediary.pay(notice_number(), notify=False)
    refused = session.put(url(intermediary), json=position_body(), timeout=5)

    assert updated.status_code == 200
    assert updated.json()["importo"] == 16.0
    assert refused.status_code == 400
    assert refused.json()["categoria"] == "OPERAZIONE"
    assert intermediary.positions["P1"].body["importo"] == 16.0


def test_a_notice_number_with_wrong_check_digits_is_refused(
    intermediary: Intermediary, session: requests.Session
) -> None:
    good = notice_number()
    bad = good[:-2] + f"{(int(good[-2:]) + 1) % 93:02d}"

    answer = session.put(url(intermediary), json=position_body(bad), timeout=5)

    assert answer.status_code == 400
    assert answer.json()["categoria"] == "RICHIESTA"
    assert "check digits" in answer.json()["descrizione"]
    assert intermediary.positions == {}


def test_another_creditor_is_refused(intermediary: Intermediary, session: requests.Session) -> None:
    answer = session.put(url(intermediary), json=position_body(idDominio="80012345678"), timeout=5)

    assert answer.status_code == 400
    assert answer.json()["codice"] == "DOMINIO_SCONOSCIUTO"


@pytest.mark.parametrize("auth", [None, (USER, "wrong"), ("someone", PASSWORD)])
def test_calls_without_the_right_credentials_get_401_and_no_body(
    intermediary: Intermediary, auth: tuple[str, str] | None
) -> None:
    answer = requests.put(url(intermediary), json=position_body(), auth=auth, timeout=5)

    assert answer.status_code == 401
    assert answer.content == b""
    assert intermediary.positions == {}


def test_cancelling_twice_answers_200_both_times(
    intermediary: Intermediary, session: requests.Session
) -> None:
    session.put(url(intermediary), json=position_body(), timeout=5)
    cancel = {"stato": "ANNULLATA", "descrizioneStato": "Domanda ritirata"}

    first = session.patch(url(intermediary), json=cancel, timeout=5)
    again = session.patch(url(intermediary), json=cancel, timeout=5)
    unknown = session.patch(url(intermediary, "NOPE"), json=cancel, timeout=5)
    read = session.get(url(intermediary), timeout=5)

    assert (first.status_code, first.content) == (200, b"")
    assert (again.status_code, again.content) == (200, b"")
    assert unknown.status_code == 404
    assert read.json()["stato"] == "ANNULLATA"
    assert read.json()["descrizioneStato"] == "Domanda ritirata"


def test_a_paid_position_cannot_be_cancelled(
    intermediary: Intermediary, session: requests.Session
) -> None:
    session.put(url(intermediary), json=position_body(), timeout=5)
    intermediary.pay(notice_number(), notify=False)

    answer = session.patch(url(intermediary), json={"stato": "ANNULLATA"}, timeout=5)

    assert answer.status_code == 400
    assert answer.json()["categoria"] == "OPERAZIONE"
    assert answer.json()["codice"] == "PENDENZA_PAGATA"
    assert intermediary.positions["P1"].state == "ESEGUITA"


def test_a_paid_position_reads_eseguita_with_its_receipt(
    intermediary: Intermediary, session: requests.Session
) -> None:
    session.put(url(intermediary), json=position_body(), timeout=5)
    notification = intermediary.pay(notice_number(), notify=False, receipt_id="RT-0001")

    answer = session.get(url(intermediary), timeout=5)

    assert answer.status_code == 200
    position = answer.json()
    assert position["stato"] == "ESEGUITA"
    assert [line["stato"] for line in position["voci"]] == ["Eseguito", "Eseguito"]
    assert [attempt["rt"] for attempt in position["rpp"]] == [notification["rt"]]
    receipt = position["rpp"][0]["rt"]
    assert receipt["identificativoMessaggioRicevuta"] == "RT-0001"
    assert receipt["datiPagamento"]["importoTotalePagato"] == 46.5
    assert receipt["datiPagamento"]["identificativoUnivocoVersamento"] == notice_number()[1:]
    assert intermediary.positions["P1"].receipts == [receipt]
    assert [(c["tipo"], c["importo"]) for c in notification["riscossioni"]] == [
        ("ENTRATA", 30.5),
        ("MBT", 16.0),
    ]


def test_a_second_payment_of_another_amount_by_another_payer_adds_a_receipt(
    intermediary: Intermediary, session: requests.Session
) -> None:
    session.put(url(intermediary), json=position_body(), timeout=5)
    intermediary.pay(notice_number(), notify=False)

    second = intermediary.pay(notice_number(), amount_cents=4000, payer="01234567890", notify=False)
    answer = session.get(url(intermediary), timeout=5)

    assert len(answer.json()["rpp"]) == 2
    assert second["rt"]["datiPagamento"]["importoTotalePagato"] == 40.0
    assert second["rt"]["soggettoPagatore"]["identificativoUnivocoPagatore"] == {
        "tipoIdentificativoUnivoco": "G",
        "codiceIdentificativoUnivoco": "01234567890",
    }
    assert [(c["idVocePendenza"], c["importo"]) for c in second["riscossioni"]] == [
        ("P1-DIRITTI", 40.0)
    ]
    assert (
        second["rt"]["identificativoMessaggioRicevuta"]
        != (intermediary.positions["P1"].receipts[0]["identificativoMessaggioRicevuta"])
    )


def test_an_outage_answers_a_fault_then_the_service_comes_back(
    intermediary: Intermediary, session: requests.Session
) -> None:
    intermediary.fail_next(2)

    failures = [session.get(url(intermediary), timeout=5) for _ in range(2)]
    created = session.put(url(intermediary), json=position_body(), timeout=5)

    assert [answer.status_code for answer in failures] == [503, 503]
    assert failures[0].json()["categoria"] == "INTERNO"
    assert created.status_code == 201


def test_the_checkout_page_pays_once(intermediary: Intermediary, session: requests.Session) -> None:
    session.put(url(intermediary), json=position_body(), timeout=5)
    page_url = intermediary.checkout_url_template.format(
        notice_number=notice_number(), creditor=CREDITOR
    )
    form = {"notice": notice_number(), "creditor": CREDITOR}
    checkout = page_url.split("?")[0]

    page = requests.get(page_url, timeout=5)
    paid = requests.post(checkout, data=form, timeout=5)
    twice = requests.post(checkout, data=form, timeout=5)
    unknown = requests.get(
        intermediary.checkout_url_template.format(
            notice_number=notice_number("0000000000099"), creditor=CREDITOR
        ),
        timeout=5,
    )

    assert page.status_code == 200
    assert "€ 46,50" in page.text
    assert "Permesso ZTL residenti 2027" in page.text
    assert '<form method="post" action="/checkout">' in page.text
    assert '<button type="submit">Paga</button>' in page.text
    assert (paid.status_code, "Pagamento eseguito" in paid.text) == (200, True)
    assert twice.status_code == 409
    assert unknown.status_code == 404
    assert len(intermediary.positions["P1"].receipts) == 1


def test_an_expired_notice_cannot_be_paid_online(
    intermediary: Intermediary, session: requests.Session
) -> None:
    session.put(url(intermediary), json=position_body(), timeout=5)
    intermediary.expire(notice_number())

    read = session.get(url(intermediary), timeout=5)
    page = requests.get(
        intermediary.checkout_url_template.format(notice_number=notice_number(), creditor=CREDITOR),
        timeout=5,
    )

    assert read.json()["stato"] == "SCADUTA"
    assert page.status_code == 409


def _mutated(change: str) -> dict[str, Any]:
    body = position_body()
    if change == "sum":
        body["importo"] = 46.0
    elif change == "decimals":
        body["importo"] = 46.505
        body["voci"][0]["importo"] = 30.505
    elif change == "date":
        body["dataScadenza"] = "2027-02-30"
    elif change == "both kinds":
        body["voci"][1]["codEntrata"] = "ZTL_BOLLO"
    elif change == "unknown field":
        body["importoTotale"] = 46.5
    elif change == "hash":
        # the digest written in hex instead of base64
        body["voci"][1]["hashDocumento"] = hashlib.sha256(b"permit").hexdigest()
    return body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("sum", "add up"),
        ("decimals", "two decimals"),
        ("date", "dataScadenza"),
        ("both kinds", "voci/1"),
        ("unknown field", "importoTotale"),
        ("hash", "hashDocumento"),
    ],
)
def test_the_contract_refuses_an_off_contract_position(change: str, message: str) -> None:
    path = f"/pendenze/{A2A}/P1"

    with pytest.raises(ContractError, match=message):
        validate_exchange("PUT", path, _mutated(change), 201, None)


def test_the_contract_refuses_a_receipt_time_with_an_offset() -> None:
    path = f"/pendenze/{A2A}/P1"
    position = {
        "idA2A": A2A,
        "idPendenza": "P1",
        "dominio": {"idDominio": CREDITOR, "ragioneSociale": "Comune", "stazione": "S"},
        "stato": "ESEGUITA",
        **{
            key: position_body()[key]
            for key in ("soggettoPagatore", "importo", "causale", "numeroAvviso")
        },
        "dataValidita": "2027-01-10",
        "dataScadenza": "2027-02-09",
        "voci": [{**line, "stato": "Eseguito"} for line in position_body()["voci"]],
        "rpp": [{"stato": "RT_ACCETTATA_PA", "rpt": {}, "rt": _receipt()}],
    }
    validate_exchange("GET", path, None, 200, position)
    position["rpp"][0]["rt"]["dataOraMessaggioRicevuta"] = "2027-01-12T10:00:00+01:00"

    with pytest.raises(ContractError, match="dataOraMessaggioRicevuta"):
        validate_exchange("GET", path, None, 200, position)


def _receipt() -> dict[str, Any]:
    return {
        "identificativoMessaggioRicevuta": "RT-1",
        "dataOraMessaggioRicevuta": "2027-01-12T10:00:00",
        "soggettoPagatore": {
            "identificativoUnivocoPagatore": {
                "tipoIdentificativoUnivoco": "F",
                "codiceIdentificativoUnivoco": "RSSMRA80A01H501U",
            },
            "anagraficaPagatore": "Mario Rossi",
        },
        "datiPagamento": {
            "codiceEsitoPagamento": "0",
            "importoTotalePagato": 46.5,
            "identificativoUnivocoVersamento": notice_number()[1:],
            "CodiceContestoPagamento": "CCP1",
            "datiSingoloPagamento": [
                {
                    "singoloImportoPagato": 46.5,
                    "esitoSingoloPagamento": "ESEGUITO",
                    "dataEsitoSingoloPagamento": "2027-01-12",
                    "identificativoUnivocoRiscossione": "IUR1",
                }
            ],
        },
    }


def test_the_intermediary_raises_when_its_own_answer_is_off_contract(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def wrong_qr(self: Intermediary, position: Any) -> dict[str, Any]:
        notice = original(self, position)
        return {**notice, "qrcode": notice["qrcode"] + "0"}

    original = Intermediary._notice
    monkeypatch.setattr(Intermediary, "_notice", wrong_qr)

    with pytest.raises(ContractError, match="qrcode"):  # noqa: SIM117 - the raise is on leaving
        with run_intermediary(
            creditor=CREDITOR, segregation_code=SEGREGATION, user=USER, password=PASSWORD
        ) as running:
            requests.put(url(running), json=position_body(), auth=(USER, PASSWORD), timeout=5)


@pytest.fixture
def app_inbox() -> Iterator[tuple[str, list[tuple[str, dict[str, str], object]]]]:
    """A tiny stand-in for the app's notification endpoint: records each POST, answers 201."""
    received: list[tuple[str, dict[str, str], object]] = []

    @Request.application
    def inbox(request: Request) -> Response:
        received.append((request.path, dict(request.headers), json.loads(request.get_data())))
        return Response(status=201)

    server = make_server("127.0.0.1", 0, inbox, threaded=True)
    thread = threading.Thread(
        target=functools.partial(server.serve_forever, poll_interval=0.02), daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ztl/pagopa", received
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def test_a_payment_is_notified_to_the_app_with_basic_auth(
    app_inbox: tuple[str, list[tuple[str, dict[str, str], object]]],
) -> None:
    inbox_url, received = app_inbox
    with run_intermediary(
        creditor=CREDITOR,
        segregation_code=SEGREGATION,
        user=USER,
        password=PASSWORD,
        notify_base=inbox_url,
        notify_user=NOTIFY_USER,
        notify_password=NOTIFY_PASSWORD,
    ) as running:
        requests.put(url(running), json=position_body(), auth=(USER, PASSWORD), timeout=5)
        sent = running.pay(notice_number())
        again = running.deliver(notice_number())
        deliveries = list(running.deliveries)

    iuv = notice_number()[1:]
    expected_path = f"/pagamenti/{CREDITOR}/{iuv}"
    credentials = base64.b64encode(f"{NOTIFY_USER}:{NOTIFY_PASSWORD}".encode()).decode()
    assert deliveries == [(expected_path, 201), (expected_path, 201)]
    assert again == 201
    assert len(received) == 2
    path, headers, body = received[0]
    assert path == "/ztl/pagopa" + expected_path
    assert headers["Authorization"] == f"Basic {credentials}"
    assert body == sent
    validate_notification(expected_path, body)
    broken = copy.deepcopy(sent)
    broken["riscossioni"][0]["iuv"] = notice_number("0000000000099")[1:]
    with pytest.raises(ContractError, match="riscossioni/0"):
        validate_notification(expected_path, broken)


def test_a_call_that_is_no_operation_gets_404_and_fails_the_test() -> None:
    """An app calling something outside the contract must not pass quietly on a 404."""
    with pytest.raises(ContractError, match="no operation of the contract"):  # noqa: SIM117
        with run_intermediary(
            creditor=CREDITOR, segregation_code=SEGREGATION, user=USER, password=PASSWORD
        ) as running:
            answer = requests.get(f"{running.base_url}/pendenze", auth=(USER, PASSWORD), timeout=5)
            assert answer.status_code == 404
