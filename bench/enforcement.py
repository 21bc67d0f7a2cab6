"""Benchmark of enforcement on a generated city with 100,000 active permits.

Usage: .venv/bin/python bench/enforcement.py [--permits 100000] [--transits 1000000]
       [--database-url URL] [--seconds 10] [--skip-http]

Prints (issue 6 targets in brackets):
  1. index checks per second in one process                              [>= 300,000/s]
  2. GET /api/v1/authorizations/{plate} under gunicorn (2 workers) as a ratio of a bare Flask
     JSON endpoint served by the same gunicorn in the same run, load from wrk on loopback [>= 0.75]
  3. p99 latency of the authorization endpoint at half that throughput (paced client)
  4. seconds for `ztl transits check` on a file of 1,000,000 transits      [<= 10 s]

The city is inserted in bulk (permits, plates, zones, windows) as years of issuance would leave it;
signing 100,000 PDFs is bench/seals.py's business, not this one's. The HTTP part needs `wrk`
(Debian package wrk) and is skipped, saying so, without it. With --database-url (PostgreSQL) the
data lives in a schema of its own, dropped at the end. The API's rate limit is turned off.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GATES = ("A1", "A2", "A3", "A4", "A5", "A6")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 20) -> None:
    """Until a server accepts connections on 127.0.0.1:port (gunicorn takes a moment to boot)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)


def _plate(i: int) -> str:
    letters = "ABCDEFGHJKLMNPRSTVWXYZ"
    a, b, c, d = (i // 1000) % 22, (i // 22000) % 22, (i // 484000) % 22, i % 1000
    return f"{letters[c]}{letters[b]}{d:03d}{letters[a]}{letters[(a + b) % 22]}"


def build_city(app: object, permits: int) -> list[str]:
    """Zones, gates, categories, then `permits` active permits inserted in bulk; their plates."""
    import sqlalchemy as sa
    from sqlalchemy import select

    from ztl.demo.loader import load_city_configuration
    from ztl.extensions import db
    from ztl.models import (
        Category,
        Permit,
        PermitNumberCounter,
        PermitPlate,
        PermitWindow,
        PermitZone,
        Zone,
    )

    with app.app_context():  # type: ignore[attr-defined]
        load_city_configuration()
        categories = list(db.session.scalars(select(Category)))
        zones = {z.code: z.id for z in db.session.scalars(select(Zone))}
        rng = random.Random(6)
        now = dt.datetime.now(dt.UTC)
        permit_rows, plate_rows, zone_rows, window_rows, plates = [], [], [], [], []
        for i in range(1, permits + 1):
            category = categories[i % len(categories)]
            start = now - dt.timedelta(days=rng.randrange(1, 300))
            permit_rows.append(
                {
                    "id": i,
                    "number": f"PO-2026-{i:06d}",
                    "year": 2026,
                    "serial": i,
                    "holder_id": f"H{i:015d}",
                    "category_id": category.id,
                    "status": "active",
                    "valid_from": start,
                    "valid_to": start + dt.timedelta(days=365),
                    "issued_at": start,
                    "fee_cents": 0,
                }
            )
            for n in range(1 + (i % 7 == 0)):
                plate = _plate(i * 2 + n)
                plates.append(plate)
                plate_rows.append({"permit_id": i, "plate": plate, "country": "IT", "position": n})
            for code in ("A",) if i % 3 else ("A", "B"):
                zone_rows.append({"permit_id": i, "zone_id": zones[code]})
            if i % 5 == 0:  # a fifth of the permits hold daily windows, some across midnight
                window_rows.append(
                    {"permit_id": i, "start_minute": 7 * 60, "end_minute": 20 * 60, "weekdays": 31}
                )
                window_rows.append(
                    {"permit_id": i, "start_minute": 22 * 60, "end_minute": 120, "weekdays": 127}
                )
        for table, rows in (
            (Permit.__table__, permit_rows),
            (PermitPlate.__table__, plate_rows),
            (PermitZone.__table__, zone_rows),
            (PermitWindow.__table__, window_rows),
        ):
            for start in range(0, len(rows), 10_000):
                db.session.execute(sa.insert(table), rows[start : start + 10_000])
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("SELECT setval('permit_id_seq', :n)"), {"n": permits})
        # The numbers PO-2026-000001... are taken: a permit issued during a load comes after them.
        db.session.execute(
            sa.insert(PermitNumberCounter.__table__), [{"year": 2026, "last_serial": permits}]
        )
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        return plates


