"""No internal code reaches a person: pages, e-mails and PDFs, scanned in both languages.

A code is how the program names a thing (`vehicle_found`, `garage_deed_or_lease`, `under_review`,
`P1Y`, `emigrated`); a person reads its label ("Veicolo nel registro", "1 anno", "emigrato"). The
labels live in one catalogue (`ztl.labels`), shared with the error catalogue for refusals, and
`test_every_code_has_a_label_in_both_languages` holds it complete. The scan below then walks what
residents, clerks, supervisors and police actually get, with real data behind each page, and
fails on anything that looks like an identifier.
"""

from __future__ import annotations

import ast
import email
import email.policy
import re
from collections.abc import Iterator
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

from tests.conftest import pdf_text, sign_in
from tests.factories import DEMO_OWN_CAR, DEMO_RESIDENT, issue_resident, make_user
from ztl import labels
from ztl.applications import applicant as applications
from ztl.applications import decisions
from ztl.extensions import db
from ztl.infrastructure.unit_of_work import Actor
from ztl.models import Permit, Resident, User, enums
from ztl.rules.checks import CHECKS

IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
ISO_DURATION = re.compile(r"\bP(?:T?\d+[YMWDHS])+\b")
# Attributes a screen reader speaks or a browser shows.
SPOKEN = {"aria-label", "title", "alt", "placeholder", "aria-description"}


class _Visible(HTMLParser):
    """The text a person can read or hear: no script, style or hidden template."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "template"}:
            self._skip += 1
        self.parts.extend(value for name, value in attrs if name in SPOKEN and value)
        if tag == "input" and dict(attrs).get("type") in {"submit", "button"}:
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


# Single English words the stores use as codes; on an Italian page each one is a leak.
_ITALIAN_WORDS = {"in", "out", "all", "auto", "leasing"}


def _one_word_codes() -> set[str]:
    found: set[str] = set()
    for value in vars(enums).values():
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum:
            found |= {m.value for m in value if m.value.isalpha()}
    return found - _ITALIAN_WORDS


ADDRESSES = re.compile(r"\S+@\S+|\bhttps?://\S+")


def leaks(text: str, language: str) -> list[str]:
    """Identifier-like words in a text a person reads (e-mail and web addresses aside)."""
    text = ADDRESSES.sub(" ", text)
    found = IDENTIFIER.findall(text) + ISO_DURATION.findall(text)
    if language == "it":
        words = set(re.findall(r"[a-z]+", text))
        found += sorted(words & _one_word_codes())
    return found


def test_the_scan_finds_what_it_looks_for() -> None:
    html = (
        '<p>Esito: vehicle_found <span title="P1Y">x</span> residente emigrated</p>'
        "<script>var under_review = 1;</script>"
    )
    assert leaks(visible_text(html), "it") == ["vehicle_found", "P1Y", "emigrated"]
    assert leaks(visible_text(html), "en") == ["vehicle_found", "P1Y"]
    assert leaks("Valido fino al 02/12/2026 compreso, € 16,00", "it") == []


# --- the catalogue is complete --------------------------------------------------------------------


def _rules_document_kinds() -> set[str]:
    root = Path(__file__).resolve().parent.parent / "ztl" / "rules" / "municipalities"
    kinds: set[str] = set()
    for path in root.glob("*.toml"):
        for match in re.finditer(r"^documents = \[(.*?)\]", path.read_text(), re.M):
            kinds |= set(re.findall(r'"(\w+)"', match.group(1)))
    return kinds


def _evidence_keys() -> set[str]:
    """The evidence keys the checks give: `_result(..., key=...)` and `evidence = {"key": ...}`."""
    tree = ast.parse((Path(__file__).resolve().parent.parent / "ztl/rules/checks.py").read_text())
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_result":
            keys |= {k.arg for k in node.keywords if k.arg}
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Dict)
            and [getattr(t, "id", None) for t in node.targets] == ["evidence"]
        ):
            keys |= {
                k.value
                for k in node.value.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
    return keys


CODE_SETS = {
    "check": lambda: set(CHECKS.ids()),
    "evidence": _evidence_keys,
    "check status": lambda: {"pass", "fail", "needs_review"},
    "outcome": lambda: {o.value for o in enums.Outcome},
    "application status": lambda: {s.value for s in enums.ApplicationStatus},
    "permit status": lambda: {s.value for s in enums.PermitStatus},
    "resident status": lambda: {s.value for s in enums.ResidentStatus},
    "vehicle status": lambda: {s.value for s in enums.VehicleStatus},
    "vehicle usage": lambda: {s.value for s in enums.VehicleUsage},
    "fuel": lambda: {s.value for s in enums.Fuel},
    "business status": lambda: {s.value for s in enums.BusinessStatus},
    "delegation status": lambda: {s.value for s in enums.DelegationStatus},
    "decider": lambda: {s.value for s in enums.Decider},
    "role": lambda: {s.value for s in enums.Role},
    "document kind": _rules_document_kinds,
}


# Names that are the same word in both languages.
SAME_IN_BOTH = {"leasing"}


@pytest.mark.parametrize("kind", sorted(CODE_SETS))
def test_every_code_has_a_label_in_both_languages(app: Flask, kind: str) -> None:
    catalogue = labels.CATALOGUE[kind]
    codes = CODE_SETS[kind]()
    assert sorted(codes - set(catalogue)) == [], f"codes of {kind} without a label"
    untranslated = []
    with app.test_request_context("/"):
        for code in sorted(codes):
            with force_locale("it"):
                italian = str(catalogue[code])
            with force_locale("en"):
                english = str(catalogue[code])
            assert leaks(italian, "it") == [] and leaks(english, "en") == [], (kind, code)
            if italian == english and italian not in SAME_IN_BOTH:
                untranslated.append(italian)
    assert untranslated == [], f"{kind}: labels without English"


# --- what people get ------------------------------------------------------------------------------

SKIPPED = ("/esci", "/lingua", "/static/", "/api/", "/.well-known/")


def crawl(client: FlaskClient, start: str, limit: int = 60) -> Iterator[tuple[str, str]]:
    """(path, text) of every page reachable by links from `start`; a PDF as its text."""
    seen: set[str] = set()
    queue = [start]
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200:
            continue
        if response.mimetype == "application/pdf":
            yield f"{path} (PDF)", pdf_text(response.data)
            continue
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        yield path, visible_text(html)
        for link in re.findall(r'href="(/[^"#]*)"', html):
            link = link.replace("&amp;", "&")
            if not link.startswith(SKIPPED) and link not in seen:
                queue.append(link)


def _emigrated() -> str:
    found = db.session.scalars(
        select(Resident.codice_fiscale).where(Resident.status == "emigrated").limit(1)
    ).one()
    return str(found)


def _submitted(user: User, category: str, plate: str) -> int:
    data = applications.ApplicationInput(
        category=category, applicant_id="", plates=(plate,), zones=()
    )
    application_id = applications.create_draft(user, data)
    applications.submit_application(application_id, user, review_reason="Ho i requisiti.")
    applications.pay_own_application(application_id, user)
    return application_id


@pytest.fixture
def lived_in(city: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo city after some use: a permit issued, applications waiting, refused, asked for
    documents, an emigrated applicant; every e-mail written to an outbox (returned)."""
    outbox = tmp_path / "outbox"
    monkeypatch.setitem(city.config, "ZTL_SMTP_HOST", None)
    monkeypatch.setitem(city.config, "ZTL_MAIL_OUTBOX", str(outbox))
    resident = make_user("resident", "resident@posta.example.org", codice_fiscale=DEMO_RESIDENT)
    resident.full_name = "Mario Rossi"
    issued = issue_resident()
    permit = db.session.get(Permit, issued.permit_id)
    assert permit is not None
    permit.holder_user_id = resident.id
    db.session.commit()
    waiting = _submitted(resident, "15", DEMO_OWN_CAR)
    asked = _submitted(resident, "6", DEMO_OWN_CAR)
    clerk = make_user("clerk", "clerk@comune.example.org")
    for role in ("supervisor", "police"):
        make_user(role, f"{role}@comune.example.org")
    for address, _home, full_name in ROLES.values():  # people's names, not "Test clerk"
        person = db.session.scalar(select(User).where(User.email == address))
        if person is not None:
            person.full_name = full_name
    db.session.commit()
    decisions.request_documents(asked, Actor.of_user(clerk), "Serve il contratto del posto auto.")
    emigrant = make_user("resident", "emigrato@posta.example.org", codice_fiscale=_emigrated())
    emigrant.full_name = "Anna Bianchi"
    db.session.commit()
    refused = _submitted(emigrant, "15", DEMO_OWN_CAR)
    decisions.reject(refused, Actor.of_user(clerk), "Non residente nel Comune.")
    del waiting
    return outbox


