"""Benchmark of `ztl registry import vehicles`: rows per second and peak memory at two file sizes.

Usage: .venv/bin/python bench/import_registry.py [--rows 1000000] [--small 250000]

Each size runs in a child process of its own (so ru_maxrss, a per-process high-water mark, is that
run's peak): the child generates a vehicles file in the registry format to a temporary folder
(streamed, never held in memory), creates a fresh SQLite database there with the migrations, and
imports the file through `import_registry`, the function the CLI calls. Generation is not timed.
Flat peak memory between the two sizes shows the import holds a batch, not the file.

The data looks like a city's plate register: current-format plates (unique), owners drawn from a
pool of people (codici fiscali of ztl.demo.generator, some omocodic) with fleets owned by firms (partite IVA); a tenth of
the vehicles are leased or company cars with a person as holder. Check characters come from stdnum.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from ztl.demo.generator import HEADERS, car_plate, codice_fiscale, partita_iva

PLATE_SPACE = 22**4 * 1000  # current-format car plates (22 letters: no I, O, Q, U)
PLATE_STRIDE = 104_729  # a prime not dividing PLATE_SPACE: i -> i * stride is a permutation
CATEGORIES = ("M1", "M1", "M1", "M1", "N1", "L3e", "L1e", "N2")
FUELS = ("petrol", "diesel", "lpg", "cng", "hybrid", "electric")
HEADER = (*HEADERS["vehicles"], "notes")  # an extra column, which the import must ignore


def plate(index: int) -> str:
    """Plates in scattered order (as a real register's are), not sorted: honest B-tree inserts."""
    return car_plate((index * PLATE_STRIDE) % PLATE_SPACE)


def generate(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    people = max(rows * 7 // 10, 1)
    firms = max(rows // 500, 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index in range(rows):
            usage, holder = "owned", ""
            roll = rng.random()
            if roll < 0.05:
                owner = partita_iva(rng.randrange(firms))
                usage = "company"
            elif roll < 0.10:
                owner = partita_iva(rng.randrange(firms))
                usage = "leasing"
                holder = codice_fiscale(rng.randrange(people))
            else:
                owner = codice_fiscale(rng.randrange(people))
            writer.writerow(
                (
                    plate(index),
                    rng.choice(CATEGORIES),
                    rng.choice(FUELS),
                    rng.randint(0, 6),
                    rng.randint(700, 3500),
                    owner,
                    holder,
                    usage,
                    "active" if roll < 0.97 else "deregistered",
                    "",
                )
            )


def run_one(rows: int, trace: bool) -> dict[str, float]:
    """Generate, migrate, import: in this process, which must be a fresh one."""
    from flask_migrate import upgrade

    from ztl import create_app
    from ztl.infrastructure.unit_of_work import Actor
    from ztl.registries.importer import import_registry

    with tempfile.TemporaryDirectory(prefix="ztl-bench-") as folder:
        base = Path(folder)
        source = base / "vehicles.csv"
        generate(source, rows)
        app = create_app(
            {
                "SECRET_KEY": "bench-only",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'bench.sqlite3'}",
                "INSTANCE_PATH": str(base / "instance"),
            }
        )
        with app.app_context():
            upgrade()
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            result = import_registry("vehicles", source, actor=Actor.cli())
            elapsed = time.perf_counter() - started
            traced = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
        assert result.rows_imported == rows, result
    return {
        "rows": rows,
        "seconds": elapsed,
        "rows_per_second": rows / elapsed,
        "rss_before_mib": rss_before,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "tracemalloc_peak_mib": traced,
        "file_mib": 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the large file")
    parser.add_argument("--small", type=int, default=250_000, help="rows of the small file")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.tracemalloc)))
        return
    print(f"python {sys.version.split()[0]}, SQLite, one process per size")
    print(f"{'rows':>10} {'seconds':>8} {'rows/s':>9} {'RSS before':>11} {'peak RSS':>9}", end="")
    print(f" {'tracemalloc peak':>17}" if args.tracemalloc else "")
    for rows in (args.small, args.rows):
        command = [sys.executable, __file__, "--one", str(rows)]
        if args.tracemalloc:
            command.append("--tracemalloc")
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        line = (
            f"{r['rows']:>10,} {r['seconds']:>8.1f} {r['rows_per_second']:>9,.0f} "
            f"{r['rss_before_mib']:>8.0f} MiB {r['peak_rss_mib']:>5.0f} MiB"
        )
        if args.tracemalloc:
            line += f" {r['tracemalloc_peak_mib']:>13.1f} MiB"
        print(line)


if __name__ == "__main__":
    main()
