"""Two app nodes behind a real nginx, on PostgreSQL and a Redis of their own (issue 20, part 3).

Production runs more than one gunicorn behind a reverse proxy that terminates TLS. What only shows
there: a person's requests land on different nodes (sessions, CSRF tokens, forms in progress and
payments must be in the database, not in a process); the proxy forwards the client's address and
scheme (ZTL_TRUSTED_PROXIES), which production needs for its secure cookies and for the pagoPA
intermediary's notifications (refused over plain HTTP); a node dies with requests in flight and the
proxy must route around it without losing or doubling a write.

The city is set up as docs/runbook.md does, with ZTL_ENV=production from an empty database, no demo:
`ztl db upgrade` with Firenze's rules file, `ztl keys init`, a clerk created from the command line,
the five register imports (generated registers), a gate and a police token, `ztl static build`.
Residents sign in through a real OpenID provider (tests/identity_provider_harness.py), the clerk with
a password and an authenticator code (enrolled at the first sign-in, as production demands), the
fees are collected through the test pagoPA intermediary (tests/payment_intermediary) reached over
HTTPS, and nginx terminates TLS with a test CA's certificate. The pieces are tests/cluster_nodes.py.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pyotp
import pytest
import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from flask import Flask

from tests.cluster_nodes import (
    NGINX_MISSING,
    REDIS_MISSING,
    Certificate,
    Node,
    Proxy,
    RedisServer,
    free_port,
    make_certificate,
    nginx_binary,
    postgres_database,
    redis_binary,
    start_node,
    start_proxy,
    start_redis,
)
from tests.conftest import POSTGRES_SKIP, Inbox, _psycopg_url, postgres_base_url
from tests.identity_provider_harness import Client, IdentityProvider, citizen, new_rsa_key
from tests.identity_provider_harness import sign_in_at_provider as provider_sign_in
from tests.payment_intermediary.server import Intermediary, run_intermediary
from tests.test_second_factor import SECRET_ON_PAGE
from ztl import create_app
from ztl.cluster.queue import job_queue
from ztl.demo.generator import CitySize, car_plate, codice_fiscale, generate
from ztl.rules.loader import DEFAULT_RULES, load_rules

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

BIN = Path(sys.executable).parent
FIRENZE = DEFAULT_RULES.parent / "firenze.toml"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
RESIDENT = codice_fiscale(0)  # a resident of zone A in the generated registers
PLATE = car_plate(5_000_000)  # their own car
CLERK_EMAIL = "ufficio.permessi@comune.example"
CLERK_PASSWORD = secrets.token_urlsafe(16) + "-9"
NOTIFY_USER = "govpay"
NOTIFY_PASSWORD = secrets.token_urlsafe(48)
PAGOPA_USER, PAGOPA_PASSWORD = "ztl-firenze", secrets.token_urlsafe(24)
A2A = "ZTL_FIRENZE"
SEGREGATION = "47"
# A document over nginx's default 1 MB body limit: the proxy must let the app judge it.
LEASE = b"%PDF-1.4\n1 0 obj<<>>endobj\n%" + b"x" * 1_500_000 + b"\ntrailer<<>>\n%%EOF\n"
LOAD_THREADS = 8
LOAD_SECONDS = 6.0
KILL_AFTER = 2.5
SETTLE_AFTER_KILL = 0.5  # requests sent later than this after the kill must all succeed
DEATH_MARGIN = 0.2  # nginx's moment to notice its kept-alive connections to the dead node closed


def _missing() -> str | None:
    if postgres_base_url() is None:
        return POSTGRES_SKIP
    if nginx_binary() is None:
        return NGINX_MISSING
    if redis_binary() is None:
        return REDIS_MISSING
    return None


@dataclass
class City:
    """A production city on a database of its own, and what serves it besides the nodes."""

    workdir: Path
    database_url: str
    env: dict[str, str]  # the nodes' whole environment
    certificate: Certificate
    redis: RedisServer
    provider: IdentityProvider
    intermediary: Intermediary
    proxy_port: int  # the proxy's port, registered with the identity provider beforehand
    gate_token: str
    police_token: str
    gate: str
    app: Flask | None = None
    setup_seconds: float = 0.0
    inbox: Inbox | None = None  # the municipality's SMTP server (aiosmtpd), for the e-mail jobs

    def ztl(self, *args: str, stdin: str | None = None) -> str:
        """A `ztl` command, as the runbook runs it, on an app built from the nodes' environment
        (in this process: each command as its own process would cost seconds of imports)."""
        if self.app is None:
            with mock.patch.dict(os.environ, self.env, clear=True):
                self.app = create_app()
        with self.app.app_context():
            done = self.app.test_cli_runner().invoke(args=list(args), input=stdin)
        assert done.exit_code == 0, f"ztl {' '.join(args)}: {done.output}"[-4000:]
        return str(done.output)

    def engine(self) -> sa.Engine:
        return sa.create_engine(_psycopg_url(self.database_url))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    """The city of docs/runbook.md, set up once for the module's tests (each starts its own
    nodes and proxy): PostgreSQL, Redis, the identity provider, the pagoPA intermediary behind
    TLS, and the command-line set-up."""
    missing = _missing()
    if missing is not None:
        pytest.skip(missing)
    workdir = tmp_path_factory.mktemp("two-nodes")
    registers = workdir / "registers"
    generate(registers, CitySize(residents=400, vehicles=340, badges=16, businesses=40))
    gate = next(g.code for g in load_rules(FIRENZE).gates if g.zone == "A")
    certificate = make_certificate(workdir / "tls")
    proxy_port = free_port()
    public = f"https://127.0.0.1:{proxy_port}"
    client = Client(
        "https://ztl.comune.example/oidc/rp", new_rsa_key("rp-nodes"), [f"{public}/accedi/con/spid/ritorno"]
    )  # fmt: skip
    with contextlib.ExitStack() as stack:
        provider = IdentityProvider(
            workdir, [client], [citizen("resident", RESIDENT, email="residente@esempio.it")]
        )
        stack.callback(provider.stop)
        provider.start()
        providers = workdir / "identity-providers.json"
        providers.write_text(
            json.dumps([provider.settings("spid", "spid", client, workdir / "rp.pem")])
        )
        inbox = Inbox()
        smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
        smtp.start()
        stack.callback(smtp.stop)
        database_url = stack.enter_context(postgres_database("ztl_two_nodes"))
        redis = start_redis(workdir / "redis")
        stack.callback(redis.stop)
        intermediary = stack.enter_context(
            run_intermediary(
                creditor="01307110484",  # Firenze's rules file
                segregation_code=SEGREGATION,
                user=PAGOPA_USER,
                password=PAGOPA_PASSWORD,
                notify_base=f"{public}/api/v1/pagopa",
                notify_user=NOTIFY_USER,
                notify_password=NOTIFY_PASSWORD,
                id_a2a=A2A,
            )
        )
        # The intermediary over HTTPS, as production demands of ZTL_PAGOPA_URL.
        plain = urlsplit(intermediary.base_url)
        front = start_proxy(
            workdir / "intermediary-tls",
            {"intermediary": [int(plain.port or 80)]},
            {},
            "intermediary",
            tls=certificate,
        )
        stack.callback(front.stop)
        origin = f"http://{plain.netloc}"
        # Its notifications reach the app through the nodes' proxy, over HTTPS: trust the test CA.
        # (And `ztl lists fetch`, run in this process, reads them with urllib: SSL_CERT_FILE.)
        for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            stack.callback(_restore_env, name, os.environ.get(name))
            os.environ[name] = str(certificate.ca)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZTL_")}
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            ZTL_ENV="production",
            DATABASE_URL=database_url,
            ZTL_SECRET_KEY=secrets.token_urlsafe(48),
            ZTL_INSTANCE_PATH=str(workdir / "instance"),
            ZTL_RULES_FILE=str(FIRENZE),
            ZTL_TRUSTED_PROXIES="1",
            ZTL_REDIS_URL=redis.url,
            ZTL_SMTP_HOST="127.0.0.1",
            ZTL_SMTP_PORT=str(smtp.port),
            ZTL_IDENTITY_PROVIDERS=str(providers),
            ZTL_PAGOPA_URL=intermediary.base_url.replace(origin, front.url),
            ZTL_PAGOPA_USER=PAGOPA_USER,
            ZTL_PAGOPA_PASSWORD=PAGOPA_PASSWORD,
            ZTL_PAGOPA_A2A=A2A,
            ZTL_PAGOPA_SEGREGATION_CODE=SEGREGATION,
            ZTL_PAGOPA_STATION="01234567890_01",
            ZTL_PAGOPA_CHECKOUT_URL=intermediary.checkout_url_template.replace(origin, front.url),
            ZTL_PAGOPA_NOTIFICATION_USER=NOTIFY_USER,
            ZTL_PAGOPA_NOTIFICATION_PASSWORD=NOTIFY_PASSWORD,
            ZTL_PUBLIC_URL=public,
            # The load test's gate sends far more than a real gate; the limit has its own tests.
            ZTL_API_RATE_PER_MINUTE="0",
            REQUESTS_CA_BUNDLE=str(certificate.ca),  # the app's calls to the intermediary
            SSL_CERT_FILE=str(certificate.ca),  # `ztl lists fetch` (urllib)
        )
        city = City(
            workdir, database_url, env, certificate, redis, provider, intermediary, proxy_port,
            "", "", gate,
        )  # fmt: skip
        city.inbox = inbox
        started = time.monotonic()
        city.ztl("db", "upgrade")
        city.ztl("keys", "init")
        city.ztl(
            "users", "create", "--role", "clerk", "--email", CLERK_EMAIL, "--password-stdin",
            stdin=CLERK_PASSWORD + "\n",
        )  # fmt: skip
        for kind in ("streets", "residents", "vehicles", "badges", "businesses"):
            city.ztl("registry", "import", kind, str(registers / f"{kind}.csv"))
        city.gate_token = _token(city.ztl("tokens", "create", "--role", "gate", "gate-system"))
        city.police_token = _token(city.ztl("tokens", "create", "--role", "police", "police"))
        city.ztl("static", "build")
        city.setup_seconds = time.monotonic() - started
        yield city
        if city.app is not None:
            with city.app.app_context():
                from ztl.extensions import db

                db.engine.dispose()


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _token(output: str) -> str:
    found = re.search(r"(ztl_\S+)", output)
    assert found, output
    return found.group(1)


@dataclass
class Cluster:
    """The two nodes and the proxy in front of them."""

    a: Node
    b: Node
    proxy: Proxy


@pytest.fixture
def cluster(city: City, tmp_path: Path) -> Iterator[Cluster]:
    """Nodes A and B (2 workers x 4 threads each, started together) behind nginx, which
    terminates TLS on the port the identity provider knows."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda name: start_node(name, city.env, tmp_path), ["node-a", "node-b"])
    proxy = None
    try:
        proxy = start_proxy(
            tmp_path / "proxy",
            {"nodes": [a.port, b.port]},
            {"/api/": "nodes"},
            "nodes",
            tls=city.certificate,
            port=city.proxy_port,
        )
        yield Cluster(a, b, proxy)
    finally:
        if proxy is not None:
            proxy.stop()
        a.stop()
        b.stop()


