"""Benchmark of signed permits: issuance (number, seal, PDF, PAdES signature, database) and seal checks.

Usage: .venv/bin/python bench/seals.py [--permits 300] [--verifications 20000] [--database-url URL]

Issues permits through ztl.permits.issuance.create_permit, one transaction each, exactly as an
approval does after its decision (eligibility checks are benchmarked by bench/eligibility.py), on
a fresh SQLite database (or PostgreSQL with --database-url, in a schema of its own), with the demo
city and fresh keys. Then verifies seals with ztl.signing.seal.verify_seal against the published
trust and revocation lists, as the API and `ztl verify` do. Those figures are one process: per core.
Then a renewal campaign's issuance: batches of 200 permits, one transaction each, PDFs rendered and
signed by a pool of --processes processes, as `ztl permits renew-due` does.
Targets (issue 4): at least 20 signed permits/s and 5,000 seal verifications/s per core; 25,000
permits in under 15 minutes on the 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permits", type=int, default=300)
    parser.add_argument("--verifications", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="Signing processes for the campaign figure (batches, as `ztl permits renew-due`).",
    )
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_migrate import upgrade
    from sqlalchemy import select

    from ztl import create_app
    from ztl.demo.loader import load_demo
    from ztl.extensions import db
    from ztl.infrastructure.unit_of_work import Actor, unit_of_work
    from ztl.models import Business, Category, Vehicle
    from ztl.pdf.render import render_permit
    from ztl.permits.issuance import PermitSpec, create_permit
    from ztl.rules.validity import permit_period
    from ztl.seals.keys import key_store
    from ztl.seals.trust_lists import revocation_list_document, trust_list_document
    from ztl.signing.lists import load_revocation_list, load_trust_list
    from ztl.signing.seal import SealCheck, verify_seal

    with tempfile.TemporaryDirectory(prefix="ztl-bench-") as folder:
        base = Path(folder)
        url = f"sqlite:///{base / 'bench.sqlite3'}"
        schema = None
        if args.database_url:
            schema = f"ztl_bench_{secrets.token_hex(3)}"
            admin = sa.create_engine(args.database_url)
            with admin.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            url = f"{args.database_url}?options=-csearch_path%3D{schema}"
        app = create_app(
            {
                "SECRET_KEY": "bench-only",
                "SQLALCHEMY_DATABASE_URI": url,
                "INSTANCE_PATH": str(base / "instance"),
                "ZTL_KEYS_DIR": str(base / "keys"),
            }
        )
        try:
            with app.app_context():
                upgrade()
                load_demo()
                store = key_store()  # ZTL_KEYS_DIR, named after the rules file's municipality
                store.init()
                plates = list(db.session.scalars(select(Vehicle.plate).limit(2000)))
                firm = db.session.scalars(select(Business.partita_iva).limit(1)).one()
                category = db.session.scalars(select(Category).where(Category.code == "4")).one()
                db.session.rollback()
                now = dt.datetime.now(dt.UTC)
                period = permit_period("P1Y", now, ROME)
                random.seed(4)
                _warm_up(
                    create_permit, PermitSpec, category, plates, period, now, unit_of_work, firm
                )
                started = time.perf_counter()
                for i in range(args.permits):
                    spec = PermitSpec(
                        category=db.session.merge(category),
                        holder_id=firm,
                        plates=tuple((p, "IT") for p in random.sample(plates, 2)),
                        zone_codes=("A", "B"),
                        period=period,
                        fee_cents=3000,
                        stamp_duty_cents=3200,
                        holder_name=f"Ditta {i}",
                    )
                    with unit_of_work() as session:
                        create_permit(session, spec, Actor("bench"), dt.datetime.now(dt.UTC))
                issue_seconds = time.perf_counter() - started
                rate = args.permits / issue_seconds

                from ztl.models import Permit

                permits = list(db.session.scalars(select(Permit).limit(args.permits)))
                seals = [p.seal_text or "" for p in permits]
                pdf_sizes = [len(p.pdf or b"") for p in permits]
                render_ms, sign_ms = _breakdown(permits[0], store, render_permit)
                trust = load_trust_list(trust_list_document(), store.root().certificate)
                revocations = load_revocation_list(revocation_list_document(), trust)
                checks = [
                    SealCheck(now + dt.timedelta(hours=random.randint(0, 2000)), zone="A")
                    for _ in range(256)
                ]
                started = time.perf_counter()
                valid = 0
                for i in range(args.verifications):
                    result = verify_seal(
                        seals[i % len(seals)],
                        trust.seal_keys,
                        revocations.revoked,
                        checks[i % len(checks)],
                        ROME,
                    )
                    valid += result.valid
                verify_seconds = time.perf_counter() - started
                campaign = _campaign(
                    args.processes, 4 * args.permits, category, firm, plates, period, base
                )
        finally:
            if schema is not None:
                with admin.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine = "PostgreSQL" if args.database_url else "SQLite"
        print(f"python {sys.version.split()[0]}, {engine}, one process")
        print(
            f"issued {args.permits} signed permits in {issue_seconds:.2f} s: "
            f"{rate:.1f} permits/s per core (target >= 20); "
            f"average PDF {sum(pdf_sizes) / len(pdf_sizes) / 1024:.1f} KiB"
        )
        print(f"  of which render {render_ms:.1f} ms and PAdES signature {sign_ms:.1f} ms a permit")
        print(
            f"  a renewal campaign of 25,000 permits: {25_000 / rate / 60:.1f} min in one process"
        )
        total, seconds = campaign
        print(
            f"campaign batches of 200 with {args.processes} signing processes: {total} signed permits "
            f"in {seconds:.2f} s, {total / seconds:.1f} permits/s; 25,000 permits in "
            f"{25_000 / (total / seconds) / 60:.1f} min (target < 15)"
        )
        print(
            f"verified {args.verifications} seals in {verify_seconds:.2f} s: "
            f"{args.verifications / verify_seconds:,.0f} verifications/s per core (target >= 5,000); "
            f"{valid} valid, {args.verifications - valid} outside their windows or validity"
        )


def _campaign(processes, total, category, firm, plates, period, base):  # type: ignore[no-untyped-def]
    """A renewal campaign's issuance: batches of 200 in one transaction each, PDFs signed by a
    pool of processes (ztl.permits.renewal_campaign does this after re-running each check)."""
    from ztl.extensions import db
    from ztl.infrastructure.unit_of_work import Actor, unit_of_work
    from ztl.pdf.pool import SigningPool
    from ztl.permits.issuance import PermitSpec, create_permits

    rng = random.Random(7)

    def specs(count: int) -> list[PermitSpec]:
        return [
            PermitSpec(
                category=db.session.merge(category),
                holder_id=firm,
                plates=tuple((p, "IT") for p in rng.sample(plates, 2)),
                zone_codes=("A", "B"),
                period=period,
                fee_cents=3000,
                stamp_duty_cents=3200,
                holder_name="Ditta",
            )
            for _ in range(count)
        ]

    with SigningPool(base / "keys", processes) as pool:
        with unit_of_work() as session:  # warm the workers: spawning is not issuance
            create_permits(
                session, specs(2 * processes), Actor("bench"), dt.datetime.now(dt.UTC), pool
            )
        started = time.perf_counter()
        done = 0
        while done < total:
            count = min(200, total - done)
            with unit_of_work() as session:
                create_permits(session, specs(count), Actor("bench"), dt.datetime.now(dt.UTC), pool)
            done += count
        return total, time.perf_counter() - started


def _warm_up(create_permit, spec_type, category, plates, period, now, unit_of_work, firm) -> None:  # type: ignore[no-untyped-def]
    """One permit first: imports, key loading and signer set-up are not issuance."""
    from ztl.extensions import db
    from ztl.infrastructure.unit_of_work import Actor

    spec = spec_type(
        category=db.session.merge(category),
        holder_id=firm,
        plates=((plates[0], "IT"),),
        zone_codes=("A",),
        period=period,
        fee_cents=0,
        stamp_duty_cents=0,
    )
    with unit_of_work() as session:
        create_permit(session, spec, Actor("bench"), now)


def _breakdown(permit, store, render_permit) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from ztl.city.rules_config import current_rules
    from ztl.pdf.render import PermitDocument
    from ztl.pdf.sign import sign_pdf

    rules = current_rules()
    document = PermitDocument(
        rules.name, permit.number, "4", "Aziende", "Businesses",
        tuple(p.plate for p in permit.plates), ("A", "B"), ("07:00-10:00", "12:30-15:30"),
        permit.valid_from, permit.valid_to, permit.issued_at, permit.seal_text,
        "Ditta", "01234567890", "Via Ricasoli 1", 3000, 3200, rules.timezone,
    )  # fmt: skip
    from ztl.pdf.qr import qr_matrix

    started = time.perf_counter()
    for _ in range(20):
        qr_matrix.cache_clear()  # issuance draws each QR once: count its encoding too
        pdf = render_permit(document)
    render = (time.perf_counter() - started) / 20 * 1000
    started = time.perf_counter()
    for _ in range(20):
        sign_pdf(pdf, store.pdf(), store.root().certificate, rules.name)
    sign = (time.perf_counter() - started) / 20 * 1000
    return render, sign


if __name__ == "__main__":
    main()
