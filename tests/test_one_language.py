"""One language for time and money (ztl.values.display): a permit's validity, dates, durations and
amounts are written the same way on every page, e-mail, PDF and seal verification answer, in
Italian and English.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token, pdf_text, sign_in
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, issue_resident
from ztl.accounts.api_tokens import create_token
from ztl.applications.counter import CounterRequest, issue_at_counter
from ztl.eligibility.service import PlateInput
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.mail.notifications import notify_permit_issued, send_expiry_reminders
from ztl.models import Permit, User
from ztl.permits.issuance import IssueResult
from ztl.values.display import (
    date_text,
    datetime_text,
    duration_text,
    last_day,
    money_text,
    size_text,
    validity_end_both,
    validity_end_text,
    validity_start_both,
    validity_text,
    validity_until_text,
)

ROME = ZoneInfo("Europe/Rome")
ISO_DURATION = re.compile(r"\bP(T?\d+[YMDHWS])+\b")


def _rome(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=ROME)


# --- the rules themselves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "italian", "english"),
    [
        ("P1Y", "1 anno", "1 year"),
        ("P2Y", "2 anni", "2 years"),
        ("P1D", "1 giorno", "1 day"),
        ("P7D", "7 giorni", "7 days"),
        ("PT2H", "2 ore", "2 hours"),
        ("PT1H", "1 ora", "1 hour"),
        ("P6M", "6 mesi", "6 months"),
        ("P1Y6M", "1 anno, 6 mesi", "1 year, 6 months"),
        ("P1W", "1 settimana", "1 week"),
        ("PT1H30M", "1 ora, 30 minuti", "1 hour, 30 minutes"),
        ("P", "P", "P"),  # not a duration: shown as written
        ("PT", "PT", "PT"),
        ("annual", "annual", "annual"),
    ],
)
def test_durations_are_written_in_words(code: str, italian: str, english: str) -> None:
    assert duration_text(code, "it") == italian
    assert duration_text(code, "en") == english


def test_amounts_dates_and_sizes() -> None:
    assert [money_text(c) for c in (0, 5, 1500, 123450, 100000000)] == [
        "€ 0,00",
        "€ 0,05",
        "€ 15,00",
        "€ 1.234,50",
        "€ 1.000.000,00",
    ]
    assert date_text(dt.date(2026, 3, 2)) == "02/03/2026"
    # 23:30 UTC on 1 December is already the 2nd in Rome (CET, +01:00).
    assert date_text(dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC), ROME) == "02/12/2026"
    assert datetime_text(dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC), ROME) == (
        "02/12/2026 00:30"
    )
    assert datetime_text(dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC), ROME) == "01/07/2026 15:05"
    with pytest.raises(ValueError, match="time zone"):
        date_text(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    sizes = [
        (5 * 1048576, "5 MB", "5 MB"),
        (2621440, "2,5 MB", "2.5 MB"),
        (120_000, "118 KB", "118 KB"),
    ]
    for size, italian, english in sizes:
        assert (size_text(size, "it"), size_text(size, "en")) == (italian, english)


def test_a_day_permit_reads_as_its_one_day_inclusive() -> None:
    start, end = _rome(2026, 12, 2), _rome(2026, 12, 3)
    assert validity_text(start, end, ROME, "it") == "dal 02/12/2026 al 02/12/2026 compreso"
    assert validity_text(start, end, ROME, "en") == "from 02/12/2026 to 02/12/2026 inclusive"
    assert validity_until_text(end, ROME, "it") == "fino al 02/12/2026 compreso"
    assert validity_until_text(end, ROME, "en") == "until 02/12/2026 inclusive"
    assert (validity_start_both(start, ROME), validity_end_both(end, ROME)) == (
        "02/12/2026",
        "02/12/2026 (compreso · inclusive)",
    )
    # The same instants in UTC, as they are stored.
    stored = (start.astimezone(dt.UTC), end.astimezone(dt.UTC))
    assert validity_text(*stored, "Europe/Rome", "it") == "dal 02/12/2026 al 02/12/2026 compreso"


def test_a_period_of_hours_reads_with_its_times() -> None:
    start = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)  # 09:00 in Rome
    end = start + dt.timedelta(hours=2)
    assert (
        validity_text(start, end, ROME, "it")
        == "dal 02/12/2026 alle 09:00 al 02/12/2026 alle 11:00"
    )
    assert (
        validity_text(start, end, ROME, "en") == "from 02/12/2026 at 09:00 to 02/12/2026 at 11:00"
    )
    assert validity_end_text(end, ROME, "it") == "02/12/2026 alle 11:00"
    assert (validity_start_both(start, ROME), validity_end_both(end, ROME)) == (
        "02/12/2026 09:00",
        "02/12/2026 11:00",
    )
    # Ending at 00:30 is not "the whole day before".
    late = _rome(2026, 12, 3, 0, 30)
    assert validity_end_text(late, ROME, "en") == "03/12/2026 at 00:30"


@pytest.mark.parametrize(
    ("valid_to_utc", "last"),
    [
        # Summer time ends on Sunday 25 October 2026 (03:00 CEST -> 02:00 CET).
        (dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC), "24/10/2026"),  # midnight CEST
        (dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC), "25/10/2026"),  # midnight CET (25 hours)
        # Summer time starts on Sunday 29 March 2026 (02:00 CET -> 03:00 CEST).
        (dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC), "28/03/2026"),  # midnight CET
        (dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC), "29/03/2026"),  # midnight CEST (23 hours)
    ],
)
def test_an_end_at_local_midnight_across_daylight_saving_is_the_day_before(
    valid_to_utc: dt.datetime, last: str
) -> None:
    assert last_day(valid_to_utc, ROME).strftime("%d/%m/%Y") == last
    assert validity_end_text(valid_to_utc, ROME, "it") == f"{last} compreso"
    assert validity_end_text(valid_to_utc, ROME, "en") == f"{last} inclusive"
    # One hour off local midnight (UTC midnight, or the other offset's) is an end with a time.
    other_offset = valid_to_utc + dt.timedelta(hours=1)
    assert validity_end_text(other_offset, ROME, "it").endswith(" alle 01:00")


# --- every channel says the same -------------------------------------------------------------


def _outbox(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    outbox = tmp_path / "outbox"
    monkeypatch.setitem(app.config, "ZTL_SMTP_HOST", None)
    monkeypatch.setitem(app.config, "ZTL_MAIL_OUTBOX", str(outbox))
    return outbox


def _mails(outbox: Path) -> list[tuple[str, str]]:
    """(subject, body) of each message written to the outbox."""
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        assert body is not None
        found.append((str(message["Subject"]), body.get_content()))
    return found


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _next_2_december() -> int:
    """The year of the next 2 December: the signing keys the test makes are valid from now on."""
    today = dt.datetime.now(ROME).date()
    return today.year if today < dt.date(today.year, 12, 2) else today.year + 1


def _holder(client: FlaskClient, issued: IssueResult, language: str) -> User:
    """The demo resident signed in, in the language, as the account of the permit's holder."""
    user = sign_in(client, "resident", f"{language}@posta.example", codice_fiscale=DEMO_RESIDENT)
    user.language = language
    permit = db.session.get(Permit, issued.permit_id)
    assert permit is not None
    permit.holder_user_id = user.id
    db.session.commit()
    return user


