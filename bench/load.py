"""A mixed load on one node, then on two: residents, clerks and police at once, reads and writes.

Usage: .venv/bin/python bench/load.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
       [--layout both|one|two] [--seconds 120] [--permits 100000] [--applications 20000]
       [--threads 1] [--web-workers 2] [--node-workers 1] [--api-workers 2] [--api-threads 4]
       [--police-rate 200] [--payment-rate 10] [--pagopa-on-web] [--no-redis] [--web-nice 0]
       [--no-writes] [--payments N] [--keep-logs]

The demo city plus generated permits and applications, on PostgreSQL in a schema of its own, or
without --database-url on SQLite in a temporary folder (the engine `make run` serves). Then, on
that same data, one layout after the other (bench/load_layouts.py; the processes are started by
tests/cluster_nodes.py, as the multi-node tests start them):
  one node   nginx, one web gunicorn (2 sync workers), the API (/api/) on a gunicorn of its own
             (2 workers of 4 threads)
  two nodes  nginx round robin over two web gunicorns A and B (1 sync worker each), the API as
             above, a Redis of their own (ZTL_REDIS_URL: shared rate limits, change notices, the
             job queue) and a `ztl jobs worker` when the app has that command
For each, after a 15-second warm-up that is not measured, one `wrk` process per kind of request
at once through nginx on loopback, each with its own connections for the whole run:
  resident  GET /area-personale/            (a signed-in resident's dashboard)
  clerk     GET /ufficio/                   (a signed-in clerk's queue)
  police    GET /api/v1/authorizations/...  (a gate token's plate checks, paced at --police-rate
            a second, as gates ask when vehicles pass; 0 asks as fast as answers come)
  drafts    POST /area-personale/domande/nuova/G%2FA (another resident saves a new draft: three
            write transactions each, the form's claim, the draft and its events, the claim's end)
  payments  POST /api/v1/pagopa/pagamenti/... (the pagoPA intermediary's notifications of PAYMENTS
            daily permits paid, half of them per layout, paced at --payment-rate a second: the
            first of each, sent before the load, issues the permit; the load sends the
            intermediary's replays, each one recorded; the payment provider is `pagopa` against
            the test intermediary of tests/payment_intermediary, where the applications were
            submitted beforehand)
Prints each layout's figures as they come, then a table per kind: requests per second, p99 and
errors (non-2xx/3xx answers and socket errors) in each layout and the second's over the first's;
then whether the plate checks kept p99 <= 20 ms in each layout (issue 20). Exits 1 when there was
any error (issue 7's target: none under the mixed load), a node died, or the plate checks missed
their target; then the logs are kept and their folder printed. Each layout's figures come with
where the CPU went meanwhile: a run that shared the cores with other work says so. With the
defaults the whole run takes about 5 1/2 minutes.
Rate limits are off (the load is one client per kind, which a limit would rightly throttle).
Needs wrk, nginx and redis-server (Debian packages wrk, nginx, redis-server).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from enforcement import BIN, ROOT, _free_port, build_city
from load_layouts import (
    POLICE_KIND,
    POLICE_P99_TARGET_MS,
    Reading,
    Serving,
    cpu_sample,
    cpu_shares,
    layouts,
    police_verdicts,
    redis_commands,
    refused,
    serve,
    table,
)

sys.path.insert(0, str(ROOT))

WARM_UP_SECONDS = 15
PASSWORD = "load-password-1"  # noqa: S105 (a throw-away benchmark account)


def add_applications(app: object, count: int) -> None:
    """Applications in every status, bulk-inserted after the demo city's rows."""
    import sqlalchemy as sa
    from sqlalchemy import select

    from ztl.demo.generator import car_plate, codice_fiscale
    from ztl.extensions import db
    from ztl.models import Application, ApplicationPlate, Category

    with app.app_context():  # type: ignore[attr-defined]
        categories = [c.id for c in db.session.scalars(select(Category))]
        start = (db.session.scalar(select(sa.func.max(Application.id))) or 0) + 1
        rng = random.Random(9)
        now = dt.datetime.now(dt.UTC)
        statuses = ["under_review", "submitted", "documents_requested", "issued", "rejected"]
        apps, plates = [], []
        for i in range(start, start + count):
            when = now - dt.timedelta(days=rng.randrange(0, 400))
            apps.append(
                {
                    "id": i,
                    "applicant_id": codice_fiscale(i % 5000),
                    "category_id": rng.choice(categories),
                    "status": rng.choice(statuses),
                    "details": {"validity": "P1Y"},
                    "outcome": "needs_review",
                    "fee_cents": 1500,
                    "stamp_duty_cents": 1600,
                    "created_at": when,
                    "updated_at": when,
                    "submitted_at": when,
                }
            )
            plates.append(
                {"application_id": i, "plate": car_plate(7_000_000 + i), "country": "IT", "position": 0}
            )  # fmt: skip
        for table, rows in ((Application.__table__, apps), (ApplicationPlate.__table__, plates)):
            for first in range(0, len(rows), 10_000):
                db.session.execute(sa.insert(table), rows[first : first + 10_000])
        if db.engine.dialect.name == "postgresql":
            db.session.execute(
                sa.text("SELECT setval('application_id_seq', :n)"), {"n": start + count}
            )
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def sign_in(port: int, email: str) -> str:
    """The session cookie of a signed-in user, obtained through the real sign-in form."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/accedi")
    page = connection.getresponse()
    html = page.read().decode()
    cookie = page.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token, "no CSRF token on the sign-in page"
    body = urlencode(
        {"csrf_token": token.group(1), "email": email, "password": PASSWORD, "next": ""}
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    connection.request("POST", "/accedi", body=body, headers=headers)
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 302, f"sign-in of {email} answered {answer.status}"
    return answer.getheader("Set-Cookie", "").split(";")[0]


# wrk's Lua: every request a new draft, with a fresh idempotency key (each is a new form, not a
# repeat); the CSRF token and the plate are filled in by _drafts_script.
DRAFTS_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
counter = 0
request = function()
  counter = counter + 1
  local key = string.format("bench%08x%08x%06d", math.random(0, 0x7fffffff), os.time(), counter)
  local body = "csrf_token=CSRF&plate_1=PLATE&validity=P1D&idempotency_key=" .. key
  return wrk.format(nil, nil, nil, body)
end
"""