def bench_index(app: object, plates: list[str], checks: int) -> None:
    """Checks with Prato's calendars (A always, B 07:30-18:30 every day), then the same questions
    with Firenze's calendars on zones A and B (weekday and Saturday windows, off on holidays,
    summer nights from the first Thursday of April to the first Sunday of October)."""
    from ztl.enforcement.holder import current_index
    from ztl.enforcement.index import ZonePolicy
    from ztl.extensions import db
    from ztl.rules.calendar import ZoneCalendar
    from ztl.rules.loader import DEFAULT_RULES, load_rules

    with app.app_context():  # type: ignore[attr-defined]
        started = time.perf_counter()
        index = current_index(db.session)
        built = time.perf_counter() - started
        print(f"index of {len(index):,} permits ({index.plates():,} plates) built in {built:.2f} s")
        prato = dict(index.zones)
        firenze_rules = load_rules(DEFAULT_RULES.parent / "firenze.toml")
        firenze = {
            code: ZonePolicy(firenze_rules.zone(code).calendar, policy.retroactive_seconds)
            for code, policy in prato.items()
        }
        # The same questions (instants over the last 3 days, a gate's recent readings) under
        # both cities' calendars.
        for name, zones in (("Prato", prato), ("Firenze", firenze)):
            index.zones = zones
            _time_checks(index, plates, checks, f"{name}'s calendars")
        # What a calendar costs when a local day is first asked about (then it is cached per
        # zone and day): two years of days worked out from scratch.
        calendar = firenze_rules.zone("A").calendar
        first = dt.date(2026, 1, 1)
        started = time.perf_counter()
        for n in range(730):
            fresh = ZoneCalendar(calendar.entries, calendar.patron_saint)  # an empty day cache
            fresh.intervals_on(first + dt.timedelta(days=n))
        each = (time.perf_counter() - started) / 730 * 1e6
        print(
            f"  Firenze's sector A, a local day worked out in {each:.0f} us (once per zone and day)"
        )


def _time_checks(index: object, plates: list[str], checks: int, label: str) -> None:
    """`checks` questions (half of them known plates, 80% in zone A) over the last 3 days."""
    rng = random.Random(7)
    now = time.time()
    questions = [
        (
            rng.choice(plates) if rng.random() < 0.5 else _plate(10_000_000 + i),
            "A" if rng.random() < 0.8 else "B",
            now - rng.randrange(0, 3 * 86400),
        )
        for i in range(checks)
    ]
    check = index.check  # type: ignore[attr-defined]
    authorized = 0
    started = time.perf_counter()
    for plate, zone, ts in questions:
        if check(plate, zone, ts, now).authorized:
            authorized += 1
    elapsed = time.perf_counter() - started
    print(
        f"  {label}: {checks:,} checks in {elapsed:.2f} s: {checks / elapsed:,.0f} checks/s "
        f"in one process (target >= 300,000); {authorized:,} authorized"
    )


