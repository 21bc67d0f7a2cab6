"""A mixed load against gunicorn: residents, clerks and police at the same time, reads and writes.

Usage: .venv/bin/python bench/load.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
       [--seconds 120] [--permits 100000] [--applications 20000] [--threads N] [--api-workers N]
       [--no-writes] [--payments N]

The demo city plus generated permits and applications, on PostgreSQL in a schema of its own, or
without --database-url on SQLite in a temporary folder (the engine `make run` serves); gunicorn with
2 workers; then one `wrk` process per kind of request at once on loopback, each with its own
connections for the whole run:
  resident  GET /area-personale/            (a signed-in resident's dashboard)
  clerk     GET /ufficio/                   (a signed-in clerk's queue)
  police    GET /api/v1/authorizations/...  (a gate token's plate checks)
  drafts    POST /area-personale/domande/nuova/G%2FA (another resident saves a new draft: three
            write transactions each, the form's claim, the draft and its events, the claim's end)
  payments  POST /api/v1/pagopa/pagamenti/... (the pagoPA intermediary's notifications of PAYMENTS
            daily permits paid: the first of each issues the permit, the rest are replays, each one
            recorded; the payment provider is `pagopa` against the test intermediary of
            tests/payment_intermediary, where the applications were submitted beforehand)
Prints, per kind, requests per second, errors (non-2xx/3xx answers and socket errors) and p99
latency; exits 1 when there was any error (issue 7's target: none in a 2-minute mixed load). A
10-second warm-up, not measured, comes first.
Rate limits are off (the load is one client per kind, which a limit would rightly throttle).
Needs wrk (Debian package wrk).
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
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from enforcement import BIN, ROOT, _free_port, build_city, wait_for_port

sys.path.insert(0, str(ROOT))

WARM_UP_SECONDS = 10
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


def _gunicorn(
    port: int, workers: int, threads: int, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """gunicorn serving the app on 127.0.0.1:port, once it accepts connections."""
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "ztl:create_app()"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(log, "w"),  # noqa: SIM115
    )  # fmt: skip
    wait_for_port(port)
    return server


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


def _first_notification(port: int, notification: tuple[str, str]) -> None:
    """One notification before the load, to stop early with the answer when it is refused."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    basic = base64.b64encode(f"{NOTIFY_USER}:{NOTIFY_PASSWORD}".encode()).decode()
    path, body = notification
    headers = {"Content-Type": "application/json", "Authorization": f"Basic {basic}"}
    connection.request("POST", path, body=body.encode(), headers=headers)
    answer = connection.getresponse()
    text = answer.read().decode()
    if answer.status != 201:
        sys.exit(f"the first notification was answered {answer.status}: {text[:500]}")


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


def _payments_script(workdir: Path, notifications: list[tuple[str, str]]) -> Path:
    items = ", ".join(f"{{{_lua_string(p)}, {_lua_string(b)}}}" for p, b in notifications)
    script = workdir / "payments.lua"
    script.write_text(PAYMENTS_LUA.replace("{NOTIFICATIONS}", "{" + items + "}"))
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