# --- people --------------------------------------------------------------------------------------


class Browser:
    """One person's browser: cookies (secure ones: the proxy speaks HTTPS), the last form's
    CSRF token, the test CA trusted."""

    def __init__(self, base: str, ca: Path) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.verify = str(ca)
        self.token = ""
        self.page = "/"

    def get(self, path: str, expect: int = 200) -> requests.Response:
        response = self.session.get(self.base + path, allow_redirects=False, timeout=30)
        assert response.status_code == expect, (
            f"GET {path}: {response.status_code} {response.text[:1500]}"
        )
        self.page = path
        match = CSRF.search(response.text)
        if match:
            self.token = next(g for g in match.groups() if g)
        return response

    def post(
        self, path: str, data: dict[str, str], expect: int = 303, **kwargs: object
    ) -> requests.Response:
        # Over HTTPS the CSRF check also wants the Referer of a page of the same site, as a
        # browser sends it (Flask-WTF's strict check): the last page this browser opened.
        response = self.session.post(
            self.base + path, data={"csrf_token": self.token, **data}, allow_redirects=False,
            timeout=30, headers={"Referer": self.base + self.page}, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
        assert response.status_code == expect, (
            f"POST {path}: {response.status_code} {_main_text(response.text)}"
        )
        return response


def _main_text(html: str) -> str:
    """What a page says in its main part (a refusal's reason), without the markup."""
    main = html[html.find("<main") :] if "<main" in html else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))[:1500]


