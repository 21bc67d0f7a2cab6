"""`ztl transits check` and `ztl gates whitelist`: the API's answers for files, with exit codes."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from tests.factories import DEMO_OWN_CAR, issue_resident
from ztl.accounts.api_tokens import create_token
from ztl.demo.generator import car_plate

STRANGER = car_plate(5_000_123)

ROME = ZoneInfo("Europe/Rome")


def _z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["plate", "gate", "at"], *rows])
    return path


def test_transits_check_lists_violations_and_exits_1(
    city: Flask, runner: Any, tmp_path: Path
) -> None:
    issue_resident()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    transits = _write(
        tmp_path / "transits.csv",
        [
            [DEMO_OWN_CAR, "A1", _z(now - dt.timedelta(minutes=5))],  # authorized
            [STRANGER, "A1", _z(now - dt.timedelta(hours=1))],  # pending: 47 h left to register
            [STRANGER, "A2", _z(now - dt.timedelta(days=3))],  # violation
        ],
    )
    out = tmp_path / "violations.csv"
    result = runner.invoke(args=["transits", "check", str(transits), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert (
        "3 transits: 1 authorized, 1 pending" in result.output and "1 violations" in result.output
    )
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["line"], r["plate"], r["zone"]) for r in rows] == [("4", STRANGER, "A")]
    assert "no permit" in rows[0]["reason"]


def test_transits_check_exits_0_without_violations_and_2_on_bad_rows(
    city: Flask, runner: Any, tmp_path: Path
) -> None:
    issue_resident()
    now = dt.datetime.now(dt.UTC)
    clean = _write(tmp_path / "clean.csv", [[DEMO_OWN_CAR, "A3", _z(now)]])
    assert runner.invoke(args=["transits", "check", str(clean), "--out", "-"]).exit_code == 0
    bad = _write(
        tmp_path / "bad.csv",
        [
            [DEMO_OWN_CAR, "A3", "2026-06-01T10:00:00"],  # no offset
            [DEMO_OWN_CAR, "ZZ", _z(now)],  # unknown gate
            ["A*1", "A3", _z(now)],
        ],
    )
    result = runner.invoke(args=["transits", "check", str(bad), "--out", str(tmp_path / "v.csv")])
    assert result.exit_code == 2, result.output
    assert "line 2:" in result.output and "without an offset" in result.output
    assert "unknown gate" in result.output and "invalid plate" in result.output
    missing = runner.invoke(args=["transits", "check", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2


def test_gates_whitelist_writes_the_csv(city: Flask, runner: Any, tmp_path: Path) -> None:
    issue_resident()
    today = dt.datetime.now(ROME).date().isoformat()  # the whitelist's day is Prato's
    out = tmp_path / "whitelist.csv"
    result = runner.invoke(
        args=["gates", "whitelist", "--zone", "A", "--date", today, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["plate"] for r in rows] == [DEMO_OWN_CAR]
    bad = runner.invoke(args=["gates", "whitelist", "--zone", "Q", "--date", today])
    assert bad.exit_code == 2


def test_the_cli_and_the_api_write_the_same_whitelist_bytes(
    city: Flask, runner: Any, tmp_path: Path
) -> None:
    """One writer: the file a gate gets from the API and the one the CLI writes are identical
    (they once differed: "+00:00" against "Z")."""
    issue_resident()
    today = dt.datetime.now(ROME).date().isoformat()  # the whitelist's day is Prato's
    out = tmp_path / "whitelist.csv"
    args = ["gates", "whitelist", "--zone", "A", "--date", today, "--out", str(out)]
    assert runner.invoke(args=args).exit_code == 0
    _token, plaintext = create_token("varco-a1", "gate")
    response = city.test_client().get(
        "/api/v1/whitelist",
        headers={"Authorization": f"Bearer {plaintext}"},
        query_string={"zone": "A", "date": today},
    )
    assert response.status_code == 200
    assert response.data == out.read_bytes()
    [row] = list(csv.DictReader(out.open(encoding="utf-8")))
    assert row["valid_from"].endswith("Z") and row["valid_to"].endswith("Z")
