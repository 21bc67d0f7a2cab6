"""A pagoPA intermediary for the tests: GovPay's API Pendenze v1 (our subset) on loopback.

Why a server and not a mock of the app's client: the app must be tested over HTTP as it will run,
with Basic authentication, real status codes, retries after an outage and a notification that
arrives on another thread while the app may itself be calling the intermediary. This one keeps
everything in memory, answers from a daemon thread, and holds both sides to the contract
(contract.py): a request the contract refuses gets GovPay's 400 faultBean, and an answer of its own
that would break the contract is recorded and raised when `run_intermediary` ends, so a mistake
here cannot make an app test pass.

It also plays the parts of pagoPA the tests need: the debtor paying on a checkout page ("Paga
online"), a payment made elsewhere (`pay`), the notification to the app (`deliver`), an outage
(`fail_next`) and a notice that expired (`expire`).
"""

from __future__ import annotations

import functools
import hmac
import html
import itertools
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.payment_intermediary.contract import (
    ContractError,
    UnknownOperation,
    cents,
    qr_text,
    validate_notification,
    validate_request,
    validate_response,
)

API_PATH = "/govpay/backend/api/pendenze/rs/v1"
ROME = ZoneInfo("Europe/Rome")
GLN = "8050000000001"  # a made-up Global Location Number for the barcode
NOTICE_STATES = {
    "NON_ESEGUITA": "Non pagato",
    "ESEGUITA": "Pagato",
    "SCADUTA": "Scaduto",
    "ANNULLATA": "Annullato",
}


class Refused(Exception):
    """An answer other than success, with GovPay's faultBean (or no body)."""

    def __init__(
        self, status: int, categoria: str = "", codice: str = "", descrizione: str = ""
    ) -> None:
        super().__init__(f"{status} {categoria} {codice}: {descrizione}")
        self.status = status
        self.fault: dict[str, str] | None = (
            {"categoria": categoria, "codice": codice, "descrizione": descrizione}
            if categoria
            else None
        )


@dataclass
class Position:
    """A debt position as the intermediary holds it."""

    id_a2a: str
    id_pendenza: str
    body: dict[str, Any]
    state: str = "NON_ESEGUITA"
    receipts: list[dict[str, Any]] = field(default_factory=list)
    puts: int = 1
    notifications: list[dict[str, Any]] = field(default_factory=list)
    state_reason: str | None = None

    @property
    def notice_number(self) -> str:
        return str(self.body["numeroAvviso"])

    @property
    def amount_cents(self) -> int:
        return cents(self.body["importo"], "position")


def euros(amount_cents: int) -> float:
    """Cents as the JSON number GovPay writes (1250 -> 12.5): exact to the cent once printed."""
    return amount_cents / 100


def italian_euros(amount_cents: int) -> str:
    return f"€ {amount_cents // 100},{amount_cents % 100:02d}"