ROLES = {
    "resident": ("resident@posta.example.org", "/area-personale/", "Mario Rossi"),
    "emigrant": ("emigrato@posta.example.org", "/area-personale/", "Anna Bianchi"),
    "clerk": ("clerk@comune.example.org", "/ufficio/", "Paola Verdi"),
    "supervisor": ("supervisor@comune.example.org", "/supervisione/", "Luca Neri"),
    "police": ("police@comune.example.org", "/polizia/", "Sara Gialli"),
}


@pytest.mark.parametrize("language", ["it", "en"])
def test_no_page_e_mail_or_pdf_shows_an_internal_code(
    lived_in: Path, client: FlaskClient, language: str
) -> None:
    found: dict[str, list[str]] = {}
    visited = 0
    for name, (email_address, home, _full_name) in ROLES.items():
        role = "resident" if name == "emigrant" else name
        user = db.session.scalars(select(User).where(User.email == email_address)).one()
        user.language = language  # the page's language is the account's, from sign-in on
        db.session.commit()
        sign_in(client, role, email_address)
        for path, text in crawl(client, home):
            visited += 1
            # A permit's PDF speaks both languages at once.
            if problems := leaks(text, "en" if path.endswith("(PDF)") else language):
                found[f"{name} {path}"] = problems
        client.delete_cookie("session")
    for page in crawl(client.application.test_client(), "/"):
        visited += 1
        if problems := leaks(page[1], language):
            found[f"public {page[0]}"] = problems
    for mail in sorted(lived_in.glob("*.eml")):
        message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))
        assert body is not None
        if problems := leaks(f"{message['Subject']} {body.get_content()}", "it"):
            found[f"e-mail {message['Subject']}"] = problems
    assert visited > 40
    assert found == {}, "\n".join(f"{where}: {what}" for where, what in sorted(found.items()))
