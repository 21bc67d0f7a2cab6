"""`import_registry` and `ztl registry import`: validation, reports, upsert, file errors, the CLI.

Every database test runs on SQLite and on PostgreSQL (tests/conftest.py). Line numbers count the
header as line 1, as an editor shows them.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import (
    Badge,
    Business,
    Event,
    RegistryImport,
    Resident,
    StreetSegment,
    Vehicle,
    Zone,
)
from ztl.registries import columns
from ztl.registries import importer as service
from ztl.registries.importer import RegistryFileError, import_registry
from ztl.values.fiscal import is_valid_normal_codice_fiscale, parse_codice_fiscale

DATA = Path(__file__).parent / "data" / "registry"
# Valid codici fiscali (check characters from python-stdnum) and omocodic variants of two of them.
CF_MARIO = "RSSMRA85T10A562S"
CF_MARIO_OMO = "RSSMRA85T10A56NH"  # last digit of the place code 2 -> N
CF_GIUSEPPE = "VRDGPP80A01G999F"
CF_LAURA = "BNCLRA90D45D612C"
CF_LAURA_OMO = "BNCLRA90D45D61NR"
CF_LUCA = "BNCLCU92E12D612M"
PIVA_RENT = "00743110157"
PIVA_SHOP = "01234560017"

VEHICLE_HEADER = "notes,plate,owner_id,holder_id,category,fuel,euro_class,mass_kg,usage,status"


def write(tmp_path: Path, text: str, name: str = "file.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(kind: str, source: Path | io.StringIO, **kwargs: Any) -> service.ImportResult:
    return import_registry(kind, source, actor=Actor.cli(), **kwargs)


def problems(result: service.ImportResult) -> list[tuple[int, str]]:
    return [(p.line, p.column) for p in result.problems]


def count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def add_zones(*codes: str) -> None:
    for code in codes:
        db.session.add(Zone(code=code, name=f"ZTL {code}"))
    db.session.commit()


def test_vehicles_good_rows_normalised_and_bad_rows_reported(app: Flask) -> None:
    # DATA/vehicles.csv: BOM, columns in another order, an extra column, and these rows:
    #  2 good (plate "ab 123-cd", omocodic owner)   3 good (firm owner, person holder, no mass)
    #  4 bad plate   5 bad fuel and euro_class   6 too few fields   7 owner check character wrong
    report = io.StringIO()
    result = run("vehicles", DATA / "vehicles.csv", report=report)

    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (6, 2, 4)
    assert problems(result) == [
        (4, "plate"),
        (5, "fuel"),
        (5, "euro_class"),
        (6, ""),
        (7, "owner_id"),
    ]
    assert result.problems_total == 5 and result.duplicates == 0
    assert "3 fields, the header 10" in result.problems[3].reason
    lines = report.getvalue().splitlines()
    assert lines[0] == "line,column,reason" and lines[1].startswith("4,plate,")
    assert len(lines) == 6

    car = db.session.get(Vehicle, "AB123CD")
    assert car is not None
    assert (car.category, car.fuel, car.euro_class, car.mass_kg) == ("M1", "diesel", 6, 1450)
    # Owners are stored as subject keys: the omocodic variant is stored without omocodia.
    assert car.owner_id == CF_MARIO and car.holder_id is None
    van = db.session.get(Vehicle, "FA456BB")
    assert van is not None
    assert (van.category, van.owner_id, van.holder_id, van.mass_kg) == (
        "L3e",
        PIVA_RENT,
        CF_LAURA,
        None,
    )
    assert (van.usage, van.status) == ("leasing", "active")
    assert count(Vehicle) == 2

    record = db.session.scalars(select(RegistryImport)).one()
    assert (record.kind, record.rows_read, record.rows_imported, record.rows_rejected) == (
        "vehicles",
        6,
        2,
        4,
    )
    assert record.finished_at is not None and record.actor_label == "cli"
    event = db.session.scalars(select(Event).where(Event.subject_type == "registry")).one()
    assert (event.subject_id, event.action) == ("vehicles", "imported")
    assert event.data["rows_imported"] == 2 and event.data["import_id"] == record.id


def test_reimport_is_idempotent_and_updates_changed_rows(app: Flask, tmp_path: Path) -> None:
    rows = [
        "plate,category,fuel,euro_class,mass_kg,owner_id,holder_id,usage,status",
        f"AB123CD,M1,petrol,5,1200,{CF_MARIO},,owned,active",
        f"EF456GH,N1,diesel,6,2500,{PIVA_SHOP},{CF_LUCA},company,active",
        f"XY12345,L3e,petrol,4,180,{CF_GIUSEPPE},,owned,active",
    ]
    path = write(tmp_path, "\n".join(rows) + "\n")
    first = run("vehicles", path)
    second = run("vehicles", path)
    assert (first.rows_read, first.rows_imported, first.rows_rejected) == (3, 3, 0)
    assert (second.rows_read, second.rows_imported, second.rows_rejected) == (3, 3, 0)
    assert second.problems == [] and second.duplicates == 0
    assert count(Vehicle) == 3

    rows[1] = f"AB123CD,M1,petrol,5,1200,{CF_MARIO},,owned,stolen"
    run("vehicles", write(tmp_path, "\n".join(rows) + "\n"))
    db.session.expire_all()
    stolen = db.session.get(Vehicle, "AB123CD")
    assert stolen is not None and stolen.status == "stolen"
    unchanged = db.session.get(Vehicle, "EF456GH")
    assert unchanged is not None and unchanged.holder_id == CF_LUCA
    assert count(Vehicle) == 3
    assert count(RegistryImport) == 3


def test_repeated_key_in_one_file_last_row_wins_and_is_reported(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "BATCH_SIZE", 2)  # the repeats fall in different batches
    path = write(
        tmp_path,
        "plate,category,fuel,euro_class,mass_kg,owner_id,holder_id,usage,status\n"
        f"AB123CD,M1,petrol,5,1200,{CF_MARIO},,owned,active\n"
        f"EF456GH,M1,petrol,5,1200,{CF_MARIO},,owned,active\n"
        f"ZZ999ZZ,M1,petrol,5,1200,{CF_MARIO},,owned,active\n"
        f"ab 123-cd,M1,electric,6,1300,{CF_GIUSEPPE},,owned,active\n",
    )
    seen: list[int] = []
    result = run("vehicles", path, progress=seen.append)

    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (4, 4, 0)
    assert result.duplicates == 1
    assert problems(result) == [(2, "plate")]
    assert "AB123CD" in result.problems[0].reason and "line 5" in result.problems[0].reason
    car = db.session.get(Vehicle, "AB123CD")
    assert car is not None and (car.fuel, car.owner_id) == ("electric", CF_GIUSEPPE)
    assert count(Vehicle) == 3
    assert seen == [2, 4]


def test_missing_column_changes_nothing(app: Flask, tmp_path: Path) -> None:
    path = write(tmp_path, "plate,category,euro_class,mass_kg,owner_id,holder_id,usage\n")
    with pytest.raises(RegistryFileError) as error:
        run("vehicles", path)
    assert "fuel" in str(error.value) and "status" in str(error.value)
    assert "plate" not in str(error.value).split("required")[0]
    assert count(RegistryImport) == 0 and count(Event) == 0 and count(Vehicle) == 0


def test_file_errors(app: Flask, tmp_path: Path) -> None:
    with pytest.raises(RegistryFileError) as unknown:
        run("parking", write(tmp_path, "a\n"))
    assert unknown.value.code == "kind_unknown" and "vehicles" in str(unknown.value)

    with pytest.raises(RegistryFileError) as missing:
        run("vehicles", tmp_path / "nowhere.csv")
    assert "nowhere.csv" in str(missing.value)

    with pytest.raises(RegistryFileError) as directory:
        run("vehicles", tmp_path)
    assert "not a file" in str(directory.value)

    with pytest.raises(RegistryFileError) as empty:
        run("vehicles", write(tmp_path, ""))
    assert "empty" in str(empty.value)

    latin1 = write(
        tmp_path,
        "codice_fiscale,family_name,given_name,birth_date,street,house_number,household_id,"
        "registered_since,status\n"
        f"{CF_MARIO},Rossi,Mario,1985-12-10,Via Roma,1,H1,2000-01-01,resident\n"
        f"{CF_LUCA},Niccolò,Luca,1992-05-12,Via Roma,1,H2,2000-01-01,resident\n",
        encoding="latin-1",
    )
    with pytest.raises(RegistryFileError) as not_utf8:
        run("residents", latin1)
    assert "UTF-8" in str(not_utf8.value) and "line 3" in str(not_utf8.value)
    assert count(RegistryImport) == 0 and count(Resident) == 0


def test_header_only_file_imports_nothing(app: Flask, tmp_path: Path) -> None:
    result = run(
        "badges", write(tmp_path, "badge_number,holder_codice_fiscale,valid_until,issuer\n")
    )
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (0, 0, 0)
    assert count(RegistryImport) == 1 and count(Badge) == 0


def test_streets_normalised_with_known_zones_only(app: Flask, tmp_path: Path) -> None:
    add_zones("A", "B")
    path = write(
        tmp_path,
        "street,from_number,to_number,parity,zone\n"
        "Via Ricasoli,1,99,odd,A\n"
        "Via Ricasoli,2,98,even,b\n"
        "Piazza del Duomo,1,40,all,C\n"  # unknown zone
        "Via Mazzoni,30,10,all,A\n"  # range upside down
        "V.  RICASOLI,1,99,odd,B\n"  # the same segment as line 2, spelled otherwise
        "Via Roma,1,20,every,A\n",  # parity
    )
    result = run("streets", path)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (6, 3, 3)
    assert problems(result) == [
        (4, "zone"),
        (5, "to_number"),
        (7, "parity"),
        (2, "street+from_number+to_number+parity"),
    ]
    assert "C" in result.problems[0].reason and "A, B" in result.problems[0].reason
    segments = db.session.scalars(select(StreetSegment).order_by(StreetSegment.parity)).all()
    assert [(s.street_key, s.parity, s.zone_code) for s in segments] == [
        ("VIA RICASOLI", "even", "B"),
        ("VIA RICASOLI", "odd", "B"),  # the last row of the key won
    ]
    assert segments[1].street == "V.  RICASOLI"


def test_residents_omocodia_dates_and_house_numbers(app: Flask, tmp_path: Path) -> None:
    header = (
        "codice_fiscale,family_name,given_name,birth_date,street,house_number,household_id,"
        "registered_since,status"
    )
    path = write(
        tmp_path,
        f"{header}\n"
        f"{CF_LAURA_OMO},Bianchi,Laura,1990-04-05,V. Ricasoli,12/A,H7,2015-03-01,Resident\n"
        f"{CF_LUCA},Bianchi,Luca,1992-05-12,Via Ricasoli,12 bis,H7,2015-03-01,resident\n"
        f"{CF_MARIO},Rossi,Mario,10/12/1985,Via Roma,1,H1,2000-01-01,resident\n"
        f"{CF_GIUSEPPE},Verdi,Giuseppe,1980-01-01,Via Roma,0,H2,1979-01-01,moved\n"
        f"RSSMRA85T10A562X,Rossi,Mario,1985-12-10,Via Roma,1,H1,2000-01-01,resident\n",
    )
    result = run("residents", path)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (5, 2, 3)
    assert problems(result) == [
        (4, "birth_date"),
        (5, "house_number"),
        (5, "status"),
        (6, "codice_fiscale"),
    ]
    laura = db.session.get(Resident, CF_LAURA_OMO)
    assert laura is not None
    assert (laura.person_key, laura.street_key, laura.house_no) == (CF_LAURA, "VIA RICASOLI", 12)
    assert (laura.house_number, laura.status) == ("12/A", "resident")
    assert laura.birth_date == dt.date(1990, 4, 5)
    luca = db.session.get(Resident, CF_LUCA)
    assert luca is not None and luca.house_no == 12


def test_registered_before_birth_is_a_bad_row(app: Flask, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "codice_fiscale,family_name,given_name,birth_date,street,house_number,household_id,"
        f"registered_since,status\n{CF_MARIO},Rossi,Mario,1985-12-10,Via Roma,1,H1,1984-01-01,"
        "resident\n",
    )
    result = run("residents", path)
    assert problems(result) == [(2, "registered_since")]


def test_badges_and_businesses(app: Flask, tmp_path: Path) -> None:
    badges = write(
        tmp_path,
        "issuer,badge_number,holder_codice_fiscale,valid_until\n"
        f"Comune di Prato,PO-123,{CF_MARIO_OMO},2030-06-30\n"
        f"Comune di Prato,PO-124,{CF_MARIO},2030-02-30\n",
        name="badges.csv",
    )
    result = run("badges", badges)
    assert problems(result) == [(3, "valid_until")]
    badge = db.session.get(Badge, "PO-123")
    assert badge is not None and badge.holder_key == CF_MARIO

    firms = write(
        tmp_path,
        "partita_iva,name,street,house_number,status\n"
        f"IT{PIVA_SHOP},Bottega Srl,Piazza del Comune,3,active\n"
        "01234560018,Sbagliata Srl,Via Roma,1,active\n"
        f"{PIVA_RENT},Noleggi\tSrl,Via Roma,1,active\n",
        name="firms.csv",
    )
    result = run("businesses", firms)
    assert problems(result) == [(3, "partita_iva"), (4, "name")]
    shop = db.session.get(Business, PIVA_SHOP)
    assert shop is not None and (shop.street_key, shop.house_no) == ("PIAZZA DEL COMUNE", 3)


def test_an_optional_column_may_be_absent_and_is_kept_when_it_is(
    app: Flask, tmp_path: Path
) -> None:
    """The activity code (ateco) came later: older files without it still import, and an update
    from one of them does not blank the code a fuller file gave."""
    with_code = write(
        tmp_path,
        "partita_iva,name,street,house_number,status,ateco\n"
        f"{PIVA_SHOP},Albergo Duomo,Piazza del Duomo,3,active,55.10\n"
        f"{PIVA_RENT},Noleggi Srl,Via Roma,1,active,hotel\n",
        name="firms.csv",
    )
    result = run("businesses", with_code)
    assert problems(result) == [(3, "ateco")]
    assert db.session.get(Business, PIVA_SHOP).ateco == "55.10"  # type: ignore[union-attr]
    older = write(
        tmp_path,
        "partita_iva,name,street,house_number,status\n"
        f"{PIVA_SHOP},Albergo Duomo Srl,Piazza del Duomo,3,active\n",
        name="older.csv",
    )
    assert problems(run("businesses", older)) == []
    db.session.expire_all()
    shop = db.session.get(Business, PIVA_SHOP)
    assert shop is not None and (shop.name, shop.ateco) == ("Albergo Duomo Srl", "55.10")
    missing_required = write(tmp_path, "partita_iva,name,ateco\n", name="short.csv")
    with pytest.raises(RegistryFileError) as refused:
        run("businesses", missing_required)
    assert "street, house_number, status" in str(refused.value)


def test_text_stream_source_with_semicolons(app: Flask) -> None:
    stream = io.StringIO(
        "\ufeffbadge_number;holder_codice_fiscale;valid_until;issuer\n"
        f"PO-9;{CF_LUCA};2031-01-31;Comune di Prato\n"
    )
    result = run("badges", stream)
    assert (result.rows_imported, result.source) == (1, "<stream>")


def test_record_the_csv_parser_cannot_read_is_a_bad_row(app: Flask) -> None:
    huge = "x" * 200_000  # over the csv module's field size limit
    stream = io.StringIO(
        "badge_number,holder_codice_fiscale,valid_until,issuer\n"
        f'PO-1,{CF_LUCA},2031-01-31,"{huge}"\n'
        f"PO-2,{CF_LUCA},2031-01-31,Comune di Prato\n"
        f'PO-3,{CF_LUCA},2031-01-31,"no closing quote\n'
        f"PO-4,{CF_LUCA},2031-01-31,Comune di Prato\n"  # swallowed by the open quote above
    )
    result = run("badges", stream)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (3, 1, 2)
    assert problems(result) == [(2, ""), (4, "issuer")]
    assert "field limit" in result.problems[0].reason


def test_read_error_half_way_keeps_committed_batches(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream that stops decoding half-way: earlier rows stay, the run says it failed."""
    monkeypatch.setattr(service, "BATCH_SIZE", 50)
    good = "".join(f"PO-{n:05d},{CF_MARIO},2030-01-01,Comune di Prato\n" for n in range(400))
    raw = ("badge_number,holder_codice_fiscale,valid_until,issuer\n" + good).encode() + b"\xe8\n"
    stream = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline="")
    with pytest.raises(RegistryFileError) as error:
        run("badges", stream)  # type: ignore[arg-type]
    # The stream decodes in chunks: the rows sharing a chunk with the bad byte are never seen;
    # the rows read before the failure are all imported (the last, partial batch too).
    imported = count(Badge)
    assert imported == 308  # the rows of the chunks decoded before the bad one
    assert "UTF-8" in str(error.value)
    assert f"after line {imported + 1}; the {imported} good rows before it" in str(error.value)
    record = db.session.scalars(select(RegistryImport)).one()
    assert record.finished_at is None and record.rows_imported == imported
    event = db.session.scalars(select(Event)).one()
    assert event.action == "import_failed"