class Intermediary:
    """The running intermediary: its addresses, its state, and the test's levers on it."""

    def __init__(
        self,
        *,
        creditor: str,
        segregation_code: str,
        user: str,
        password: str,
        notify_base: str | None,
        notify_user: str,
        notify_password: str,
        id_a2a: str | None,
    ) -> None:
        if len(segregation_code) != 2 or not segregation_code.isdigit():
            raise ValueError("the segregation code is two digits")
        self.creditor = creditor
        self.segregation_code = segregation_code
        self.user = user
        self.password = password
        self.notify_base = notify_base
        self.notify_user = notify_user
        self.notify_password = notify_password
        self.id_a2a = id_a2a
        self.base_url = ""
        self.checkout_url_template = ""
        self.positions: dict[str, Position] = {}
        self.deliveries: list[tuple[str, int]] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._failures: list[int] = []
        self._receipt_numbers = itertools.count(1)
        self._routes = Map(
            [
                Rule(f"{API_PATH}/<path:rest>", endpoint="api"),
                Rule("/checkout", endpoint="checkout", methods=["GET", "POST"]),
            ]
        )

    # ---- the test's levers ----------------------------------------------------------------

    def fail_next(self, n: int, status: int = 503) -> None:
        """The next n API calls answer `status` with a faultBean INTERNO: an outage."""
        if not 500 <= status <= 599:
            raise ValueError("an outage answers a 5xx status")
        with self._lock:
            self._failures.extend([status] * n)

    def expire(self, notice_number: str) -> None:
        """The notice's due date passed: the position can no longer be paid."""
        with self._lock:
            self._by_notice(notice_number).state = "SCADUTA"

    def pay(
        self,
        notice_number: str,
        *,
        amount_cents: int | None = None,
        payer: str | None = None,
        notify: bool = True,
        receipt_id: str | None = None,
    ) -> dict[str, Any]:
        """Somebody paid the notice (at a bank, an ATM, an app): a receipt and a notification.

        Any position can be paid here, in any state, with another amount or by another payer:
        that is how the tests reach the receipts the app must cope with (a double payment, a
        payment racing a cancellation, a wrong amount). The checkout page refuses what pagoPA
        would refuse. The notification goes out after the lock is released, since the app may
        call the intermediary back while it handles it; with no notify_base yet, none is sent
        (`deliver` can send it later). An amount other than the position's is booked as one
        transfer against the first line. Returns the notification's body.
        """
        with self._lock:
            position = self._by_notice(notice_number)
            notification = self._record_payment(position, amount_cents, payer, receipt_id)
        if notify and self.notify_base is not None:
            self._send(notification)
        return notification

    def deliver(self, notice_number: str, index: int = -1) -> int:
        """Sends a receipt's notification again (a retry); returns the app's status (0: no answer)."""
        with self._lock:
            notification = self._by_notice(notice_number).notifications[index]
        return self._send(notification)

    # ---- payments -------------------------------------------------------------------------

    def _by_notice(self, notice_number: str) -> Position:
        for position in self.positions.values():
            if position.notice_number == notice_number:
                return position
        raise KeyError(f"no position with notice number {notice_number}")

    def _record_payment(
        self,
        position: Position,
        amount_cents: int | None,
        payer: str | None,
        receipt_id: str | None,
    ) -> dict[str, Any]:
        """The receipt and the notification of one payment; the caller holds the lock."""
        body = position.body
        iuv = position.notice_number[1:]
        now = datetime.now(ROME)
        today = now.date().isoformat()
        number = next(self._receipt_numbers)
        paid = position.amount_cents if amount_cents is None else amount_cents
        debtor = body["soggettoPagatore"]
        payer_id = debtor["identificativo"] if payer is None else payer
        lines: list[dict[str, Any]] = body["voci"]
        if paid == position.amount_cents:
            parts = [
                (index, line, cents(line["importo"], "voce")) for index, line in enumerate(lines)
            ]
        else:  # a wrong amount: one transfer, booked against the first line
            parts = [(0, lines[0], paid)]
        receipt: dict[str, Any] = {
            "identificativoMessaggioRicevuta": receipt_id
            or f"RT{number:06d}{uuid.uuid4().hex[:20]}",
            "dataOraMessaggioRicevuta": now.strftime("%Y-%m-%dT%H:%M:%S"),
            "soggettoPagatore": {
                "identificativoUnivocoPagatore": {
                    "tipoIdentificativoUnivoco": "G" if payer_id.isdigit() else "F",
                    "codiceIdentificativoUnivoco": payer_id,
                },
                "anagraficaPagatore": debtor["anagrafica"] if payer is None else "Altro pagatore",
            },
            "datiPagamento": {
                "codiceEsitoPagamento": "0",
                "importoTotalePagato": euros(paid),
                "identificativoUnivocoVersamento": iuv,
                "CodiceContestoPagamento": f"CCP{number:06d}",
                "datiSingoloPagamento": [
                    {
                        "singoloImportoPagato": euros(amount),
                        "esitoSingoloPagamento": "ESEGUITO",
                        "dataEsitoSingoloPagamento": today,
                        "identificativoUnivocoRiscossione": f"IUR{number:06d}{index + 1}",
                    }
                    for index, _line, amount in parts
                ],
            },
        }
        notification: dict[str, Any] = {
            "idA2A": position.id_a2a,
            "idPendenza": position.id_pendenza,
            "rpt": self._rpt(position, number, now),
            "rt": receipt,
            "riscossioni": [
                {
                    "idDominio": body["idDominio"],
                    "iuv": iuv,
                    "iur": f"IUR{number:06d}{index + 1}",
                    "indice": index + 1,
                    "idVocePendenza": line["idVocePendenza"],
                    "stato": "RISCOSSA",
                    "tipo": "MBT" if "tipoBollo" in line else "ENTRATA",
                    "importo": euros(amount),
                    "data": today,
                }
                for index, line, amount in parts
            ],
        }
        validate_notification(self._notification_path(position), notification)
        position.receipts.append(receipt)
        position.notifications.append(notification)
        position.state = "ESEGUITA"
        return notification

    def _rpt(self, position: Position, number: int, now: datetime) -> dict[str, Any]:
        """The payment request pagoPA started from: only what a reader of the receipt may want."""
        return {
            "versioneOggetto": "6.2",
            "identificativoMessaggioRichiesta": f"RPT{number:06d}",
            "dataOraMessaggioRichiesta": now.strftime("%Y-%m-%dT%H:%M:%S"),
            "datiVersamento": {
                "importoTotaleDaVersare": position.body["importo"],
                "identificativoUnivocoVersamento": position.notice_number[1:],
            },
        }

    def _notification_path(self, position: Position) -> str:
        return f"/pagamenti/{position.body['idDominio']}/{position.notice_number[1:]}"

    def _send(self, notification: dict[str, Any]) -> int:
        """POSTs a notification to the app and records how it answered (0: it did not)."""
        if self.notify_base is None:
            raise RuntimeError("no notify_base: where should the notification go?")
        rt = notification["rt"]["datiPagamento"]
        path = f"/pagamenti/{notification['riscossioni'][0]['idDominio']}/{rt['identificativoUnivocoVersamento']}"
        try:
            answer = requests.post(
                self.notify_base.rstrip("/") + path,
                json=notification,
                auth=(self.notify_user, self.notify_password),
                timeout=10,
            )
        except requests.RequestException:
            status = 0
        else:
            status = answer.status_code
            try:
                validate_response("POST", path, notification, status, None)
            except ContractError as error:
                self._off_contract(f"the app answered a notification: {error}")
        with self._lock:
            self.deliveries.append((path, status))
        return status

    def _off_contract(self, problem: str) -> None:
        with self._lock:
            self.errors.append(problem)

    # ---- the API --------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, values = self._routes.bind_to_environ(environ).match()
        except HTTPException as error:
            return error(environ, start_response)
        if endpoint == "api":
            response = self._api(request, "/" + values["rest"])
        else:
            try:
                response = self._checkout(request)
            except ContractError as error:  # the notification of a payment it was about to send
                self._off_contract(f"checkout: {error}")
                response = self._page("Errore", "<p>Errore interno.</p>", 500)
        return response(environ, start_response)

    def _api(self, request: Request, path: str) -> Response:
        if path.startswith("/pagamenti/"):  # the app's side of the contract, not served here
            return Response(status=404)
        status, body = self._answer(request, path)
        payload = None if body is None else json.dumps(body)
        try:
            request_body = json.loads(request.get_data()) if request.get_data() else None
        except ValueError:
            request_body = None
        try:
            validate_response(request.method, path, request_body, status, body)
        except ContractError as error:
            self._off_contract(f"{request.method} {path} -> {status}: {error}")
        response = Response(payload, status=status, mimetype="application/json")
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Basic realm="GovPay"'
        return response

    def _answer(self, request: Request, path: str) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            fault = {
                "categoria": "INTERNO",
                "codice": "INTERNO",
                "descrizione": "Servizio non disponibile",
            }
            return failure, fault
        auth = request.authorization
        if (
            auth is None
            or auth.type != "basic"
            or not hmac.compare_digest((auth.username or "").encode(), self.user.encode())
            or not hmac.compare_digest((auth.password or "").encode(), self.password.encode())
        ):
            return 401, None
        try:
            return self._operate(request, path)
        except Refused as refusal:
            return refusal.status, refusal.fault

    def _operate(self, request: Request, path: str) -> tuple[int, dict[str, Any] | None]:
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except ValueError as error:
            raise Refused(400, "RICHIESTA", "SINTASSI", f"the body is not JSON: {error}") from error
        try:
            operation = validate_request(request.method, path, body)
        except UnknownOperation as error:
            raise Refused(404) from error
        except ContractError as error:
            raise Refused(400, "RICHIESTA", "SINTASSI", str(error)) from error
        _, id_a2a, id_pendenza = path.strip("/").split("/")
        if self.id_a2a is not None and id_a2a != self.id_a2a:
            raise Refused(403)
        with self._lock:
            if operation == "createPosition":
                assert isinstance(body, dict)
                return self._put(id_a2a, id_pendenza, body)
            if operation == "cancelPosition":
                assert isinstance(body, dict)
                return self._cancel(id_pendenza, body)
            return 200, self._read(id_pendenza)

    def _put(
        self, id_a2a: str, id_pendenza: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        """Create or update; the caller holds the lock."""
        if body["idDominio"] != self.creditor:
            raise Refused(
                400,
                "RICHIESTA",
                "DOMINIO_SCONOSCIUTO",
                f"creditor {body['idDominio']} is not served here",
            )
        iuv = body["numeroAvviso"][1:]
        if iuv[:2] != self.segregation_code:
            raise Refused(
                400,
                "RICHIESTA",
                "IUV_NON_VALIDO",
                f"the IUV {iuv} does not start with the segregation code {self.segregation_code}",
            )
        for other in self.positions.values():
            if other.notice_number == body["numeroAvviso"] and other.id_pendenza != id_pendenza:
                raise Refused(
                    400, "OPERAZIONE", "AVVISO_DUPLICATO", f"notice {body['numeroAvviso']} is taken"
                )
        position = self.positions.get(id_pendenza)
        if position is None:
            self.positions[id_pendenza] = position = Position(id_a2a, id_pendenza, body)
            return 201, self._notice(position)
        changed = body != position.body
        same_debt = (
            body["numeroAvviso"] == position.notice_number
            and cents(body["importo"], "importo") == position.amount_cents
        )
        if position.state in ("ESEGUITA", "ANNULLATA") and not same_debt:
            code = "PENDENZA_PAGATA" if position.state == "ESEGUITA" else "PENDENZA_ANNULLATA"
            raise Refused(400, "OPERAZIONE", code, f"the position is {position.state}")
        position.puts += 1
        if position.state in ("NON_ESEGUITA", "SCADUTA") and changed:
            position.body = body
            position.state = "NON_ESEGUITA"
        return 200, self._notice(position)

    def _cancel(self, id_pendenza: str, body: dict[str, Any]) -> tuple[int, None]:
        position = self.positions.get(id_pendenza)
        if position is None:
            raise Refused(404)
        if position.state == "ESEGUITA":
            raise Refused(
                400, "OPERAZIONE", "PENDENZA_PAGATA", "a paid position cannot be cancelled"
            )
        if position.state != "ANNULLATA":
            position.state = "ANNULLATA"
            position.state_reason = body.get("descrizioneStato")
        return 200, None

    def _read(self, id_pendenza: str) -> dict[str, Any]:
        position = self.positions.get(id_pendenza)
        if position is None:
            raise Refused(404)
        body = position.body
        paid = position.state == "ESEGUITA"
        answer: dict[str, Any] = {
            "idA2A": position.id_a2a,
            "idPendenza": position.id_pendenza,
            "dominio": {
                "idDominio": body["idDominio"],
                "ragioneSociale": "Comune di prova",
                "stazione": f"{body['idDominio']}_01",
            },
            "stato": position.state,
            "soggettoPagatore": body["soggettoPagatore"],
            "importo": body["importo"],
            "causale": body["causale"],
            "numeroAvviso": body["numeroAvviso"],
            "dataValidita": body["dataValidita"],
            "dataScadenza": body["dataScadenza"],
            "tassonomiaAvviso": body["tassonomiaAvviso"],
            "voci": [
                {**line, "stato": "Eseguito" if paid else "Non eseguito"} for line in body["voci"]
            ],
            "rpp": [
                {"stato": "RT_ACCETTATA_PA", "rpt": notification["rpt"], "rt": notification["rt"]}
                for notification in position.notifications
            ],
        }
        if position.state_reason is not None:
            answer["descrizioneStato"] = position.state_reason
        return answer

    def _notice(self, position: Position) -> dict[str, Any]:
        body = position.body
        amount = position.amount_cents
        return {
            "stato": NOTICE_STATES[position.state],
            "importo": body["importo"],
            "idDominio": body["idDominio"],
            "numeroAvviso": body["numeroAvviso"],
            "dataValidita": body["dataValidita"],
            "dataScadenza": body["dataScadenza"],
            "descrizione": body["causale"],
            "tassonomiaAvviso": body["tassonomiaAvviso"],
            "qrcode": qr_text(body["numeroAvviso"], body["idDominio"], amount),
            # GS1-128 as printed under the notice: a GLN, the notice number and the amount
            "barcode": f"415{GLN}8020{body['numeroAvviso']}3902{amount:010d}",
        }

    # ---- the checkout page ----------------------------------------------------------------

    def _checkout(self, request: Request) -> Response:
        """pagoPA's checkout, reduced to one page and one button: the debtor pays the notice."""
        source = request.form if request.method == "POST" else request.args
        notice = source.get("notice", "")
        creditor = source.get("creditor", "")
        with self._lock:
            try:
                if creditor != self.creditor:
                    raise KeyError(creditor)
                position = self._by_notice(notice)
            except KeyError:
                return self._page(
                    "Avviso non trovato", "<p>Nessun avviso con questo numero.</p>", 404
                )
            if position.state != "NON_ESEGUITA":
                state = NOTICE_STATES[position.state].lower()
                return self._page("Avviso non pagabile", f"<p>L'avviso risulta {state}.</p>", 409)
            if request.method == "GET":
                return self._page(
                    "Paga l'avviso",
                    f"<p>{html.escape(position.body['causale'])}</p>"
                    f"<p>Importo: {italian_euros(position.amount_cents)}</p>"
                    '<form method="post" action="/checkout">'
                    f'<input type="hidden" name="notice" value="{html.escape(notice)}">'
                    f'<input type="hidden" name="creditor" value="{html.escape(creditor)}">'
                    '<button type="submit">Paga</button></form>',
                    200,
                )
            notification = self._record_payment(position, None, None, None)
        if self.notify_base is not None:
            self._send(notification)
        return self._page("Pagamento eseguito", "<p>Pagamento eseguito.</p>", 200)

    def _page(self, title: str, content: str, status: int) -> Response:
        page = (
            '<!doctype html><html lang="it"><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body><h1>{title}</h1>{content}</body></html>"
        )
        return Response(page, status=status, mimetype="text/html")


@contextmanager
def run_intermediary(
    *,
    creditor: str,
    segregation_code: str,
    user: str,
    password: str,
    notify_base: str | None = None,
    notify_user: str = "",
    notify_password: str = "",
    id_a2a: str | None = None,
) -> Iterator[Intermediary]:
    """The intermediary on a free loopback port for the block's duration.

    On leaving, raises ContractError if the intermediary itself answered off-contract (or saw the
    app answer a notification off-contract): its answers are the app's test data, so they must be
    right, and an exception in the server thread would not reach the test otherwise.
    """
    intermediary = Intermediary(
        creditor=creditor,
        segregation_code=segregation_code,
        user=user,
        password=password,
        notify_base=notify_base,
        notify_user=notify_user,
        notify_password=notify_password,
        id_a2a=id_a2a,
    )
    server = make_server("127.0.0.1", 0, intermediary, threaded=True)
    origin = f"http://127.0.0.1:{server.server_port}"
    intermediary.base_url = origin + API_PATH
    intermediary.checkout_url_template = (
        origin + "/checkout?notice={notice_number}&creditor={creditor}"
    )
    # a short poll so that shutting down, once per test, takes milliseconds rather than half a second
    thread = threading.Thread(
        target=functools.partial(server.serve_forever, poll_interval=0.02),
        name="test-intermediary",
        daemon=True,
    )
    thread.start()
    try:
        yield intermediary
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    if intermediary.errors:
        raise ContractError(
            "the test intermediary went off-contract:\n" + "\n".join(intermediary.errors)
        )
