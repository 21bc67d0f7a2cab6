"""Benchmark of check_eligibility through the service, database included.

Usage: .venv/bin/python bench/eligibility.py [--residents 200000] [--vehicles 150000] [--checks 5000]

Builds a generated city (ztl.demo.generator) in a fresh SQLite database through the real registry
import, then asks residents' permits (category 1) for residents with their own vehicles and daily
permits (G/A) for random plates, through `check_eligibility` exactly as the web, API and CLI do.
Import time is not counted. Prints verdicts per second and the mix of outcomes.
Target (issue 3): at least 2,000 verdicts/s on SQLite in one process.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--vehicles", type=int, default=150_000)
    parser.add_argument("--checks", type=int, default=5_000)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from ztl import create_app
    from ztl.demo.generator import CitySize, generate
    from ztl.demo.loader import load_city_configuration
    from ztl.eligibility.service import EligibilityRequest, PlateInput, check_eligibility
    from ztl.extensions import db
    from ztl.infrastructure.unit_of_work import Actor
    from ztl.registries.importer import import_registry

    with tempfile.TemporaryDirectory(prefix="ztl-bench-") as folder:
        base = Path(folder)
        app = create_app(
            {
                "SECRET_KEY": "bench-only",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'bench.sqlite3'}",
                "INSTANCE_PATH": str(base / "instance"),
            }
        )
        with app.app_context():
            upgrade()
            load_city_configuration()
            size = CitySize(
                args.residents, args.vehicles, args.residents // 50, args.residents // 100
            )
            started = time.perf_counter()
            paths = generate(base / "city", size)
            for kind in ("streets", "residents", "vehicles", "badges", "businesses"):
                import_registry(kind, paths[kind], actor=Actor("bench"))
            print(
                f"city: {args.residents:,} residents, {args.vehicles:,} vehicles "
                f"(generated and imported in {time.perf_counter() - started:.0f} s)"
            )
            rng = random.Random(1)
            with paths["vehicles"].open(encoding="utf-8") as handle:
                owned = [
                    (row["owner_id"], row["plate"])
                    for row in csv.DictReader(handle)
                    if row["usage"] == "owned" and len(row["owner_id"]) == 16
                ]
            asks = []
            for _ in range(args.checks):
                owner, plate = rng.choice(owned)
                if rng.random() < 0.8:
                    asks.append(("1", owner, plate))
                else:
                    asks.append(("G/A", owner, plate))
            at = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
            outcomes: Counter[str] = Counter()
            db.session.remove()
            started = time.perf_counter()
            for category, applicant, plate in asks:
                result = check_eligibility(
                    EligibilityRequest(category, applicant, (PlateInput(plate),), at)
                )
                outcomes[result.verdict.outcome.value] += 1
                db.session.rollback()  # end the read transaction, as each request does
            elapsed = time.perf_counter() - started
    rate = args.checks / elapsed
    print(f"python {sys.version.split()[0]}, SQLite, one process")
    print(
        f"{args.checks:,} verdicts in {elapsed:.2f} s: {rate:,.0f} verdicts/s "
        f"({1000 / rate:.2f} ms each)  target >= 2,000/s"
    )
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


if __name__ == "__main__":
    main()
