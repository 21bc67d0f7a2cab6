"""What the idempotency key of a form costs: the same POST with its key claimed and without.

Usage: .venv/bin/python bench/form_posts.py [--posts 300] [--database-url postgresql://...]

The demo city in a fresh SQLite database (or PostgreSQL with --database-url, in a schema of its
own), a signed-in resident, then --posts new-draft submissions through the Flask app in this
process, alternating rounds of 50 with the key claimed (ztl.web.idempotency, two short extra
transactions) and with the route left unclaimed, so both see the same machine at the same time.
Prints the milliseconds per POST of each and the difference.
"""

from __future__ import annotations

import argparse
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROUND = 50
PASSWORD = "bench-form-password-7"  # noqa: S105 (a throw-away benchmark account)
NEW_DRAFT = "/area-personale/domande/nuova/G%2FA"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from ztl import create_app
    from ztl.web import idempotency

    workdir = Path(tempfile.mkdtemp(prefix="ztl-bench-forms-"))
    schema = f"bench_forms_{random.randrange(10**8)}"
    if args.database_url:
        engine = sa.create_engine(args.database_url)
        with engine.begin() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in args.database_url else "?"
        url = f"{args.database_url}{separator}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "INSTANCE_PATH": str(workdir),
            "ZTL_LOGIN_RATE_PER_MINUTE": 0,
        }
    )
    try:
        with app.app_context():
            upgrade()
            from ztl.accounts.staff import create_user
            from ztl.demo.generator import codice_fiscale
            from ztl.demo.loader import load_demo

            load_demo()
            create_user("resident", "forms@bench.example.org", PASSWORD, "Bench", codice_fiscale(1))
        client = app.test_client()
        page = client.get("/accedi").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        signed = client.post(
            "/accedi",
            data={"csrf_token": token, "email": "forms@bench.example.org", "password": PASSWORD},
        )
        assert signed.status_code == 302, signed.status_code
        page = client.get(NEW_DRAFT).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

        def post() -> None:
            data = {
                "csrf_token": token,
                "plate_1": "AB123CD",
                "validity": "P1D",
                "idempotency_key": secrets.token_urlsafe(24),
            }
            answer = client.post(NEW_DRAFT, data=data)
            assert answer.status_code == 303, answer.status_code

        claimed_rule = idempotency.NOT_CLAIMED
        unclaimed_rule = claimed_rule | {"resident.new_application"}
        for _ in range(ROUND):  # warm-up: caches, the first connections
            post()
        timings: dict[str, list[float]] = {"claimed": [], "unclaimed": []}
        rounds = max(1, args.posts // ROUND)
        for _ in range(rounds):
            for kind, rule in (("claimed", claimed_rule), ("unclaimed", unclaimed_rule)):
                idempotency.NOT_CLAIMED = rule  # type: ignore[misc]
                for _ in range(ROUND):
                    started = time.perf_counter()
                    post()
                    timings[kind].append((time.perf_counter() - started) * 1000)
        idempotency.NOT_CLAIMED = claimed_rule  # type: ignore[misc]
        engine_name = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"python {sys.version.split()[0]}, {engine_name}, {rounds * ROUND} new-draft POSTs "
            "of each kind in alternating rounds of 50, in this process"
        )
        claimed = statistics.median(timings["claimed"])
        unclaimed = statistics.median(timings["unclaimed"])
        print(f"  with the idempotency key claimed   median {claimed:6.2f} ms")
        print(f"  without (route not claimed)        median {unclaimed:6.2f} ms")
        print(f"  the claim costs                           {claimed - unclaimed:6.2f} ms a form")
    finally:
        with app.app_context():
            from ztl.extensions import db

            db.engine.dispose()
        if args.database_url:
            engine = sa.create_engine(args.database_url)
            with engine.begin() as connection:
                connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


if __name__ == "__main__":
    main()