# wrk's Lua: the intermediary's notifications, in turn; each is a receipt of its own notice.
PAYMENTS_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
notifications = {NOTIFICATIONS}
counter = 0
request = function()
  counter = counter + 1
  local item = notifications[(counter % #notifications) + 1]
  return wrk.format(nil, item[1], nil, item[2])
end
"""
NOTIFY_USER, NOTIFY_PASSWORD = "govpay", "load-notification-password-0123456789abcdef"
PAGOPA_USER, PAGOPA_PASSWORD = "ztl-load", "load-intermediary-password"
CREDITOR, SEGREGATION = "84006890481", "47"


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def pagopa_settings(intermediary: object) -> dict[str, str]:
    """The `pagopa` provider's settings against the test intermediary."""
    return {
        "ZTL_PAYMENT_PROVIDER": "pagopa",
        "ZTL_PAGOPA_URL": intermediary.base_url,  # type: ignore[attr-defined]
        "ZTL_PAGOPA_USER": PAGOPA_USER,
        "ZTL_PAGOPA_PASSWORD": PAGOPA_PASSWORD,
        "ZTL_PAGOPA_A2A": "ZTL_LOAD",
        "ZTL_PAGOPA_SEGREGATION_CODE": SEGREGATION,
        "ZTL_PAGOPA_STATION": "12345678901_01",
        "ZTL_PAGOPA_CHECKOUT_URL": intermediary.checkout_url_template,  # type: ignore[attr-defined]
        "ZTL_PAGOPA_NOTIFICATION_USER": NOTIFY_USER,
        "ZTL_PAGOPA_NOTIFICATION_PASSWORD": NOTIFY_PASSWORD,
    }


def registered_plates(app: object, count: int) -> list[str]:
    """Cars of the demo's vehicle register that the daily permit admits (on the road, Euro 6):
    a plate outside the register would need the visitor's declaration."""
    from sqlalchemy import select

    from ztl.extensions import db
    from ztl.models import Vehicle

    with app.app_context():  # type: ignore[attr-defined]
        return list(
            db.session.scalars(
                select(Vehicle.plate)
                .where(
                    Vehicle.status == "active", Vehicle.euro_class >= 6, Vehicle.category == "M1"
                )
                .order_by(Vehicle.plate)
                .limit(count)
            )
        )


def paid_notifications(
    app: object, intermediary: object, plates: list[str], count: int
) -> list[tuple[str, str]]:
    """Up to `count` daily permits submitted by a resident (their positions opened at the
    intermediary) and paid there without notifying: the (path, body) of each notification, for
    wrk to send. A plate the checks refuse (an old car under the emission floor) is skipped."""
    import json

    from ztl.applications import applicant as applications
    from ztl.extensions import db
    from ztl.infrastructure.unit_of_work import ServiceError
    from ztl.models import PaymentPosition, User

    notifications: list[tuple[str, str]] = []
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with app.app_context():  # type: ignore[attr-defined]
        payer = db.session.query(User).filter(User.email == "payer@load.example.org").one()
        for plate in plates:
            if len(notifications) >= count:
                break
            try:
                application_id = applications.create_draft(
                    payer,
                    applications.ApplicationInput(
                        category="G/A", applicant_id="", plates=(plate,), requested_from=tomorrow
                    ),
                )
                applications.submit_application(application_id, payer)
            except ServiceError:
                continue
            position = (
                db.session.query(PaymentPosition).filter_by(application_id=application_id).one()
            )
            body = intermediary.pay(position.notice_number, notify=False)  # type: ignore[attr-defined]
            path = f"/api/v1/pagopa/pagamenti/{CREDITOR}/{position.iuv}"
            notifications.append((path, json.dumps(body)))
    return notifications


def _first_notifications(port: int, notifications: list[tuple[str, str]]) -> None:
    """Each notice's first notification, one after the other before the load: each issues its
    daily permit (a few hundred milliseconds: the permit, its seal, its PDF), so the load then
    sends the intermediary's repeats, as the closed loop of old did after its first seconds. Left
    to the load, issuing spilled past the warm-up into the measured seconds of one layout and
    not the other, and the p99 of both API kinds measured that. Stops at once, with the answer,
    when one is refused."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    basic = base64.b64encode(f"{NOTIFY_USER}:{NOTIFY_PASSWORD}".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {basic}"}
    for path, body in notifications:
        connection.request("POST", path, body=body.encode(), headers=headers)
        answer = connection.getresponse()
        text = answer.read().decode()
        if answer.status != 201:
            sys.exit(f"a first notification was answered {answer.status}: {text[:500]}")
    connection.close()


def _paid_summary(app: object) -> tuple[str, bool]:
    """What the notifications did: each notice accepted once, the rest replays, one permit each."""
    from sqlalchemy import func, select

    from ztl.extensions import db
    from ztl.models import PaymentNotification, PaymentPosition

    with app.app_context():  # type: ignore[attr-defined]
        counts = dict(
            db.session.execute(
                select(PaymentNotification.outcome, func.count()).group_by(
                    PaymentNotification.outcome
                )
            ).all()
        )
        paid = db.session.scalar(
            select(func.count()).select_from(PaymentPosition).where(PaymentPosition.state == "paid")
        )
    accepted = counts.get("accepted", 0)
    text = (
        f"payments: {paid} notices paid, receipts accepted {accepted}, "
        f"replays {counts.get('replay', 0)}, refused {counts.get('refused', 0)}"
    )
    return text, accepted == paid and not counts.get("refused")


def _payments_script(workdir: Path, notifications: list[tuple[str, str]], rate: float) -> Path:
    """The notifications' script, paced at `rate` a second (0: a closed loop)."""
    items = ", ".join(f"{{{_lua_string(p)}, {_lua_string(b)}}}" for p, b in notifications)
    script = workdir / "payments.lua"
    script.write_text(PAYMENTS_LUA.replace("{NOTIFICATIONS}", "{" + items + "}") + _pacing(rate))
    return script


def _drafts_script(workdir: Path, port: int, cookie: str, plate: str) -> tuple[Path, str]:
    """The Lua script of the drafts kind with the signed-in resident's CSRF token, and the session
    cookie that token belongs to (the page may have started it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/area-personale/domande/nuova/G%2FA", headers={"Cookie": cookie})
    page = connection.getresponse()
    html = page.read().decode()
    cookie = (page.getheader("Set-Cookie") or cookie).split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token, "no CSRF token on the new application page"
    script = workdir / "drafts.lua"
    script.write_text(DRAFTS_LUA.replace("CSRF", token.group(1)).replace("PLATE", plate))
    return script, cookie


# wrk's Lua that paces a kind at a steady rate: each connection waits, after an answer, its share
# of the interval (at random between half and one and a half of it, so that the connections do
# not march in step). Gates and police phones ask at the pace vehicles pass, and the intermediary
# notifies at the pace citizens pay, not as fast as the server answers: a closed loop of either
# would hold the API's workers and both cores, and make the plate checks' p99 the length of a
# queue the real service never sees. The pages and drafts stay closed loops: their throughput is
# what is measured there.
PACING_LUA = """
local mean = MEAN_MS
delay = function()
  return math.floor(mean * (0.5 + math.random()))
end
"""
CONNECTIONS = 8  # per wrk, one thread each


def _pacing(rate: float) -> str:
    """The Lua that keeps a wrk near `rate` requests a second in all ("" for a closed loop)."""
    if rate <= 0:
        return ""
    return PACING_LUA.replace("MEAN_MS", f"{CONNECTIONS * 1000 / rate:.1f}")


def _police_script(workdir: Path, rate: float) -> Path | None:
    """The plate checks' script: only the pacing (None: a closed loop, no script)."""
    if rate <= 0:
        return None
    script = workdir / "police.lua"
    script.write_text(_pacing(rate))
    return script


def _wrk(url: str, header: str, seconds: int, script: Path | None = None) -> subprocess.Popen[str]:
    """One wrk (one thread, its connections kept for the whole run, --latency for the p99),
    started and left running: the kinds run at once."""
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-H", header, url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _figures(output: str) -> Reading:
    """Rate, errors (non-2xx/3xx answers and socket errors), p99, and what the errors were."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    counts = {"non-2xx": int(non_2xx.group(1)) if non_2xx else 0}
    if sockets:
        for name, value in zip(
            ("connect", "read", "write", "timeout"), sockets.groups(), strict=True
        ):
            counts[name] = int(value)
    errors = sum(counts.values())
    detail = " (" + ", ".join(f"{k} {v}" for k, v in counts.items() if v) + ")" if errors else ""
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    return Reading(rate, errors, p99.group(1) if p99 else "?", detail)


@dataclass
class Workload:
    """What every layout is asked, prepared once on the shared data: the gate's token and plate,
    and the notifications, each layout sending notices of its own (a notice paid in the first
    layout would only be a replay in the second: cheaper, so not the same load)."""

    secret: str
    plate: str
    draft_plate: str
    notifications: dict[str, list[tuple[str, str]]]
    writes: bool
    police_rate: float
    payment_rate: float
    seconds: int


def measure(serving: Serving, workload: Workload, writer: str, workdir: Path) -> dict[str, Reading]:
    """The mixed load against one layout through its nginx: sign-ins, a warm-up, then one wrk
    per kind at once; each kind's figures, printed with where the CPU went meanwhile (another
    program busy on the same cores shows there, and explains a slow run)."""
    port, base = serving.port, serving.url
    folder = workdir / serving.layout.slug
    folder.mkdir(parents=True, exist_ok=True)
    kinds = {
        "resident dashboard": (f"{base}/area-personale/", f"Cookie: {sign_in(port, 'resident@load.example.org')}"),
        "clerk queue": (f"{base}/ufficio/", f"Cookie: {sign_in(port, 'clerk@load.example.org')}"),
        POLICE_KIND: (
            f"{base}/api/v1/authorizations/{workload.plate}?zone=A",
            f"Authorization: Bearer {workload.secret}",
        ),
    }  # fmt: skip
    scripts: dict[str, Path | None] = {POLICE_KIND: _police_script(folder, workload.police_rate)}
    if workload.writes:
        script, cookie = _drafts_script(folder, port, sign_in(port, writer), workload.draft_plate)
        kinds["resident new draft"] = (
            f"{base}/area-personale/domande/nuova/G%2FA",
            f"Cookie: {cookie}",
        )
        scripts["resident new draft"] = script
    notifications = workload.notifications.get(serving.layout.name, [])
    if notifications:
        _first_notifications(port, notifications)
        basic = base64.b64encode(f"{NOTIFY_USER}:{NOTIFY_PASSWORD}".encode()).decode()
        kinds["pagoPA notification"] = (f"{base}/api/v1/pagopa", f"Authorization: Basic {basic}")
        scripts["pagoPA notification"] = _payments_script(
            folder, notifications, workload.payment_rate
        )
    # Warm-up, not measured: each worker builds its enforcement index (about 2 s for 100,000
    # permits alone, 5-7 s under this load) and fills its caches on its first requests; a cold
    # start is not the load.
    warm = {name: _wrk(u, h, WARM_UP_SECONDS, scripts.get(name)) for name, (u, h) in kinds.items()}
    for process in warm.values():
        process.communicate(timeout=WARM_UP_SECONDS + 60)
    before, started = cpu_sample(), time.monotonic()
    running = {
        name: _wrk(u, h, workload.seconds, scripts.get(name)) for name, (u, h) in kinds.items()
    }
    readings: dict[str, Reading] = {}
    outputs = {
        name: process.communicate(timeout=workload.seconds + 60)[0]
        for name, process in running.items()
    }
    usage = cpu_shares(before, cpu_sample(), time.monotonic() - started)
    for name, output in outputs.items():
        reading = readings[name] = _figures(output)
        print(
            f"  {name:<20} {reading.rate:8,.0f} req/s   errors {reading.errors:>4}"
            f"{reading.detail}   p99 {reading.p99}"
        )
    print(f"  {usage}")
    if any(reading.errors for reading in readings.values()):
        for line in refused(serving.access_log):
            print(f"  refused: {line}")
    return readings


def prepare(
    app: object,
    args: argparse.Namespace,
    env: dict[str, str],
    intermediary: object,
    layout_names: list[str],
) -> Workload:
    """The shared data every layout runs on: the demo city, the generated permits and
    applications, the accounts, the paid notices (split between the layouts), the keys and the
    gate's token."""
    from ztl.accounts.staff import create_user
    from ztl.demo.generator import codice_fiscale
    from ztl.demo.loader import load_demo

    with app.app_context():  # type: ignore[attr-defined]
        from flask_migrate import upgrade

        upgrade()
        load_demo()
        create_user("resident", "resident@load.example.org", PASSWORD, "Resident")
        create_user("clerk", "clerk@load.example.org", PASSWORD, "Clerk")
        # A writer per layout, each with the same few generated applications behind them, so
        # that the second layout's writer does not start with the first one's drafts.
        for number, _ in enumerate(layout_names, start=1):
            create_user(
                "resident", _writer(number), PASSWORD, f"Writer {number}",
                codice_fiscale=codice_fiscale(number),
            )  # fmt: skip
        create_user(
            "resident", "payer@load.example.org", PASSWORD, "Payer",
            codice_fiscale=codice_fiscale(7_777),  # none of the generated applications
        )  # fmt: skip
    plates = build_city(app, args.permits)
    add_applications(app, args.applications)
    payments = args.payments if not args.no_writes else 0
    registered = registered_plates(app, payments * 6 + 1)  # some fail the daily checks
    paid = paid_notifications(app, intermediary, registered[1:], payments) if payments else []
    if payments:
        # Paid daily permits are issued, sealed and signed: the keys come first.
        subprocess.run([str(BIN / "ztl"), "keys", "init"], env=env, check=True, capture_output=True)
    token = subprocess.run(
        [str(BIN / "ztl"), "tokens", "create", "--role", "gate", "load-gate"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return Workload(
        secret=re.search(r"(ztl_\S+)", token).group(1),  # type: ignore[union-attr]
        plate=plates[len(plates) // 3],
        draft_plate=registered[0] if registered else "",
        notifications={
            name: paid[i :: len(layout_names)] for i, name in enumerate(layout_names) if paid
        },
        writes=not args.no_writes,
        police_rate=args.police_rate,
        payment_rate=args.payment_rate,
        seconds=args.seconds,
    )


def _writer(number: int) -> str:
    return f"writer{number}@load.example.org"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... (a schema is made); default SQLite in a temporary folder",
    )
    parser.add_argument(
        "--layout",
        choices=("both", "one", "two"),
        default="both",
        help="one node, two nodes, or both one after the other on the same data (default)",
    )
    parser.add_argument("--no-writes", action="store_true", help="only the three read kinds")
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the nodes' and nginx's logs (path printed); kept anyway when the run fails",
    )
    parser.add_argument(
        "--payments",
        type=int,
        default=200,
        help="daily permits paid through the test intermediary, whose notifications are sent, "
        "split between the layouts; at most the register's cars the daily permit admits (85 in "
        "the demo, one more drafts)",
    )
    parser.add_argument("--seconds", type=int, default=120, help="measured, per layout")
    parser.add_argument("--permits", type=int, default=100_000)
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument(
        "--threads", type=int, default=1, help="web gunicorn threads per worker (1: sync workers)"
    )
    parser.add_argument("--api-threads", type=int, default=4, help="the API's threads per worker")
    parser.add_argument("--web-workers", type=int, default=2, help="the one node's web workers")
    parser.add_argument(
        "--node-workers", type=int, default=1, help="each of the two web nodes' workers"
    )
    parser.add_argument(
        "--api-workers", type=int, default=2, help="the API's gunicorn (/api/), in both layouts"
    )
    parser.add_argument(
        "--pagopa-on-web",
        action="store_true",
        help="route /api/v1/pagopa/ to the web nodes: the API's workers keep the plate checks",
    )
    parser.add_argument(
        "--no-redis",
        action="store_true",
        help="two nodes without their Redis (each process polls PostgreSQL for changes)",
    )
    parser.add_argument(
        "--web-nice",
        type=int,
        default=0,
        help="the web nodes' niceness (0-19): the API's workers get the cores first",
    )
    parser.add_argument(
        "--police-rate",
        type=float,
        default=200,
        help="plate checks a second, all connections together (0: as fast as answered)",
    )
    parser.add_argument(
        "--payment-rate",
        type=float,
        default=10,
        help="pagoPA notifications a second, all connections together (0: as fast as answered)",
    )
    args = parser.parse_args()
    if min(args.web_workers, args.node_workers, args.api_workers) < 1:
        parser.error("every gunicorn needs at least one worker")
    return args


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each line as it comes
    args = _arguments()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    from tests.cluster_nodes import nginx_binary, redis_binary

    chosen = layouts(
        args.web_workers,
        args.node_workers,
        args.api_workers,
        args.threads,
        args.api_threads,
        args.pagopa_on_web,
        not args.no_redis,
    )
    selected = list(chosen.values()) if args.layout == "both" else [chosen[args.layout]]
    if nginx_binary() is None or (any(s.redis for s in selected) and redis_binary() is None):
        sys.exit("nginx and redis-server are needed: apt-get install nginx redis-server")

    import sqlalchemy as sa

    from ztl import create_app

    workdir = Path(tempfile.mkdtemp(prefix="ztl-bench-load-"))
    schema = f"bench_load_{random.randrange(10**8)}"
    if args.database_url:
        engine = sa.create_engine(args.database_url)
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        separator = "&" if "?" in args.database_url else "?"
        url = f"{args.database_url}{separator}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    stack = contextlib.ExitStack()
    settings: dict[str, str] = {}
    intermediary = None
    if args.payments and not args.no_writes:
        from tests.payment_intermediary.server import run_intermediary

        intermediary = stack.enter_context(
            run_intermediary(
                creditor=CREDITOR,
                segregation_code=SEGREGATION,
                user=PAGOPA_USER,
                password=PAGOPA_PASSWORD,
                # Never called: the notices are paid without notifying, wrk sends the notices.
                notify_base=f"http://127.0.0.1:{_free_port()}/api/v1/pagopa",
                notify_user=NOTIFY_USER,
                notify_password=NOTIFY_PASSWORD,
            )
        )
        settings = pagopa_settings(intermediary)
    env = {
        **os.environ,
        **settings,
        "DATABASE_URL": url,
        "ZTL_INSTANCE_PATH": str(workdir),  # the same keys and uploads on every node
        "ZTL_SECRET_KEY": "bench-secret",
        "ZTL_API_RATE_PER_MINUTE": "0",
        "ZTL_LOGIN_RATE_PER_MINUTE": "0",
        "FLASK_APP": "ztl:create_app()",
    }
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": str(workdir),
            **settings,
        }
    )
    failures: list[str] = []
    finished = False  # logs are kept when the run stopped on an exception
    try:
        workload = prepare(app, args, env, intermediary, [s.name for s in selected])
        sent = sum(len(n) for n in workload.notifications.values())
        paced = ", ".join(
            f"{what} {f'paced at {rate:,.0f}/s' if rate > 0 else 'as fast as answered'}"
            for what, rate in (
                ("plate checks", args.police_rate),
                ("notifications", args.payment_rate),
            )
        )
        print(
            f"python {sys.version.split()[0]}, {'PostgreSQL' if args.database_url else 'SQLite'}; "
            f"{args.permits:,} permits, {args.applications:,} generated applications, {sent} "
            f"daily permits paid through the test intermediary (split between the layouts); one "
            f"wrk per kind (1 thread, {CONNECTIONS} connections) at once on loopback through "
            f"nginx, {paced}; {WARM_UP_SECONDS} s warm-up then {args.seconds} s per layout"
        )
        results: dict[str, dict[str, Reading]] = {}
        for number, layout in enumerate(selected, start=1):
            print(f"{layout.name}: {layout.describe()}")
            with serve(layout, env, workdir, args.web_nice) as serving:
                results[layout.name] = measure(serving, workload, _writer(number), workdir)
                dead = serving.dead_nodes()
                if serving.redis_url:
                    commands = redis_commands(serving.redis_url)
                    print(
                        f"  Redis served {commands if commands is not None else '?'} commands"
                        f"{' (the app does not use ZTL_REDIS_URL yet)' if commands == 0 else ''}; "
                        f"{'a' if serving.jobs_worker else 'no'} `ztl jobs worker` beside the nodes"
                    )
            if dead:
                failures.append(f"{layout.name}: {', '.join(dead)} died under load")
        kinds = list(next(iter(results.values())))
        print()
        for line in table(results, kinds):
            print(line)
        verdicts, met = police_verdicts(results)
        for line in verdicts:
            print(line)
        if not met:
            failures.append(f"plate checks over {POLICE_P99_TARGET_MS:.0f} ms at p99")
        if any(r.errors for readings in results.values() for r in readings.values()):
            failures.append("errors under load (the target is none)")
        if sent:
            summary, consistent = _paid_summary(app)
            print(f"  {summary}")
            if not consistent:
                failures.append("a notice paid without its receipt accepted once")
        finished = True
    finally:
        stack.close()
        with app.app_context():
            from ztl.extensions import db

            db.engine.dispose()
        if args.database_url:
            engine = sa.create_engine(args.database_url)
            with engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()
        if args.keep_logs or failures or not finished:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        sys.exit("; ".join(failures) + ": see the figures above")


if __name__ == "__main__":
    main()
