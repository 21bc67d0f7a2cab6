"""How long a permit change committed by one process takes to reach another process's enforcement
index: polling the database version (one machine) against notices over a shared Redis (nodes).

Usage: .venv/bin/python bench/staleness.py [--database-url postgresql://...] [--changes 40]

For each layout, in one run: a city of generated permits; a writer process (this script with
--writer, another process as another node would be) changes one permit at a time, every
`--interval` seconds, and prints the instant of each commit; this process watches its own index
(the same `current_index` a plate check uses) and notes the instant each change shows in it. The
staleness of a change is the difference (both clocks are this machine's). Printed per layout:
median, 95th percentile and largest, in milliseconds.
  polling   no ZTL_REDIS_URL, ZTL_ENFORCEMENT_REFRESH_SECONDS at its default (0.1 s)
  notices   ZTL_REDIS_URL set (a redis-server of the bench's own): the writer's commit publishes
            a notice, the index re-reads the version when it arrives
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from enforcement import ROOT, _plate, bench_database, build_city

sys.path.insert(0, str(ROOT))


def writer(count: int, interval: float) -> None:
    """Another process: permit i (1..count) ends yesterday, one commit each; prints 'i instant'."""
    from ztl import create_app
    from ztl.extensions import db
    from ztl.infrastructure.unit_of_work import unit_of_work
    from ztl.models import Permit

    app = create_app()
    with app.app_context():
        for permit_id in range(1, count + 1):
            time.sleep(interval)
            with unit_of_work() as session:
                permit = session.get(Permit, permit_id)
                assert permit is not None
                permit.valid_to = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
            print(permit_id, time.time(), flush=True)
            db.session.remove()


def measure(app: object, env: dict[str, str], count: int, interval: float) -> list[float]:
    """Staleness in seconds of each of `count` changes made by a writer process."""
    from ztl.enforcement.holder import current_index
    from ztl.extensions import db

    committed: dict[int, float] = {}
    seen: dict[int, float] = {}
    with app.app_context():  # type: ignore[attr-defined]
        current_index(db.session)  # loaded before the first change
        if env.get("ZTL_REDIS_URL"):
            from ztl.cluster.notices import listening

            while not listening():
                time.sleep(0.01)
        process = subprocess.Popen(
            [sys.executable, __file__, "--writer", "--changes", str(count),
             "--interval", str(interval)],
            env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                permit_id, instant = line.split()
                committed[int(permit_id)] = float(instant)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        pending = set(range(1, count + 1))
        deadline = time.monotonic() + count * interval + 60
        while pending and time.monotonic() < deadline:
            index = current_index(db.session)
            now = time.time()
            for permit_id in list(pending):
                grants = index.grants(_plate(permit_id * 2))
                if any(g.permit_id == permit_id and g.end < now - 3600 for g in grants):
                    seen[permit_id] = now
                    pending.discard(permit_id)
            db.session.rollback()  # the next read sees what was committed since
            time.sleep(0.0005)
        process.wait(30)
        reader.join(5)
    return [seen[i] - committed[i] for i in sorted(seen) if i in committed]


def summary(label: str, values: list[float], count: int) -> str:
    if not values:
        return f"{label:8}  no change seen"
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (
        f"{label:8}  {len(ms)}/{count} changes seen: median {statistics.median(ms):7.1f} ms, "
        f"p95 {p95:7.1f} ms, max {ms[-1]:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.15)
    parser.add_argument("--permits", type=int, default=20_000)
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(args.changes, args.interval)
        return

    from tests.cluster_nodes import start_redis

    lines = []
    for layout in ("polling", "notices"):
        with bench_database(args.database_url, f"stale{layout}") as (app, env, workdir, pg):
            build_city(app, args.permits)
            redis = None
            if layout == "notices":
                redis = start_redis(workdir / "redis")
                app.config["ZTL_REDIS_URL"] = env["ZTL_REDIS_URL"] = redis.url
            try:
                values = measure(app, env, args.changes, args.interval)
            finally:
                if redis is not None:
                    redis.stop()
            engine = "PostgreSQL" if pg else "SQLite"
            lines.append(summary(layout, values, args.changes))
            print(lines[-1], f"({engine}, {args.permits:,} permits)", flush=True)
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; one change every "
        f"{args.interval} s by another process; refresh interval 0.1 s when polling"
    )


if __name__ == "__main__":
    main()