def resident_signs_in(city: City, base: str) -> Browser:
    """SPID through the test provider: the app's redirect, the provider's form, the callback."""
    browser = Browser(base, city.certificate.ca)
    start = browser.get("/accedi/con/spid", expect=302)
    callback = provider_sign_in(start.headers["Location"], "resident")
    assert callback.startswith(base + "/accedi/con/spid/ritorno"), callback
    parts = urlsplit(callback)
    signed = browser.get(f"{parts.path}?{parts.query}", expect=302)
    assert "/accedi" not in signed.headers["Location"], signed.headers["Location"]
    return browser


def clerk_signs_in(city: City, base: str) -> Browser:
    """Password, then the authenticator app set up at this first sign-in (production requires
    a second factor for staff): the secret shown on the page, a code from it."""
    browser = Browser(base, city.certificate.ca)
    browser.get("/accedi")
    step = browser.post(
        "/accedi", {"email": CLERK_EMAIL, "password": CLERK_PASSWORD, "next": ""}, expect=302
    )
    assert step.headers["Location"].endswith("/accedi/attivazione"), step.headers["Location"]
    page = browser.get("/accedi/attivazione").text
    secret = SECRET_ON_PAGE.search(page)
    assert secret, page[-2000:]
    code = pyotp.TOTP(secret[1].replace(" ", "")).now()
    done = browser.session.post(
        base + "/accedi/attivazione",
        data={"csrf_token": browser.token, "code": code},
        headers={"Referer": base + "/accedi/attivazione"},
        allow_redirects=False,
        timeout=30,
    )
    assert done.status_code in (200, 302, 303), _main_text(done.text)
    assert browser.get("/ufficio/").status_code == 200
    return browser


