"""The officer's review of violations (ztl.transits.review, ztl/web/police/violation_views.py):
the queue by deadline, one decision per violation whoever clicks, the audit chain, the day's export
for the fines system, and the pages' answers to bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from tests.conftest import audit, csrf_token, problems_of, sign_in
from ztl.demo.generator import car_plate
from ztl.errors import error_text
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor, ServiceError
from ztl.models import Event, Transit, User
from ztl.models.enums import TransitStatus
from ztl.transits import review
from ztl.transits.ledger import record_readings
from ztl.transits.readings import Reading
from ztl.transits.settlement import settle

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
QUEUE = "/polizia/violazioni/"


def violation(
    n: int, days_ago: float, gate: str = "A1", image: bool = False, source: str | None = None
) -> int:
    """A reading of a plate with no permit, `days_ago` days ago, settled into a violation; its id."""
    at = NOW - dt.timedelta(days=days_ago)
    source_id = source or f"r-{n}"
    reading = Reading(
        gate=gate,
        source_id=source_id,
        plate=car_plate(5_000_000 + n),
        at=at,
        direction="in",
        confidence=91,
        image_ref=f"https://varchi.example.org/{gate}/{source_id}.jpg",
        image=JPEG if image else None,
        image_type="image/jpeg" if image else None,
    )
    record_readings([reading], "http", now=at)
    settle(NOW)
    transit = db.session.scalar(
        select(Transit).where(Transit.gate == gate, Transit.source_id == source_id)
    )
    assert transit is not None and transit.status == TransitStatus.VIOLATION.value
    db.session.rollback()
    return transit.id


def officer(email: str = "vigile@comune.example.org") -> Actor:
    from tests.factories import make_user

    user = db.session.scalar(select(User).where(User.email == email)) or make_user("police", email)
    return Actor.of_user(user)


def status_of(transit_id: int) -> str:
    db.session.expire_all()
    transit = db.session.get(Transit, transit_id)
    assert transit is not None
    return transit.status


def events(transit_id: int) -> list[Event]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.subject_type == "transit", Event.subject_id == str(transit_id))
            .order_by(Event.id)
        )
    )


# --- the service --------------------------------------------------------------------------------


def test_the_queue_puts_the_nearest_deadline_first_and_flags_it(city: Flask) -> None:
    recent = violation(1, 3)
    past = violation(2, 95)
    near = violation(3, 85)
    other_gate = violation(4, 50, gate="A2")
    queue = review.queue(NOW)
    assert [r.transit_id for r in queue.rows] == [past, near, other_gate, recent]
    assert [r.urgency for r in queue.rows] == ["past", "near", "in_time", "in_time"]
    assert queue.rows[0].days_left is not None and queue.rows[0].days_left < 0
    assert queue.rows[1].days_left is not None and 0 <= queue.rows[1].days_left <= review.NEAR_DAYS
    assert [r.transit_id for r in review.queue(NOW, gate="A2").rows] == [other_gate]
    day = review.local_day(NOW - dt.timedelta(days=3))
    assert [r.transit_id for r in review.queue(NOW, day=day).rows] == [recent]
    summary = review.summary(NOW)
    assert (summary.waiting, summary.near, summary.past, summary.confirmed_today) == (4, 1, 1, 0)
    review.confirm(recent, officer(), NOW)
    assert review.summary(NOW).confirmed_today == 1


def test_the_queue_pages(city: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review, "PAGE_SIZE", 2)
    ids = [violation(n, 10 + n) for n in range(5)]
    first, last = review.queue(NOW, page=1), review.queue(NOW, page=99)
    assert (first.total, first.pages, last.page) == (5, 3, 3)
    assert [r.transit_id for r in first.rows] == [ids[4], ids[3]]
    assert [r.transit_id for r in last.rows] == [ids[0]]


def test_one_violation_says_what_was_read_and_why_nothing_covered_it(city: Flask) -> None:
    transit_id = violation(1, 5, image=True)
    found = review.violation(transit_id, NOW)
    assert found is not None
    assert (found.plate, found.gate, found.zone, found.direction) == (
        car_plate(5_000_001),
        "A1",
        "A",
        "in",
    )
    assert found.gate_name == "Piazza Sant'Antonino" and found.zone_name
    assert found.confidence == 91 and found.has_image and found.image_ref
    assert found.considered == []  # the plate held no permit
    assert found.notify_by == review.local_day(NOW - dt.timedelta(days=5)) + dt.timedelta(days=90)
    assert found.days_left == 85 and found.waiting
    assert review.violation(transit_id + 1000, NOW) is None


def test_the_considered_permits_keep_their_reason() -> None:
    raw = json.dumps(
        [
            {
                "number": "P-1",
                "category": "1",
                "zones": ["B"],
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_to": "2027-01-01T00:00:00Z",
                "windows": [],
                "why": "other_zone",
            }
        ]
    )
    (permit,) = review.considered_permits(raw)
    assert (permit.number, permit.zones, permit.why) == ("P-1", ["B"], "other_zone")
    assert permit.valid_from == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert review.considered_permits("not json") == []


def test_a_confirmation_has_one_effect_and_one_event(city: Flask) -> None:
    transit_id = violation(1, 4)
    actor = officer()
    review.confirm(transit_id, actor, NOW)
    with pytest.raises(ServiceError) as refused:
        review.confirm(transit_id, officer("altro@comune.example.org"), NOW)
    assert refused.value.code == "transit_decided"
    with pytest.raises(ServiceError) as also:
        review.dismiss(transit_id, actor, "misread", None, NOW)
    assert also.value.code == "transit_decided"
    transit = db.session.get(Transit, transit_id)
    assert transit is not None
    assert transit.status == "confirmed" and transit.reviewed_by_label == actor.label
    assert transit.reviewed_by_id == actor.user_id and transit.reviewed_at == NOW
    (event,) = events(transit_id)
    assert (event.action, event.actor_label, event.actor_user_id) == (
        "violation_confirmed",
        actor.label,
        actor.user_id,
    )
    assert event.data["gate"] == "A1" and event.data["source_id"] == "r-1"
    assert car_plate(5_000_001) not in json.dumps(event.data)  # the chain outlives the plate


def test_a_dismissal_keeps_its_reason_and_other_needs_a_note(city: Flask) -> None:
    transit_id = violation(1, 4)
    actor = officer()
    with pytest.raises(ServiceError) as no_note:
        review.dismiss(transit_id, actor, "other", "  ", NOW)
    assert no_note.value.code == "dismissal_note"
    with pytest.raises(ServiceError) as unknown:
        review.dismiss(transit_id, actor, "bored", None, NOW)
    assert unknown.value.code == "dismissal_reason"
    assert status_of(transit_id) == "violation" and events(transit_id) == []
    review.dismiss(transit_id, actor, "other", "Corteo autorizzato dalla Prefettura", NOW)
    with pytest.raises(ServiceError):
        review.dismiss(transit_id, actor, "misread", None, NOW)
    transit = db.session.get(Transit, transit_id)
    assert transit is not None
    assert (transit.status, transit.dismissal, transit.review_note) == (
        "dismissed",
        "other",
        "Corteo autorizzato dalla Prefettura",
    )
    found = review.violation(transit_id, NOW)
    assert found is not None and found.reviewed_by == actor.label and not found.waiting
    (event,) = events(transit_id)
    assert (event.action, event.reason, event.actor_label) == (
        "violation_dismissed",
        "other",
        actor.label,
    )
    assert event.data["note"] == "Corteo autorizzato dalla Prefettura"


def test_no_decision_on_what_is_not_a_violation(city: Flask) -> None:
    with pytest.raises(ServiceError) as missing:
        review.confirm(123_456, officer(), NOW)
    assert missing.value.code == "not_found"
    at = NOW - dt.timedelta(hours=1)  # still pending: a registration may yet cover it
    record_readings([Reading("A1", "fresh", car_plate(5_000_999), at, "in")], "http", now=at)
    pending = db.session.scalar(select(Transit.id).where(Transit.source_id == "fresh"))
    db.session.rollback()
    assert pending is not None and status_of(pending) == "pending"
    with pytest.raises(ServiceError) as not_yet:
        review.confirm(pending, officer(), NOW)
    assert not_yet.value.code == "not_found" and status_of(pending) == "pending"


def _export_setup() -> tuple[int, int, int, int]:
    today, yesterday, dismissed, waiting = (violation(n, 4 + n) for n in range(1, 5))
    actor = officer()
    review.confirm(today, actor, NOW)
    review.confirm(yesterday, actor, NOW - dt.timedelta(days=1))
    review.dismiss(dismissed, actor, "misread", None, NOW)
    return today, yesterday, dismissed, waiting


def test_the_export_holds_the_days_confirmed_violations_only(city: Flask) -> None:
    _export_setup()
    day = review.local_day(NOW)
    rows = list(csv.DictReader(io.StringIO(review.export_csv(day))))
    assert [r["plate"] for r in rows] == [car_plate(5_000_001)]
    (row,) = rows
    assert row["reference"] == "A1/r-1" and row["gate_name"] == "Piazza Sant'Antonino"
    assert row["zone"] == "A" and row["direction"] == "in" and row["confidence"] == "91"
    assert row["image_kept"] == "no" and row["officer"] == "vigile@comune.example.org"
    assert row["utc_time"].endswith("Z") and row["confirmed_at"].endswith("Z")
    assert row["notify_by"] and row["local_time"][:10] <= day.isoformat()
    body = json.loads(review.export_json(day - dt.timedelta(days=1)))
    assert [v["plate"] for v in body["violations"]] == [car_plate(5_000_002)]
    assert body["timezone"] == "Europe/Rome"


def test_a_gates_picture_reference_is_exported_as_text_not_a_formula(city: Flask) -> None:
    """The picture's reference is the gate's text: a spreadsheet opening the export never runs it."""
    hostile = '=HYPERLINK("http://x.example","foto")'
    at = NOW - dt.timedelta(days=4)
    reading = Reading("A1", "formula-1", car_plate(5_000_050), at, image_ref=hostile)
    record_readings([reading], "http", now=at)
    settle(NOW)
    transit_id = db.session.scalar(select(Transit.id).where(Transit.source_id == "formula-1"))
    assert transit_id is not None
    review.confirm(transit_id, officer(), NOW)
    rows = list(csv.DictReader(io.StringIO(review.export_csv(review.local_day(NOW)))))
    assert [r["image_ref"] for r in rows] == ["'" + hostile]
    body = json.loads(review.export_json(review.local_day(NOW)))
    assert [v["image_ref"] for v in body["violations"]] == [hostile]  # JSON is data, kept as is


# --- the pages ----------------------------------------------------------------------------------


def test_the_queue_page_lists_and_links_without_the_plate_in_addresses(
    city: Flask, client: FlaskClient
) -> None:
    near = violation(1, 85)
    recent = violation(2, 3)
    sign_in(client, "police")
    home = client.get("/polizia/").get_data(as_text=True)
    assert 'href="/polizia/violazioni/"' in home
    page = client.get(QUEUE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert html.index(car_plate(5_000_001)) < html.index(car_plate(5_000_002))
    assert 'data-urgency="near"' in html
    links = re.findall(r'href="([^"]*)"', html)
    assert f"/polizia/violazioni/{near}" in links and f"/polizia/violazioni/{recent}" in links
    assert not [link for link in links if car_plate(5_000_001) in link]
    filtered = client.get(QUEUE + "?gate=A2").get_data(as_text=True)
    assert car_plate(5_000_001) not in filtered


@pytest.mark.parametrize(
    "query", ["?day=yesterday", "?day=2026-13-01", "?gate=ZZ9", "?day=0001-01-01"]
)
def test_a_bad_filter_is_a_400_that_says_why(city: Flask, client: FlaskClient, query: str) -> None:
    sign_in(client, "police")
    page = client.get(QUEUE + query)
    assert page.status_code == 400
    assert 'class="alert alert-danger"' in page.get_data(as_text=True)


def test_confirm_then_refused_on_the_pages(city: Flask, client: FlaskClient) -> None:
    transit_id = violation(1, 4)
    user = sign_in(client, "police")
    page = f"/polizia/violazioni/{transit_id}"
    token = csrf_token(client, page)
    done = client.post(page + "/conferma", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"].endswith(page)
    shown = client.get(page).get_data(as_text=True)
    assert "Violazione confermata" in shown and user.email in shown
    assert status_of(transit_id) == "confirmed"
    again = client.post(page + "/conferma", data={"csrf_token": token})
    assert again.status_code == 409
    with city.test_request_context():
        refusal = error_text("transit_decided")
    assert str(escape(refusal)) in again.get_data(as_text=True)
    dismissed = client.post(
        page + "/archiviazione", data={"csrf_token": token, "dismissal": "misread"}
    )
    assert dismissed.status_code == 409 and status_of(transit_id) == "confirmed"
    assert len(events(transit_id)) == 1
    missing = client.post("/polizia/violazioni/999999/conferma", data={"csrf_token": token})
    assert missing.status_code == 404
    assert client.post(page + "/conferma", data={}).status_code == 400  # no CSRF token


def test_dismiss_on_the_pages_needs_a_reason_and_for_other_a_note(
    city: Flask, client: FlaskClient
) -> None:
    transit_id = violation(1, 4)
    sign_in(client, "police")
    page = f"/polizia/violazioni/{transit_id}"
    token = csrf_token(client, page)
    no_reason = client.post(page + "/archiviazione", data={"csrf_token": token})
    assert no_reason.status_code == 422
    no_note = client.post(
        page + "/archiviazione", data={"csrf_token": token, "dismissal": "other", "note": ""}
    )
    assert no_note.status_code == 422
    assert "scrivi il motivo nella nota" in no_note.get_data(as_text=True)
    assert status_of(transit_id) == "violation"
    done = client.post(
        page + "/archiviazione",
        data={"csrf_token": token, "dismissal": "emergency", "note": "Ambulanza 118"},
    )
    assert done.status_code == 303
    shown = client.get(page).get_data(as_text=True)
    assert "Veicolo di emergenza o di polizia in servizio" in shown and "Ambulanza 118" in shown
    assert ">emergency<" not in shown
    (event,) = events(transit_id)
    assert event.reason == "emergency" and event.actor_label == "police@comune.example.org"


def test_unknown_or_not_reviewable_violations_are_404(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "police")
    assert client.get("/polizia/violazioni/424242").status_code == 404
    assert client.get("/polizia/violazioni/424242/immagine").status_code == 404
    at = NOW - dt.timedelta(hours=1)
    record_readings([Reading("A1", "fresh", car_plate(5_000_999), at, "in")], "http", now=at)
    pending = db.session.scalar(select(Transit.id).where(Transit.source_id == "fresh"))
    db.session.rollback()
    assert client.get(f"/polizia/violazioni/{pending}").status_code == 404


def test_the_picture_is_served_to_police_only(city: Flask, client: FlaskClient) -> None:
    transit_id = violation(1, 4, image=True)
    without = violation(2, 4)
    path = f"/polizia/violazioni/{transit_id}/immagine"
    assert client.get(path).status_code in (302, 401)  # not signed in: to the sign-in page
    sign_in(client, "resident", "cittadino@example.org")
    assert client.get(path).status_code == 403
    other = city.test_client()
    sign_in(other, "police")
    picture = other.get(path)
    assert picture.status_code == 200 and picture.get_data() == JPEG
    assert picture.mimetype == "image/jpeg"
    assert picture.headers["X-Content-Type-Options"] == "nosniff"
    assert picture.headers["Cache-Control"] == "no-store"
    assert other.get(f"/polizia/violazioni/{without}/immagine").status_code == 404
    assert f'src="{path}"' in other.get(f"/polizia/violazioni/{transit_id}").get_data(as_text=True)


def test_the_export_download(city: Flask, client: FlaskClient) -> None:
    _export_setup()
    sign_in(client, "police")
    day = review.local_day(NOW).isoformat()
    as_csv = client.get(f"/polizia/violazioni/esportazione?day={day}&format=csv")
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    assert as_csv.headers["Cache-Control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    assert [r["reference"] for r in rows] == ["A1/r-1"]
    as_json = client.get(f"/polizia/violazioni/esportazione?day={day}&format=json")
    assert as_json.status_code == 200 and as_json.mimetype == "application/json"
    assert [v["reference"] for v in as_json.get_json()["violations"]] == ["A1/r-1"]
    for query in ("day=2026-02-30&format=csv", f"day={day}&format=xml"):
        bad = client.get(f"/polizia/violazioni/esportazione?{query}")
        assert bad.status_code == 400
        assert 'class="alert alert-danger"' in bad.get_data(as_text=True)


def test_the_review_pages_are_for_police_and_admins_only(city: Flask, client: FlaskClient) -> None:
    transit_id = violation(1, 4)
    sign_in(client, "clerk")
    for path in (QUEUE, f"/polizia/violazioni/{transit_id}", "/polizia/violazioni/esportazione"):
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("language", ["it", "en"])
def test_the_review_pages_pass_the_page_audit(
    city: Flask, client: FlaskClient, language: str
) -> None:
    waiting = violation(1, 85, image=True)
    decided = violation(2, 4)
    review.dismiss(decided, officer(), "other", "Corteo", NOW)
    sign_in(client, "police")
    if language == "en":
        token = csrf_token(client, QUEUE)
        client.post("/lingua", data={"lang": "en", "next": "/", "csrf_token": token})
    for path in (QUEUE, f"/polizia/violazioni/{waiting}", f"/polizia/violazioni/{decided}"):
        html = client.get(path).get_data(as_text=True)
        assert problems_of(audit(html), language) == [], path
        words = re.sub(r"<[^>]*>", " ", html).split()
        if language == "it":  # a raw status code would show; in English it is a word of the text
            assert "violation" not in words and "dismissed" not in words, path


def test_a_repeated_submission_is_answered_like_the_first(city: Flask, client: FlaskClient) -> None:
    transit_id = violation(1, 4)
    sign_in(client, "police")
    page = f"/polizia/violazioni/{transit_id}"
    token = csrf_token(client, page)
    data = {"csrf_token": token, "idempotency_key": "k" * 24}
    first = client.post(page + "/conferma", data=data)
    second = client.post(page + "/conferma", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(events(transit_id)) == 1


def test_two_officers_at_once_one_decision_stands(city: Flask) -> None:
    transit_id = violation(1, 4)
    first, second = officer(), officer("collega@comune.example.org")
    db.session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(work: Callable[[], None]) -> None:
        with city.app_context():
            barrier.wait()
            try:
                work()
                outcomes.append("done")
            except ServiceError as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=decide, args=(lambda: review.confirm(transit_id, first, NOW),)),
        threading.Thread(
            target=decide,
            args=(lambda: review.dismiss(transit_id, second, "misread", None, NOW),),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["done", "transit_decided"]
    assert status_of(transit_id) in ("confirmed", "dismissed")
    assert len(events(transit_id)) == 1
