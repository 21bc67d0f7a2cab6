"""Benchmark of the busiest pages on a generated city: the clerk queue, a search, a dashboard.

Usage: .venv/bin/python bench/pages.py [--applications 100000] [--requests 200] [--database-url URL]

Builds a fresh SQLite database (or PostgreSQL with --database-url, in a schema of its own) with the
demo city and N applications spread over categories, statuses, zones and 10,000 applicants (bulk
inserts, as years of use would leave them), then requests each page through the Flask app in this
process and prints the server time (the view, the queries and the template; no network) as p50 and
p95. A bare Flask endpoint in the same app and run gives the floor. Target (issue 5): p95 at most
100 ms for each page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

STATUSES = (
    ("under_review", 30),
    ("documents_requested", 5),
    ("issued", 45),
    ("rejected", 8),
    ("withdrawn", 4),
    ("submitted", 5),
    ("draft", 3),
)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return statistics.median(ordered), p95


def _measure(call: Callable[[], object], requests: int) -> tuple[float, float]:
    for _ in range(5):
        call()  # warm caches and the template compiler
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return _percentiles(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade
    from sqlalchemy import select

    from ztl import create_app
    from ztl.accounts.staff import create_user
    from ztl.demo.generator import car_plate, codice_fiscale
    from ztl.demo.loader import load_demo
    from ztl.extensions import db
    from ztl.models import Category, Resident, Zone

    workdir = Path(tempfile.mkdtemp(prefix="ztl-bench-pages-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    schema = None
    if args.database_url:
        schema = f"bench_pages_{random.randrange(10**8)}"
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "INSTANCE_PATH": str(workdir),
        }
    )

    @app.get("/bench-bare")
    def bare() -> dict[str, str]:
        return {"ok": "yes"}

    try:
        with app.app_context():
            upgrade()
            load_demo()
            categories = {c.code: c.id for c in db.session.scalars(select(Category))}
            zones = [z.id for z in db.session.scalars(select(Zone))]
            create_user("clerk", "clerk@bench.example.org", "bench-password-1", "Clerk")
            resident_cf = codice_fiscale(7)
            resident = create_user(
                "resident", "resident@bench.example.org", "bench-password-1", "Resident",
                codice_fiscale=resident_cf,
            )  # fmt: skip
            rng = random.Random(2026)
            now = dt.datetime.now(dt.UTC)
            weights = [w for _, w in STATUSES]
            codes = list(categories)
            app_rows, plate_rows, zone_rows = [], [], []
            started = time.perf_counter()
            for i in range(1, args.applications + 1):
                status = rng.choices([s for s, _ in STATUSES], weights)[0]
                submitted = now - dt.timedelta(days=rng.randrange(0, 700), minutes=i % 1440)
                mine = i % 5000 == 0  # the benchmarked resident has 20 applications
                app_rows.append(
                    {
                        "id": i,
                        "user_id": resident.id if mine else None,
                        "applicant_id": resident_cf if mine else codice_fiscale(i % 10_000),
                        "category_id": categories[rng.choice(codes)],
                        "status": status,
                        "details": {"validity": "P1Y"},
                        "outcome": rng.choice(("eligible", "needs_review", "not_eligible")),
                        "fee_cents": 1500,
                        "stamp_duty_cents": 3200,
                        "created_at": submitted,
                        "updated_at": submitted,
                        "submitted_at": None if status == "draft" else submitted,
                    }
                )
                plate_rows.append(
                    {"application_id": i, "plate": car_plate(6_000_000 + i), "country": "IT", "position": 0}
                )  # fmt: skip
                zone_rows.append({"application_id": i, "zone_id": rng.choice(zones)})
            from ztl.models import Application, ApplicationPlate, ApplicationZone

            for table, rows in (
                (Application.__table__, app_rows),
                (ApplicationPlate.__table__, plate_rows),
                (ApplicationZone.__table__, zone_rows),
            ):
                for start in range(0, len(rows), 10_000):
                    db.session.execute(sa.insert(table), rows[start : start + 10_000])
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                db.session.execute(
                    sa.text("SELECT setval('application_id_seq', :n)"), {"n": args.applications}
                )
                db.session.execute(sa.text("ANALYZE"))
            else:
                db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            loaded = time.perf_counter() - started
            # A surname from the demo's anagrafe whose holder applied (the generated applicants'
            # codici fiscali are the demo's, so its residents are among them).
            surname = db.session.scalars(
                select(Resident.family_name).where(Resident.codice_fiscale == codice_fiscale(1))
            ).one()
            waiting_plate = next(
                r["plate"]
                for r, a in zip(plate_rows, app_rows, strict=True)
                if a["status"] == "under_review"
            )

        clerk_client, resident_client, bare_client = (
            app.test_client(),
            app.test_client(),
            app.test_client(),
        )
        for client, email in (
            (clerk_client, "clerk@bench.example.org"),
            (resident_client, "resident@bench.example.org"),
        ):
            response = client.post(
                "/accedi", data={"email": email, "password": "bench-password-1", "next": ""}
            )
            assert response.status_code == 302, response.status_code

        def get(client: object, path: str, shows: str = "") -> Callable[[], object]:
            """A page request that must succeed and (when given) show `shows`: a filter that
            matched nothing would be fast and prove nothing."""

            def call() -> object:
                response = client.get(path)  # type: ignore[attr-defined]
                assert response.status_code == 200, (path, response.status_code)
                assert shows in response.get_data(as_text=True), (path, shows)
                return response

            return call

        pages = {
            "bare Flask JSON endpoint": get(bare_client, "/bench-bare"),
            "clerk queue (waiting, oldest first)": get(clerk_client, "/ufficio/"),
            "clerk queue filtered (category 1, zone A, older than 30 days)": get(
                clerk_client, "/ufficio/?categoria=1&zona=A&eta=30&stato=all", "1 · Residenti"
            ),
            "search by plate": get(
                clerk_client, f"/ufficio/?q={waiting_plate}&stato=all", waiting_plate
            ),
            "search by surname (prefix, any case)": get(
                clerk_client, f"/ufficio/?q={surname[:4].lower()}", "Domande trovate"
            ),
            "resident dashboard": get(
                resident_client, "/area-personale/", "Le tue domande di permesso, dalla più recente"
            ),
        }
        print(
            f"python {sys.version.split()[0]}, {'PostgreSQL' if args.database_url else 'SQLite'}, "
            f"{args.applications:,} applications loaded in {loaded:.1f} s; "
            f"{args.requests} requests a page, server time in this process"
        )
        for name, call in pages.items():
            p50, p95 = _measure(call, args.requests)
            verdict = "" if name.startswith("bare") else ("  ok" if p95 <= 100 else "  OVER 100 ms")
            print(f"  {name:<64} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms{verdict}")
    finally:
        if schema:
            engine = sa.create_engine(url)
            with engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


if __name__ == "__main__":
    main()