def report(capsys: pytest.CaptureFixture[str], text: str) -> None:
    """A figure for the CI log: printed past pytest's capture, whether the test passes or not."""
    with capsys.disabled():
        print(f"\n[two nodes] {text}")


def _logged(node: Node, path: str) -> list[str]:
    """The node's access-log lines for `path`; gunicorn writes one just after the answer has
    gone, so a line may come a moment after the client has its answer."""
    deadline = time.monotonic() + 5
    while not (lines := node.requests_logged(path)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return lines


def _journey_requests(node: Node) -> list[str]:
    return [
        line
        for prefix in ("/accedi/con/spid", "/area-personale/", "/ufficio/", "/api/")
        for line in node.requests_logged(prefix)
    ]


# --- the journey ---------------------------------------------------------------------------------


def test_the_whole_journey_crosses_nodes_and_survives_one_stopping(
    city: City, cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """Apply (with a document over 1 MB), pay through pagoPA, approve, verify, check the plate,
    through the proxy: first with both nodes serving (each serves part of the same person's
    requests), then node A is stopped and node B finishes with the sessions A started."""
    started = time.monotonic()
    base = cluster.proxy.url
    # The e-mails are jobs on the shared queue: one worker, on neither node, sends them.
    log = (city.workdir / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(BIN / "ztl"), "jobs", "worker"], env=city.env, stdout=log, stderr=subprocess.STDOUT
    )
    resident = resident_signs_in(city, base)
    resident.get("/area-personale/domande/nuova/15")  # domiciled: a fee, then the clerk decides
    created = resident.post("/area-personale/domande/nuova/15", {"plate_1": PLATE})
    found = re.search(r"/domande/(\d+)$", created.headers["Location"])
    assert found, created.headers["Location"]
    application_id = int(found.group(1))
    page = f"/area-personale/domande/{application_id}"
    resident.get(page)
    resident.post(
        f"{page}/documenti",
        {"kind": "lease_or_deed"},
        files={"file": ("contratto.pdf", LEASE, "application/pdf")},
    )
    resident.get(page)
    resident.post(f"{page}/invia", {})
    resident.get(page)

    served_a, served_b = _journey_requests(cluster.a), _journey_requests(cluster.b)
    report(
        capsys,
        f"with both nodes up: node A served {len(served_a)}, node B {len(served_b)} requests",
    )
    assert served_a and served_b, "one node served the whole first half: nothing crossed"
    cluster.a.stop()  # SIGTERM: it finishes what it holds, then exits
    assert not cluster.a.alive()
    a_lines = len(cluster.a.requests_logged("/"))

    engine = city.engine()
    try:
        with engine.connect() as connection:
            notice, status = connection.execute(
                sa.text(
                    "SELECT p.notice_number, a.status FROM payment_position p "
                    "JOIN application a ON a.id = p.application_id WHERE a.id = :id"
                ),
                {"id": application_id},
            ).one()
        assert status == "submitted", status
        city.intermediary.pay(notice)
        deliveries = city.intermediary.deliveries
        assert deliveries and deliveries[-1][1] in (200, 201), deliveries
        resident.get(page)

        clerk = clerk_signs_in(city, base)
        clerk.get(f"/ufficio/domande/{application_id}")
        clerk.post(f"/ufficio/domande/{application_id}/approva", {"note": "contratto visto"})
        with engine.connect() as connection:
            number, seal = connection.execute(
                sa.text("SELECT number, seal_text FROM permit WHERE application_id = :id"),
                {"id": application_id},
            ).one()
    finally:
        engine.dispose()
    assert number.startswith("FI-"), number

    pdf = resident.get(f"/area-personale/permessi/{number}/pdf").content
    assert pdf.startswith(b"%PDF")
    (city.workdir / "permit.pdf").write_bytes(pdf)
    # The police device's way: the signed lists fetched through the proxy, then offline.
    city.ztl("lists", "fetch", base, "--root", str(city.workdir / "instance/keys/root-ca.crt"))
    verified = city.ztl("verify", str(city.workdir / "permit.pdf"), "--plate", PLATE)
    assert "PDF signature: OK" in verified and "Seal: VALID" in verified, verified

    police = {"Authorization": f"Bearer {city.police_token}"}
    answer = requests.post(
        f"{base}/api/v1/seals/verify", json={"seal": seal, "plate": PLATE}, headers=police,
        verify=str(city.certificate.ca), timeout=30,
    )  # fmt: skip
    assert answer.status_code == 200 and answer.json()["valid"] is True, answer.text
    gate = {"Authorization": f"Bearer {city.gate_token}"}
    plate_check = requests.get(
        f"{base}/api/v1/authorizations/{PLATE}", headers=gate,
        verify=str(city.certificate.ca), timeout=30,
    )  # fmt: skip
    assert plate_check.status_code == 200, plate_check.text
    assert plate_check.json()["authorized"] is True, plate_check.text

    # After the stop everything was node B's: A's log did not grow, B's has the second half.
    assert len(cluster.a.requests_logged("/")) == a_lines
    for path in ("/api/v1/pagopa/pagamenti/", f"/ufficio/domande/{application_id}/approva",
                 f"/area-personale/permessi/{number}/pdf", "/api/v1/seals/verify",
                 "/api/v1/authorizations/"):  # fmt: skip
        assert _logged(cluster.b, path), f"node B did not serve {path}"
    mails = _mails_sent_by_the_queue(city, worker, application_id)
    report(
        capsys,
        f"the city was set up in {city.setup_seconds:.1f} s (the runbook's commands); the "
        f"journey took {time.monotonic() - started:.1f} s; permit {number} verified; "
        f"{mails} e-mails sent by the queue's worker",
    )


def _mails_sent_by_the_queue(city: City, worker: subprocess.Popen[bytes], application: int) -> int:
    """The resident's e-mails (receipt, decision, permit) went through the queue, each once."""
    assert city.inbox is not None and city.app is not None
    engine = city.engine()
    query = sa.text(
        "SELECT n.kind, n.sent_at IS NOT NULL FROM notification n LEFT JOIN permit p "
        "ON p.id = n.permit_id WHERE n.application_id = :id OR p.application_id = :id"
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with engine.connect() as connection:
                rows = connection.execute(query, {"id": application}).all()
            if len(rows) >= 3 and all(sent for _, sent in rows):
                break
            assert time.monotonic() < deadline, f"e-mails not sent: {rows}"
            time.sleep(0.2)
    finally:
        engine.dispose()
        worker.terminate()
        worker.wait(30)
    kinds = sorted(kind for kind, _ in rows)
    assert kinds == ["application_approved", "application_submitted", "permit_issued"], kinds
    assert city.inbox.received == ["residente@esempio.it"] * len(rows)
    with city.app.app_context():
        queue = job_queue()
        assert queue is not None
        finished = queue.finished_job_registry.get_job_ids()
    assert sum("mail-" in job for job in finished) == len(rows), finished
    return len(rows)


# --- a node killed under load --------------------------------------------------------------------


@dataclass
class Sent:
    """One reading pushed, when, and how it was answered."""

    reading: str
    body: dict[str, str]
    sent: float
    answered: float
    status: int  # 0: no HTTP answer


def _wait_for_lines(log: Path, count: int) -> list[str]:
    """The log's lines, once it has `count` (nginx writes a line after the answer is sent)."""
    deadline = time.monotonic() + 5
    while len(lines := log.read_text().splitlines()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return lines


def _load(base: str, city: City, thread: int, stop: float, out: list[Sent]) -> None:
    """One gate connection sending readings, each with its own id, until `stop`."""
    session = requests.Session()
    session.verify = str(city.certificate.ca)
    headers = {"Authorization": f"Bearer {city.gate_token}"}
    serial = 0
    while time.monotonic() < stop:
        serial += 1
        reading = f"load-{thread}-{serial}"
        body = {
            "id": reading,
            "gate": city.gate,
            "plate": car_plate(6_000_000 + thread * 10_000 + serial),
            "at": dt.datetime.now(dt.UTC).isoformat(),
        }
        sent = time.monotonic()
        try:
            status = session.post(
                f"{base}/api/v1/transits", json=body, headers=headers, timeout=30
            ).status_code
        except requests.RequestException:
            status = 0
        out.append(Sent(reading, body, sent, time.monotonic(), status))


def test_a_node_killed_under_load_loses_no_write(
    city: City, cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gates push readings through nginx from several connections; node A is SIGKILLed (master
    and workers) mid-load. Every reading answered 2xx is in the ledger exactly once; only the
    requests in flight at the kill fail; everything sent after it succeeds on node B; and a
    gate resending the failed ones (as it does without an answer) gets each recorded once."""
    base = cluster.proxy.url
    results: list[list[Sent]] = [[] for _ in range(LOAD_THREADS)]
    begin = time.monotonic()
    stop = begin + LOAD_SECONDS
    threads = [
        threading.Thread(target=_load, args=(base, city, n, stop, results[n]))
        for n in range(LOAD_THREADS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(KILL_AFTER)
    killed_at = time.monotonic()
    cluster.a.stop(kill=True)
    killed = time.monotonic()
    assert not cluster.a.alive()
    for thread in threads:
        thread.join(60)
    sent = [s for per_thread in results for s in per_thread]
    ok = [s for s in sent if 200 <= s.status < 300]
    failed = [s for s in sent if not 200 <= s.status < 300]
    before = [s for s in sent if s.answered < killed_at]
    after = [s for s in sent if s.sent > killed + SETTLE_AFTER_KILL]
    report(
        capsys,
        f"{len(sent)} readings in {LOAD_SECONDS:.0f} s from {LOAD_THREADS} connections, node A "
        f"killed at {killed_at - begin:.1f} s: {len(ok)} answered 2xx, {len(failed)} failed "
        f"({Counter(s.status for s in failed)}), {len(before)} answered before the kill, "
        f"{len(after)} sent after it",
    )
    assert before and after, "the load did not span the kill"
    in_flight = [s for s in sent if s.sent <= killed and s.answered >= killed_at]
    report(
        capsys,
        f"node A's processes took {(killed - killed_at) * 1000:.0f} ms to die after the SIGKILL; "
        f"{len(in_flight)} requests were in flight meanwhile; the failed ones were sent at "
        f"{sorted(round((s.sent - killed_at) * 1000) for s in failed)} ms from the SIGKILL",
    )
    a_served = cluster.a.requests_logged("/api/v1/transits")
    b_served = cluster.b.requests_logged("/api/v1/transits")
    report(
        capsys, f"node A answered {len(a_served)} readings before its death, node B {len(b_served)}"
    )
    assert a_served and b_served, "the load did not reach both nodes"
    # What nginx saw: requests it passed on to B after A refused the connection (nothing had
    # been sent, so even a POST may go to the next server), and those lost with A (answered 502).
    proxy_log = _wait_for_lines(cluster.proxy.access_log, len(sent))
    rerouted = [line for line in proxy_log if "upstream_status=502, 2" in line]
    lost_with_a = [line for line in proxy_log if " 502 upstream=" in line]
    errors = Counter(
        re.sub(r"^.*?\*\d+ (.*?) while .*$", r"\1", line)
        for line in cluster.proxy.error_log.read_text().splitlines()
        if "[error]" in line
    )
    report(
        capsys,
        f"nginx: {len(rerouted)} requests passed on to node B after node A refused them, "
        f"{len(lost_with_a)} answered 502 (in flight on node A); its errors: {dict(errors)}",
    )
    assert len(lost_with_a) == len([s for s in failed if s.status == 502])
    assert len(failed) <= LOAD_THREADS * 2, "more failures than requests in flight at the kill"
    # Each failure entered while node A was dying (from the SIGKILL until its last process was
    # gone, plus the moment nginx takes to see its connections closed), none before or later.
    assert all(killed_at <= s.answered and s.sent <= killed + DEATH_MARGIN for s in failed), [
        (round((s.sent - killed_at) * 1000), s.status) for s in failed
    ]
    assert all(200 <= s.status < 300 for s in after)

    engine = city.engine()
    try:
        with engine.connect() as connection:
            stored = Counter(
                connection.scalars(
                    sa.text("SELECT source_id FROM transit WHERE source_id LIKE 'load-%'")
                )
            )
        assert not [r for r, n in stored.items() if n > 1], "a reading stored twice"
        lost = [s.reading for s in ok if stored[s.reading] != 1]
        assert not lost, f"answered 2xx but not in the ledger: {lost}"
        committed = [s.reading for s in failed if stored[s.reading]]
        # The gate resends what got no answer: the ledger takes each once, whichever node answers.
        session = requests.Session()
        headers = {"Authorization": f"Bearer {city.gate_token}"}
        repeats = 0
        for s in failed:
            answer = session.post(
                f"{base}/api/v1/transits", json=s.body, headers=headers,
                verify=str(city.certificate.ca), timeout=30,
            )  # fmt: skip
            assert answer.status_code in (200, 201), answer.text
            repeats += answer.json()["repeat"]
        assert repeats == len(committed)
        with engine.connect() as connection:
            total = connection.scalar(
                sa.text("SELECT count(*) FROM transit WHERE source_id LIKE 'load-%'")
            )
    finally:
        engine.dispose()
    assert total == len({s.reading for s in sent})
    report(
        capsys,
        f"ledger: {total} readings, each once; of the {len(failed)} failed, {len(committed)} had "
        f"been committed by node A before it died (the resend answered repeat), the others were "
        f"recorded by the resend",
    )