def bench_transit_file(env: dict[str, str], plates: list[str], rows: int, workdir: Path) -> None:
    rng = random.Random(8)
    now = dt.datetime.now(dt.UTC)
    path = workdir / "transits.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["plate", "gate", "at"])
        for i in range(rows):
            plate = rng.choice(plates) if rng.random() < 0.7 else _plate(20_000_000 + i % 50_000)
            at = now - dt.timedelta(seconds=rng.randrange(0, 5 * 86400))
            writer.writerow([plate, rng.choice(GATES), at.strftime("%Y-%m-%dT%H:%M:%SZ")])
    started = time.perf_counter()
    result = subprocess.run(
        [
            str(BIN / "ztl"),
            "transits",
            "check",
            str(path),
            "--out",
            str(workdir / "violations.csv"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    summary = result.stderr.strip().splitlines()[-2:] if result.stderr else []
    print(
        f"`ztl transits check` on {rows:,} transits: {elapsed:.2f} s, exit {result.returncode} "
        f"(target <= 10 s, process start and index load included)"
    )
    for line in summary:
        print(f"  {line}")


def _wrk(url: str, headers: dict[str, str], seconds: int) -> tuple[float, str, int]:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return rate, errors.group(1) if errors else "0", total


def _paced_p99(host: str, port: int, path: str, headers: dict[str, str], rate: float, seconds: int) -> tuple[float, float, int, int]:  # fmt: skip
    """Requests at a fixed total rate from 8 threads: latency p50 and p99 in ms, errors, count."""
    threads = 8
    interval = threads / rate
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker(offset: float) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection(host, port, timeout=10)
        deadline = time.perf_counter() + seconds
        next_at = time.perf_counter() + offset
        mine: list[float] = []
        while next_at < deadline:
            pause = next_at - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                with lock:
                    errors += 1
            next_at += interval
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i * interval / threads,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    return statistics.median(ordered), p99, errors, len(ordered)


def bench_http(env: dict[str, str], plates: list[str], seconds: int, workdir: Path) -> None:
    if shutil.which("wrk") is None:
        print("HTTP part skipped: wrk is not installed (apt-get install wrk)")
        return
    token = subprocess.run(
        [str(BIN / "ztl"), "tokens", "create", "--role", "gate", "bench-gate"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    secret = re.search(r"(ztl_\S+)", token).group(1)  # type: ignore[union-attr]
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--chdir", str(ROOT / "bench"), "enforcement_wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(workdir / "gunicorn.log", "w"),  # noqa: SIM115
    )  # fmt: skip
    try:
        wait_for_port(port)
        auth = {"Authorization": f"Bearer {secret}"}
        plate = plates[len(plates) // 2]
        path = f"/api/v1/authorizations/{plate}?zone=A"
        base = f"http://127.0.0.1:{port}"
        _wrk(f"{base}/bench/bare", {}, 2)  # warm both workers
        warm = _wrk(f"{base}{path}", auth, 2)[2]
        bare, bare_errors, _ = _wrk(f"{base}/bench/bare", {}, seconds)
        api, api_errors, measured = _wrk(f"{base}{path}", auth, seconds)
        print(
            f"gunicorn 2 workers, wrk 2 threads 32 connections {seconds} s on loopback: "
            f"bare Flask JSON {bare:,.0f} req/s, authorization {api:,.0f} req/s, "
            f"ratio {api / bare:.2f} (target >= 0.75); non-2xx {bare_errors} and {api_errors}"
        )
        p50, p99, errors, paced = _paced_p99("127.0.0.1", port, path, auth, api / 2, seconds)
        print(
            f"at half that load ({api / 2:,.0f} req/s, paced): p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
            f"{errors} errors"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    asked = warm + measured + paced
    print(
        f"plate lookups recorded: {_lookups(env):,}; authorization requests counted by the clients: "
        f"{asked:,} (wrk leaves out those still in flight when it stops)"
    )


def _lookups(env: dict[str, str]) -> int:
    """Rows in plate_lookup, read by a fresh process (the server's batches were flushed at exit)."""
    code = (
        "from ztl import create_app; from ztl.extensions import db; from ztl.models import PlateLookup;"
        "from sqlalchemy import func, select; app = create_app();"
        "ctx = app.app_context(); ctx.push();"
        "print(db.session.scalar(select(func.count()).select_from(PlateLookup)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permits", type=int, default=100_000)
    parser.add_argument("--transits", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()

    with bench_database(args.database_url, "enforcement") as (app, env, workdir, postgres):
        started = time.perf_counter()
        plates = build_city(app, args.permits)
        print(
            f"python {sys.version.split()[0]}, {'PostgreSQL' if postgres else 'SQLite'}; "
            f"{args.permits:,} active permits inserted in {time.perf_counter() - started:.1f} s"
        )
        bench_index(app, plates, args.checks)
        if not args.skip_http:
            bench_http(env, plates, args.seconds, workdir)
        bench_transit_file(env, plates, args.transits, workdir)


@contextlib.contextmanager
def bench_database(
    database_url: str | None, name: str
) -> Iterator[tuple[Any, dict[str, str], Path, bool]]:
    """A migrated database for a benchmark (the app, the environment of its subprocesses, the
    work folder, whether it is PostgreSQL): SQLite in a fresh folder, or with `database_url` a
    PostgreSQL schema of its own, dropped at the end. The API's rate limit is off."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from ztl import create_app

    workdir = Path(tempfile.mkdtemp(prefix=f"ztl-bench-{name}-"))
    url = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    schema = None
    if database_url:
        schema = f"bench_{name[:8]}_{random.randrange(10**8)}"
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}options=-csearch_path%3D{schema}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ZTL_INSTANCE_PATH": str(workdir),
        "ZTL_SECRET_KEY": "bench-secret",
        "ZTL_API_RATE_PER_MINUTE": "0",
        "FLASK_APP": "ztl:create_app()",
    }
    os.environ.update({k: env[k] for k in ("ZTL_API_RATE_PER_MINUTE",)})
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(workdir)}
    )
    try:
        with app.app_context():
            upgrade()
        yield app, env, workdir, schema is not None
    finally:
        with app.app_context():
            from ztl.extensions import db

            db.engine.dispose()
        if schema and database_url:
            engine = sa.create_engine(database_url)
            with engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


if __name__ == "__main__":
    main()
