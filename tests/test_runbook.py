"""The production runbook (docs/runbook.md) is run, not just written.

Every ```sh block of the runbook is executed, in order and exactly as written, by one bash shell with
`set -e`, on an empty PostgreSQL database with ZTL_ENV=production (and once more on SQLite in
development mode, the default engine), Firenze's rules file and generated registers: migrate and apply the rules, keys, first supervisor, the five register imports, API
tokens, gunicorn; then a permit issued at the counter is verified offline and a transit at one of
Firenze's gates is checked, and the running service answers a gate's question. No demo is loaded.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster_nodes import postgres_database
from tests.conftest import POSTGRES_SKIP, postgres_base_url
from ztl.demo.generator import CitySize, car_plate, codice_fiscale, generate
from ztl.rules.loader import DEFAULT_RULES, load_rules

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "docs" / "runbook.md"
FIRENZE = DEFAULT_RULES.parent / "firenze.toml"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def runbook_script() -> str:
    blocks = BLOCK.findall(RUNBOOK.read_text(encoding="utf-8"))
    assert len(blocks) == 7, "the runbook gained or lost command blocks"
    return "set -euo pipefail\n" + "\n".join(blocks)


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, created empty for this test and dropped after: PostgreSQL (the
    runbook's), and SQLite (the default engine, with ZTL_ENV=development: the same commands)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'city.sqlite3'}"
        return
    if postgres_base_url() is None:
        pytest.skip(POSTGRES_SKIP)
    with postgres_database("ztl_runbook") as url:
        yield url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_runbook_sets_up_a_city_from_an_empty_database(
    empty_database: str, tmp_path: Path
) -> None:
    registers = tmp_path / "registers"
    generate(registers, CitySize(residents=400, vehicles=340, badges=16, businesses=40))
    firenze = load_rules(FIRENZE)
    gate = next(g.code for g in firenze.gates if g.zone == "A")
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZTL_")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        ZTL_ENV="development" if empty_database.startswith("sqlite") else "production",
        DATABASE_URL=empty_database,
        ZTL_SECRET_KEY=secrets.token_urlsafe(48),
        ZTL_PAGOPA_URL="https://govpay.partner.example/govpay/backend/api/pendenze/rs/v1",
        ZTL_PAGOPA_USER="ztl-firenze",
        ZTL_PAGOPA_PASSWORD=secrets.token_urlsafe(24),
        ZTL_PAGOPA_A2A="ZTL_FIRENZE",
        ZTL_PAGOPA_SEGREGATION_CODE="47",
        ZTL_PAGOPA_STATION="01234567890_01",
        ZTL_PAGOPA_CHECKOUT_URL="https://checkout.partner.example/pay?notice={notice_number}",
        ZTL_PAGOPA_NOTIFICATION_USER="govpay",
        ZTL_PAGOPA_NOTIFICATION_PASSWORD=secrets.token_urlsafe(48),
        ZTL_INSTANCE_PATH=str(tmp_path / "instance"),
        ZTL_RULES_FILE=str(FIRENZE),
        REGISTERS=str(registers),
        SUPERVISOR_EMAIL="ufficio.permessi@comune.example",
        SUPERVISOR_PASSWORD=secrets.token_urlsafe(16) + "-9",
        PORT=str(_free_port()),
        # A resident of zone A in the generated registers, their own car, a gate of zone A.
        RESIDENT=codice_fiscale(0),
        PLATE=car_plate(5_000_000),
        GATE=gate,
    )
    work = tmp_path / "work"
    work.mkdir()
    try:
        done = subprocess.run(
            ["bash", "-c", runbook_script()],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        pid_file = work / "gunicorn.pid"
        if pid_file.exists():  # the runbook stops it; a failure half-way must not leave it
            subprocess.run(["kill", pid_file.read_text().strip()], check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Comune di Firenze: rules file applied" in output
    assert f"gate {gate}: added" in output
    assert "zone F: added" in output
    assert "rules file" in output and "in force" in output  # ztl city show
    for kind in ("streets", "residents", "vehicles", "badges", "businesses"):
        imported = re.search(
            rf"^{kind}: [\d,]+ rows read, ([\d,]+) imported, 0 rejected", output, re.M
        )
        assert imported and int(imported.group(1).replace(",", "")) > 0, kind
    assert re.search(r"^issued FI-\d{4}-000001 ", output, re.M)  # Firenze's prefix, its first
    assert "PDF signature: OK" in output and "Seal: VALID" in output
    compact = output.replace(" ", "")
    assert f'"plate":"{env["PLATE"]}"' in compact
    # The reading pushed into the ledger is judged as the gate's question before it was answered.
    assert '"id":"smoke-1"' in compact and '"repeat":false' in compact
    authorized = '"authorized":true' in compact
    assert ('"outcome":"authorized"' in compact) is authorized, compact[-2000:]
    assert "Prato" not in output