def _seal_answer(client: FlaskClient, seal: str) -> dict[str, str]:
    _, token = create_token("device-police", "police")
    db.session.commit()
    answer = client.post(
        "/api/v1/seals/verify", json={"seal": seal}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    permit = answer.get_json()["permit"]
    assert isinstance(permit["validity"], dict)
    return dict(permit["validity"])


def _police_plate_page(app: Flask, at: str) -> str:
    client = app.test_client()  # the officer's own browser
    sign_in(client, "police", "agente@comune.example.org")
    page = "/polizia/targa"
    data = {"csrf_token": csrf_token(client, page), "plate": DEMO_OWN_CAR, "zone": "A", "at": at}
    response = client.post(page, data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    return _text(response.get_data(as_text=True))


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_daily_permit_bought_on_2_december_ends_on_the_2nd_everywhere(
    city: Flask, client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    outbox = _outbox(city, tmp_path, monkeypatch)
    year = _next_2_december()
    bought = _rome(year, 12, 2, 10, 15)
    request = CounterRequest(
        category="G/A", applicant_id=DEMO_RESIDENT, plates=(PlateInput(DEMO_OWN_CAR),)
    )
    issued = issue_at_counter(request, Actor.cli(), at=bought.astimezone(dt.UTC))
    assert (issued.valid_from, issued.valid_to) == (_rome(year, 12, 2), _rome(year, 12, 3))
    _holder(client, issued, language)
    until = {"it": f"02/12/{year} compreso", "en": f"02/12/{year} inclusive"}[language]
    period = {
        "it": f"dal 02/12/{year} al 02/12/{year} compreso",
        "en": f"from 02/12/{year} to 02/12/{year} inclusive",
    }[language]

    permit_page = _text(
        client.get(f"/area-personale/permessi/{issued.number}").get_data(as_text=True)
    )
    valid_from, valid_until = {
        "it": ("Valido dal", "Valido fino al"),
        "en": ("Valid from", "Valid until"),
    }[language]
    assert f"{valid_from} 02/12/{year} {valid_until} {until} " in permit_page
    assert f"03/12/{year}" not in permit_page and f"12/2/{year % 100}" not in permit_page
    home = _text(client.get("/area-personale/").get_data(as_text=True))
    assert f" {until} " in home and f"03/12/{year}" not in home

    notify_permit_issued(issued.permit_id)
    [(_subject, body)] = _mails(outbox)
    validity = {"it": "Validità", "en": "Validity"}[language]
    assert f"{validity}: {period}\n" in body

    text = pdf_text(issued.pdf)
    assert f"Valido dal · Valid from\n02/12/{year}\n" in text.replace("\r", "")
    assert f"02/12/{year} (compreso · inclusive)" in text
    assert f"03/12/{year}" not in text and "23:59" not in text

    answer = _seal_answer(client, issued.seal)
    assert answer == {
        "it": f"dal 02/12/{year} al 02/12/{year} compreso",
        "en": f"from 02/12/{year} to 02/12/{year} inclusive",
    }


def test_a_residents_permit_ends_on_the_same_day_on_every_channel(
    city: Flask, client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = _outbox(city, tmp_path, monkeypatch)
    issued = issue_resident()
    assert issued.valid_to.astimezone(ROME).time() == dt.time(0)  # midnight after its last day
    last = last_day(issued.valid_to, ROME)
    day = f"{last.day:02d}/{last.month:02d}/{last.year}"
    start = issued.valid_from.astimezone(ROME)
    first = f"{start.day:02d}/{start.month:02d}/{start.year}"
    _holder(client, issued, "it")

    permit_page = _text(
        client.get(f"/area-personale/permessi/{issued.number}").get_data(as_text=True)
    )
    assert f"Valido fino al {day} compreso " in permit_page
    home = _text(client.get("/area-personale/").get_data(as_text=True))
    assert f" {day} compreso " in home

    notify_permit_issued(issued.permit_id)
    send_expiry_reminders(issued.valid_to - dt.timedelta(days=3))
    mails = dict(_mails(outbox))  # written in the same second: the files' order is not theirs
    assert set(mails) == {
        f"Permesso ZTL n. {issued.number} emesso",
        f"Permesso ZTL n. {issued.number} valido fino al {day} compreso",
    }
    assert (
        f"Validità: dal {first} al {day} compreso\n"
        in mails[f"Permesso ZTL n. {issued.number} emesso"]
    )
    reminder = mails[f"Permesso ZTL n. {issued.number} valido fino al {day} compreso"]
    assert f"è valido fino al {day} compreso." in reminder

    assert f"{day} (compreso · inclusive)" in pdf_text(issued.pdf)
    assert _seal_answer(client, issued.seal) == {
        "it": f"dal {first} al {day} compreso",
        "en": f"from {first} to {day} inclusive",
    }
    police = _police_plate_page(city, "")
    assert f"Valido fino al {day} compreso " in police


def test_no_iso_duration_and_amounts_in_euros_on_the_residents_pages(
    city: Flask, client: FlaskClient
) -> None:
    public = city.test_client()
    for language in ("it", "en"):
        html = public.get("/", headers={"Accept-Language": language}).get_data(as_text=True)
        assert ISO_DURATION.findall(_text(html)) == [] and "€ 10,00" in html, language
    user = sign_in(client, "resident", codice_fiscale=DEMO_RESIDENT)
    pages = ["/area-personale/", "/area-personale/domande/nuova", "/area-personale/domande/nuova/1"]
    words = {"it": ("1 anno", "2 anni"), "en": ("1 year", "2 years")}
    for language, (one, two) in words.items():
        user.language = language
        db.session.commit()
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert ISO_DURATION.findall(_text(html)) == [], (path, language)
        form = client.get("/area-personale/domande/nuova/1").get_data(as_text=True)
        assert f'<option selected value="P1Y">{one}</option>' in form
        assert f'<option value="P2Y">{two}</option>' in form
        catalogue = _text(client.get("/area-personale/domande/nuova").get_data(as_text=True))
        assert "€ 15,00" in catalogue


def test_the_clerk_reads_the_same_period_duration_and_fee(city: Flask, client: FlaskClient) -> None:
    issued = issue_resident()
    permit = db.session.get(Permit, issued.permit_id)
    assert permit is not None and permit.application_id is not None
    last = last_day(issued.valid_to, ROME)
    day = f"{last.day:02d}/{last.month:02d}/{last.year}"
    sign_in(client, "clerk")
    application = _text(
        client.get(f"/ufficio/domande/{permit.application_id}").get_data(as_text=True)
    )
    assert " Durata 1 anno " in application and ISO_DURATION.findall(application) == []
    assert " Tariffa € 15,00 " in application
    page = _text(client.get(f"/ufficio/permessi/{issued.number}").get_data(as_text=True))
    assert f" Valido fino al {day} compreso " in page and " € 15,00 " in page


# Instants the offline verifier and the server must write alike: ends at local midnight in winter
# and in summer time, on both DST changes, and periods of hours.
VERIFIER_CASES = [
    (dt.datetime(2026, 12, 2, 0, 0, tzinfo=ROME), dt.datetime(2026, 12, 3, 0, 0, tzinfo=ROME)),
    (dt.datetime(2026, 3, 28, 0, 0, tzinfo=ROME), dt.datetime(2026, 3, 30, 0, 0, tzinfo=ROME)),
    (dt.datetime(2026, 10, 24, 0, 0, tzinfo=ROME), dt.datetime(2026, 10, 26, 0, 0, tzinfo=ROME)),
    (dt.datetime(2026, 12, 2, 9, 0, tzinfo=ROME), dt.datetime(2026, 12, 2, 11, 0, tzinfo=ROME)),
    (dt.datetime(2026, 7, 1, 0, 0, tzinfo=ROME), dt.datetime(2027, 7, 1, 0, 0, tzinfo=ROME)),
    (
        dt.datetime(2026, 10, 25, 2, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 23, 0, tzinfo=dt.UTC),
    ),
]


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_offline_verifier_writes_a_validity_as_the_server_does(
    tmp_path: Path, language: str
) -> None:
    """static/js/seal/display.js, run by Node.js, against ztl.values.display: the same words for
    the same instants (the verifier's table of words is the server's, sent with the page)."""
    import json
    import shutil
    import subprocess

    from ztl.values.display import validity_phrases

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: .ci/run installs it (apt-get install nodejs)")
    # The verifier's modules as they are served, in a folder Node reads as ES modules.
    (tmp_path / "package.json").write_text('{"type": "module"}')
    for name in ("display.js", "calendar.js"):
        (tmp_path / name).write_text(
            (Path(__file__).parents[1] / "static/js/seal" / name).read_text()
        )
    module = tmp_path / "display.js"
    cases = [(int(a.timestamp()), int(b.timestamp())) for a, b in VERIFIER_CASES]
    script = (
        f"import {{ validityText }} from {json.dumps(module.as_uri())};\n"
        f"const words = {json.dumps(validity_phrases(language))};\n"
        f"const cases = {json.dumps(cases)};\n"
        "console.log(JSON.stringify(cases.map(([a, b]) =>"
        " validityText(a, b, 'Europe/Rome', words))));\n"
    )
    run = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    expected = [validity_text(a, b, ROME, language) for a, b in VERIFIER_CASES]
    assert json.loads(run.stdout) == expected