def _wrk(url: str, header: str, seconds: int, script: Path | None = None) -> subprocess.Popen[str]:
    command = ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "-H", header, url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _figures(output: str) -> tuple[float, int, str, str]:
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
    return rate, errors, p99.group(1) if p99 else "?", detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://... (a schema is made); default SQLite in a temporary folder",
    )
    parser.add_argument("--no-writes", action="store_true", help="only the three read kinds")
    parser.add_argument(
        "--payments",
        type=int,
        default=200,
        help="daily permits paid through the test intermediary, whose notifications are sent; at "
        "most the register's cars the daily permit admits (85 in the demo, one more drafts)",
    )
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--permits", type=int, default=100_000)
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)"
    )
    parser.add_argument(
        "--api-workers",
        type=int,
        default=0,
        help="serve the police checks from a second gunicorn with this many workers (0: one server)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    import sqlalchemy as sa
    from flask_migrate import upgrade

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
    port = _free_port()
    payments = args.payments if not args.no_writes else 0
    stack = contextlib.ExitStack()
    settings: dict[str, str] = {}
    intermediary = None
    if payments:
        from tests.payment_intermediary.server import run_intermediary

        intermediary = stack.enter_context(
            run_intermediary(
                creditor=CREDITOR,
                segregation_code=SEGREGATION,
                user=PAGOPA_USER,
                password=PAGOPA_PASSWORD,
                notify_base=f"http://127.0.0.1:{port}/api/v1/pagopa",
                notify_user=NOTIFY_USER,
                notify_password=NOTIFY_PASSWORD,
            )
        )
        settings = pagopa_settings(intermediary)
    env = {
        **os.environ,
        **settings,
        "DATABASE_URL": url,
        "ZTL_INSTANCE_PATH": str(workdir),
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
    servers: list[subprocess.Popen[bytes]] = []
    failed = True
    try:
        with app.app_context():
            upgrade()
            from ztl.accounts.staff import create_user
            from ztl.demo.loader import load_demo

            load_demo()
            create_user("resident", "resident@load.example.org", PASSWORD, "Resident")
            create_user("clerk", "clerk@load.example.org", PASSWORD, "Clerk")
            from ztl.demo.generator import codice_fiscale

            create_user(
                "resident",
                "writer@load.example.org",
                PASSWORD,
                "Writer",
                codice_fiscale=codice_fiscale(1),
            )
            create_user(
                "resident",
                "payer@load.example.org",
                PASSWORD,
                "Payer",
                codice_fiscale=codice_fiscale(7_777),  # none of the generated applications
            )
        plates = build_city(app, args.permits)
        add_applications(app, args.applications)
        registered = registered_plates(app, payments * 6 + 1)  # some fail the daily checks
        notifications = (
            paid_notifications(app, intermediary, registered[1:], payments) if payments else []
        )
        if notifications or payments:
            # Paid daily permits are issued, sealed and signed: the keys come first.
            subprocess.run(
                [str(BIN / "ztl"), "keys", "init"], env=env, check=True, capture_output=True
            )
        token = subprocess.run(
            [str(BIN / "ztl"), "tokens", "create", "--role", "gate", "load-gate"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        secret = re.search(r"(ztl_\S+)", token).group(1)  # type: ignore[union-attr]
        server = _gunicorn(port, 2, args.threads, env, workdir / "gunicorn.log")
        servers.append(server)
        base = api_base = f"http://127.0.0.1:{port}"
        if args.api_workers:  # the API on a gunicorn of its own, as a proxy would route /api/
            api_port = _free_port()
            servers.append(_gunicorn(api_port, args.api_workers, 1, env, workdir / "api.log"))
            api_base = f"http://127.0.0.1:{api_port}"
        kinds = {
            "resident dashboard": (f"{base}/area-personale/", f"Cookie: {sign_in(port, 'resident@load.example.org')}"),
            "clerk queue": (f"{base}/ufficio/", f"Cookie: {sign_in(port, 'clerk@load.example.org')}"),
            "police plate check": (
                f"{api_base}/api/v1/authorizations/{plates[len(plates) // 3]}?zone=A",
                f"Authorization: Bearer {secret}",
            ),
        }  # fmt: skip
        scripts: dict[str, Path] = {}
        if not args.no_writes:
            script, writer = _drafts_script(
                workdir, port, sign_in(port, "writer@load.example.org"), registered[0]
            )
            kinds["resident new draft"] = (
                f"{base}/area-personale/domande/nuova/G%2FA",
                f"Cookie: {writer}",
            )
            scripts["resident new draft"] = script
        if notifications:
            _first_notification(port, notifications[0])
            basic = base64.b64encode(f"{NOTIFY_USER}:{NOTIFY_PASSWORD}".encode()).decode()
            kinds["pagoPA notification"] = (
                f"{base}/api/v1/pagopa",
                f"Authorization: Basic {basic}",
            )
            scripts["pagoPA notification"] = _payments_script(workdir, notifications)
        engine_name = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"python {sys.version.split()[0]}, {engine_name}, gunicorn 2 workers x {args.threads} "
            f"thread{'s' if args.threads > 1 else ''}"
            f"{f' + {args.api_workers} for the API' if args.api_workers else ''}; {args.permits:,} "
            f"permits, {args.applications:,} generated applications, {len(notifications)} daily "
            f"permits paid through the test intermediary; {len(kinds)} x wrk (1 thread, 8 "
            f"connections) for {args.seconds} s at once on loopback"
        )
        # Warm-up, not measured: each worker builds its enforcement index (about 2 s for 100,000
        # permits) and fills its caches on its first requests; a cold start is not the load.
        warm = {
            name: _wrk(u, h, WARM_UP_SECONDS, scripts.get(name)) for name, (u, h) in kinds.items()
        }
        for process in warm.values():
            process.communicate(timeout=WARM_UP_SECONDS + 60)
        running = {
            name: _wrk(u, h, args.seconds, scripts.get(name)) for name, (u, h) in kinds.items()
        }
        total_rate, total_errors = 0.0, 0
        for name, process in running.items():
            output, _ = process.communicate(timeout=args.seconds + 60)
            rate, errors, p99, detail = _figures(output)
            total_rate += rate
            total_errors += errors
            print(f"  {name:<20} {rate:8,.0f} req/s   errors {errors:>4}{detail}   p99 {p99}")
        print(f"  {'all':<20} {total_rate:8,.0f} req/s   errors {total_errors:>4}")
        failed = total_errors > 0
        if notifications:
            summary, consistent = _paid_summary(app)
            print(f"  {summary}")
            failed = failed or not consistent
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=20)
        stack.close()
        with app.app_context():
            from ztl.extensions import db

            db.engine.dispose()
        if args.database_url:
            engine = sa.create_engine(args.database_url)
            with engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        sys.exit("errors under load (the target is none): see the figures above")


if __name__ == "__main__":
    main()
