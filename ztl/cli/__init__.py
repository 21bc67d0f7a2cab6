"""The `ztl` command line: Flask's CLI (db, run, shell) plus the project's command groups.

Exit status (shared/spec/cli.md): 0 done, 1 a negative answer, 2 bad usage or bad input.
"""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from ztl.cli import (
        jobs,  # noqa: F401 (adds expire and remind to permits)
        transit_ledger,  # noqa: F401 (adds ingest and settle to transits)
        transit_mqtt,  # noqa: F401 (adds subscribe and mqtt-acl to transits)
    )
    from ztl.cli.audit import audit
    from ztl.cli.background import jobs as background_jobs
    from ztl.cli.city import city, database_group
    from ztl.cli.demo import demo
    from ztl.cli.eligibility import eligibility
    from ztl.cli.enforcement import gates, transits
    from ztl.cli.keys import keys
    from ztl.cli.payments import payments
    from ztl.cli.permits import permits
    from ztl.cli.registry import registry
    from ztl.cli.retention import retention
    from ztl.cli.static import static
    from ztl.cli.tokens import tokens
    from ztl.cli.users import users
    from ztl.cli.verify import lists, verify

    groups = (
        audit,
        background_jobs,
        city,
        demo,
        eligibility,
        gates,
        keys,
        lists,
        payments,
        permits,
        registry,
        retention,
        static,
        tokens,
        transits,
        users,
        verify,
    )
    for group in groups:
        app.cli.add_command(group)
    app.cli.add_command(database_group())  # `ztl db upgrade` also brings the city in step