def test_row_refused_by_the_database_is_reported_not_fatal(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If validation ever lets through what a constraint refuses, that row alone is reported."""
    lenient = columns.integer(0, 100_000)
    monkeypatch.setattr(columns, "integer", lambda low, high: lenient)
    path = write(
        tmp_path,
        "plate,category,fuel,euro_class,mass_kg,owner_id,holder_id,usage,status\n"
        f"AB123CD,M1,petrol,5,1200,{CF_MARIO},,owned,active\n"
        f"EF456GH,M1,petrol,9,1200,{CF_MARIO},,owned,active\n"  # CHECK euro_class BETWEEN 0 AND 7
        f"ZZ999ZZ,M1,petrol,6,1200,{CF_MARIO},,owned,active\n",
    )
    result = run("vehicles", path)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (3, 2, 1)
    assert problems(result) == [(3, "")]
    assert "database" in result.problems[0].reason
    assert count(Vehicle) == 2


@given(
    st.one_of(
        st.text(alphabet="ABCDEHLMPRSTVXZ0123456789", min_size=16, max_size=16),
        st.sampled_from([CF_MARIO, CF_MARIO_OMO, CF_LAURA, CF_LAURA_OMO, CF_LUCA]).flatmap(
            lambda cf: st.tuples(st.integers(0, 15), st.sampled_from("A0LMZ9")).map(
                lambda change: cf[: change[0]] + change[1] + cf[change[0] + 1 :]
            )
        ),
    )
)
def test_codice_fiscale_shortcut_agrees_with_stdnum(value: str) -> None:
    """The fast path for the normal spelling accepts exactly what python-stdnum's validate() does."""
    from stdnum.it import codicefiscale

    try:
        reference = codicefiscale.validate(value) == value
    except Exception:  # stdnum's ValidationError subclasses
        reference = False
    assert is_valid_normal_codice_fiscale(value) is reference
    if reference:
        assert parse_codice_fiscale(value) == value


# --- the command line -------------------------------------------------------------------------


def test_cli_import_with_bad_rows_exits_0_and_writes_the_report(
    app: Flask, runner: Any, tmp_path: Path
) -> None:
    report = tmp_path / "bad.csv"
    result = runner.invoke(
        args=["registry", "import", "vehicles", str(DATA / "vehicles.csv"), "--report", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "6 rows read, 2 imported, 4 rejected" in result.stdout
    assert f"5 problems written to {report}" in result.stderr
    assert report.read_text(encoding="utf-8").splitlines()[1].startswith("4,plate,")


def test_cli_lists_problems_without_report(app: Flask, runner: Any) -> None:
    result = runner.invoke(args=["registry", "import", "VEHICLES", str(DATA / "vehicles.csv")])
    assert result.exit_code == 0, result.output
    assert "line 4 [plate]" in result.stderr and "line 7 [owner_id]" in result.stderr


def test_cli_bad_input_exits_2_and_writes_nothing(app: Flask, runner: Any, tmp_path: Path) -> None:
    missing_column = write(tmp_path, "plate,category\nAB123CD,M1\n")
    report = tmp_path / "report.csv"
    result = runner.invoke(
        args=["registry", "import", "vehicles", str(missing_column), "--report", str(report)]
    )
    assert result.exit_code == 2
    assert "missing column" in result.output and "owner_id" in result.output
    assert "Traceback" not in result.output
    assert not report.exists()

    unknown = runner.invoke(args=["registry", "import", "parking", str(missing_column)])
    assert unknown.exit_code == 2 and "parking" in unknown.output

    absent = runner.invoke(args=["registry", "import", "streets", str(tmp_path / "none.csv")])
    assert absent.exit_code == 2 and "none.csv" in absent.output

    latin1 = write(
        tmp_path,
        "street,from_number,to_number,parity,zone\nVia Città,1,9,all,A\n",
        encoding="latin-1",
    )
    not_utf8 = runner.invoke(args=["registry", "import", "streets", str(latin1)])
    assert not_utf8.exit_code == 2 and "UTF-8" in not_utf8.output
    assert count(RegistryImport) == 0 and count(Vehicle) == 0
