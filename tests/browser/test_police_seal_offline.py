"""The police seal verifier in a real browser: online once, then offline, agreeing with Python.

The page is loaded with the network (lists fetched and verified, service worker installed); then the
browser goes offline, the page is reloaded from the service worker (and the server sees no request
at all), and seals are pasted in: valid, altered, revoked, expired, not yet valid, for another zone,
for another plate, outside their hours, signed by an unknown key, with alg only in the unprotected
header, a zlib bomb, garbage. For each, the step the page names is the one `verify_seal` names with
the same published lists, so the JavaScript and the Python verifiers cannot drift apart unnoticed.
Besides: an older revocation list and a forged trust list are refused, daily windows agree with
zoneinfo across DST, byte-level alterations get the same step, and Chromium's fake camera showing a
seal's QR code gets it read (jsQR) and verified.

And the zones' calendars (Firenze's rules file, and Rome's): the page carries them, works with them
offline, and for a table of instants (weekdays, public holidays and patron saints, season bounds,
nights after midnight, DST nights) says what Python's verify_seal says with the same calendars;
for a date beyond the years it carries it says the calendar is not available instead of guessing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import urllib.request
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cbor2
import pytest
import segno
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from tests.browser.conftest import POLICE_EMAIL, LiveServer, launch, serving
from tests.conftest import make_app
from tests.factories import make_user
from ztl.extensions import db
from ztl.models import Category, Permit
from ztl.rules.calendar import ZoneCalendar, browser_calendar
from ztl.rules.loader import DEFAULT_RULES, load_rules
from ztl.rules.windows import WindowError, covered, parse_window
from ztl.seals.keys import key_store
from ztl.seals.trust_lists import bump_revocation_sequence
from ztl.signing.base45 import ALPHABET, b45decode, b45encode
from ztl.signing.cose import parse_sign1
from ztl.signing.lists import (
    ListError,
    RevocationList,
    TrustList,
    build_revocation_list,
    build_trust_list,
    load_revocation_list,
    load_trust_list,
)
from ztl.signing.seal import (
    PREFIX,
    SealCheck,
    SealClaims,
    SealResult,
    encode_seal,
    revocation_handle,
    verify_seal,
)
from ztl.values.display import validity_text

pytestmark = pytest.mark.browser

ROME = ZoneInfo("Europe/Rome")
PAGE = "/polizia/sigillo/"
TRUST_LIST = "/.well-known/ztl/trust-list"
REVOCATIONS = "/.well-known/ztl/revocations"
HOLDER = "RSSMRA85T10A562S"
RESULT_DONE = (
    "() => ['valid', 'invalid'].includes(document.getElementById('seal-result').dataset.state)"
)
RESULT = """() => {
  const r = document.getElementById('seal-result');
  return {state: r.dataset.state, step: r.dataset.step, text: r.innerText};
}"""


@dataclass(frozen=True)
class Case:
    name: str
    seal: str
    expected: frozenset[str | None]  # the steps the spec allows (None: valid)
    zone: str = ""
    plate: str = ""


# --- helpers -------------------------------------------------------------------------------------


def _get(server: LiveServer, path: str) -> bytes:
    with urllib.request.urlopen(server.base_url + path, timeout=10) as response:  # noqa: S310
        body: bytes = response.read()
    return body


def _python_lists(server: LiveServer) -> tuple[TrustList, RevocationList]:
    """The lists as published, verified by the Python code: what the page must agree with."""
    trust = load_trust_list(_get(server, TRUST_LIST), server.keys.root().certificate)
    return trust, load_revocation_list(_get(server, REVOCATIONS), trust)


def _normalise_plate(text: str) -> str:
    return "".join(text.upper().split()).replace("-", "")


def _python_step(
    seal: str, trust: TrustList, revocations: RevocationList, zone: str = "", plate: str = ""
) -> str | None:
    check = SealCheck(dt.datetime.now(dt.UTC), zone or None, _normalise_plate(plate) or None)
    result = verify_seal(seal, trust.seal_keys, revocations.revoked, check, ROME)
    return result.step.value if result.step else None


def _hhmm(minutes: int) -> str:
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window_around_now(start: int, end: int, now: dt.datetime) -> str:
    """A daily window from now+start to now+end minutes on Rome's wall clock (may cross midnight)."""
    local = now.astimezone(ROME)
    minute = local.hour * 60 + local.minute
    return f"{_hhmm(minute + start)}-{_hhmm(minute + end)}"


def _flip_one_character(seal: str, position: int | None = None) -> str:
    position = len(seal) // 2 if position is None else position
    replacement = "A" if seal[position] != "A" else "B"
    return seal[:position] + replacement + seal[position + 1 :]


def _alg_only_in_unprotected_header(seal: str) -> str:
    """The real signature and kid, but alg moved out of the protected header (as in test_seal)."""
    signed = parse_sign1(zlib.decompress(b45decode(seal[len(PREFIX) :])))
    structure = [cbor2.dumps({4: signed.kid}), {1: -7}, signed.payload, signed.signature]
    return PREFIX + b45encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, structure))))


def _revoke_in_database(
    server: LiveServer, seal_id: bytes, kid: bytes, valid_to: dt.datetime, serial: int
) -> None:
    """A revoked permit carrying the seal, then a new revocation list sequence, as a revocation does."""
    with server.app.app_context():
        category = db.session.scalar(select(Category).where(Category.code == "1"))
        assert category is not None
        db.session.add(
            Permit(
                number=f"PO-2026-{serial:06d}",
                year=2026,
                serial=serial,
                holder_id=HOLDER,
                category=category,
                status="revoked",
                valid_from=valid_to - dt.timedelta(days=60),
                valid_to=valid_to,
                seal_id=seal_id.hex(),
                seal_kid=kid.hex(),
            )
        )
        bump_revocation_sequence(db.session)
        db.session.commit()
        db.session.remove()


def _new_page(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return context, page, problems


def _sign_in_and_open(page: Any, server: LiveServer, wait_offline_ready: bool = True) -> None:
    page.goto(server.base_url + "/accedi")
    page.fill("#email", server.police_email)
    page.fill("#password", server.police_password)
    page.click("main form button[type=submit]")
    page.wait_for_url(server.base_url + "/polizia/")
    page.click(f"main a[href='{PAGE}']")  # the feature card on the police home page
    page.wait_for_url(server.base_url + PAGE)
    page.wait_for_selector('#seal-lists[data-state="ready"]')
    if wait_offline_ready:
        page.wait_for_selector('#seal-offline[data-state="ready"]', timeout=30_000)
        if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
            page.reload()
            page.wait_for_selector('#seal-offline[data-state="ready"]', timeout=30_000)
        assert page.evaluate("() => navigator.serviceWorker.controller !== null")


def _verify_in_page(page: Any, case: Case) -> dict[str, str]:
    page.select_option("#seal-zone", case.zone)
    page.fill("#seal-plate", case.plate)
    page.fill("#seal-text", case.seal)
    page.click("#seal-form button[type=submit]")
    page.wait_for_function(RESULT_DONE)
    result: dict[str, str] = page.evaluate(RESULT)
    return result


# --- the tests -----------------------------------------------------------------------------------


def test_verifier_works_offline_and_agrees_with_python(
    live_server: LiveServer, browser: Any
) -> None:
    server = live_server
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    pair = server.keys.current_seal()
    base = SealClaims(
        issuer="IT-PO",
        seal_id=os.urandom(8),
        issued_at=now - dt.timedelta(days=1),
        valid_from=now - dt.timedelta(days=1),
        valid_to=now + dt.timedelta(days=30),
        permit_number="PO-2026-000900",
        plates=("AB123CD", "EF456GH"),
        zones=("A", "B"),
        category="1",
        windows=(_window_around_now(-60, 120, now),),
    )

    def seal(**changes: Any) -> str:
        claims = dataclasses.replace(base, seal_id=os.urandom(8), **changes)
        return encode_seal(claims, pair.key, pair.kid)

    valid = seal()
    revoked_id = os.urandom(8)
    revoked = encode_seal(
        dataclasses.replace(base, seal_id=revoked_id, permit_number="PO-2026-000901"),
        pair.key,
        pair.kid,
    )
    _revoke_in_database(server, revoked_id, pair.kid, base.valid_to, serial=901)
    trust, revocations = _python_lists(server)
    assert revocation_handle(revoked_id) in revocations.revoked[pair.kid]  # published

    stranger = ec.generate_private_key(ec.SECP256R1())
    cases = [
        Case("valid", valid, frozenset({None}), zone="A", plate="ef 456-gh"),
        Case(
            "one character changed", _flip_one_character(valid), frozenset({"parse", "signature"})
        ),
        Case("revoked", revoked, frozenset({"revoked"})),
        Case(
            "expired",
            seal(valid_from=now - dt.timedelta(days=60), valid_to=now - dt.timedelta(days=1)),
            frozenset({"expired"}),
        ),
        Case(
            "not yet valid",
            seal(valid_from=now + dt.timedelta(days=2)),
            frozenset({"not_yet_valid"}),
        ),
        Case("other zone", seal(zones=("B",)), frozenset({"zone"}), zone="A"),
        Case(
            "outside its hours",
            seal(windows=(_window_around_now(120, 180, now),)),
            frozenset({"window"}),
        ),
        Case("other plate", valid, frozenset({"plate"}), plate="ZZ999ZZ"),
        Case(
            "unknown key",
            encode_seal(base, stranger, os.urandom(8)),
            frozenset({"unknown_kid"}),
        ),
        Case(
            "alg only in the unprotected header",
            _alg_only_in_unprotected_header(valid),
            frozenset({"signature"}),
        ),
        Case(
            "zlib bomb",
            PREFIX + b45encode(zlib.compress(b"\x00" * 2_000_000, 9)),
            frozenset({"parse"}),
        ),
        Case("not a seal", "hello", frozenset({"parse"})),
    ]
    python = {c.name: _python_step(c.seal, trust, revocations, c.zone, c.plate) for c in cases}
    # First the Python verifier against the spec: each case fails at a step the spec allows.
    assert {c.name: python[c.name] for c in cases if python[c.name] not in c.expected} == {}

    context, page, problems = _new_page(browser)
    try:
        _sign_in_and_open(page, server)
        online_lists = page.inner_text("#seal-lists")
        assert "Liste aggiornate dalla rete." in online_lists

        server.log.clear()
        context.set_offline(True)
        response = page.reload()
        assert response is not None and response.ok and response.from_service_worker
        page.wait_for_selector('#seal-lists[data-state="ready"][data-online="false"]')
        lists = page.inner_text("#seal-lists")
        assert "Rete non raggiungibile: uso le liste salvate su questo dispositivo." in lists
        assert "Lista di fiducia" in lists and "Lista di revoca" in lists
        assert lists.count("Scaricata il") == 2  # how old the lists are
        assert "Emessa il" in lists and "Prossimo aggiornamento entro il" in lists
        assert f"Numero progressivo {revocations.sequence}" in lists

        got = {case.name: _verify_in_page(page, case) for case in cases}
        for case in cases:
            want = python[case.name]
            assert got[case.name]["step"] == (want or ""), (case.name, got[case.name], want)
            assert got[case.name]["state"] == ("valid" if want is None else "invalid"), case.name

        shown = got["valid"]["text"]
        assert "Permesso valido" in shown
        for text in ("PO-2026-000900", "AB123CD, EF456GH", "A, B", base.windows[0], "IT-PO"):
            assert text in shown, text
        # The validity as every page, e-mail and PDF writes it (ztl.values.display), offline too.
        period = validity_text(base.valid_from, base.valid_to, "Europe/Rome", "it")
        assert re.search(rf"Validità\s+{re.escape(period)}\s", shown), (period, shown)
        assert "Permesso NON valido" in got["revoked"]["text"]
        assert "Il permesso è stato revocato." in got["revoked"]["text"]
        assert "Il permesso non vale nella zona A." in got["other zone"]["text"]

        # A scanner that types: the text arrives as key strokes, Enter verifies.
        page.click("#seal-form button[type=reset]")
        page.select_option("#seal-zone", "")
        page.focus("#seal-text")
        page.keyboard.type(valid)
        page.keyboard.press("Enter")
        page.wait_for_function(RESULT_DONE)
        assert page.evaluate(RESULT)["state"] == "valid"

        # Offline, nothing reaches the server: page, assets and lists came from the worker's cache
        # and localStorage. The one exception is the browser's own update check of the worker
        # script, made outside Playwright's offline emulation (a phone without network fails it and
        # keeps the installed worker, as register() does in page.js).
        reached = [path for path in server.log.snapshot() if path != "/polizia/sigillo/sw.js"]
        assert reached == [], "offline, nothing may reach the server"
        assert problems == []
    finally:
        context.close()


def test_an_older_revocation_list_is_refused_and_a_forged_trust_list_discarded(
    live_server: LiveServer, browser: Any
) -> None:
    server = live_server
    context, page, problems = _new_page(browser)
    try:
        _sign_in_and_open(page, server, wait_offline_ready=False)
        published = int(page.get_attribute("#seal-lists", "data-sequence") or "-1")
        trust, current = _python_lists(server)
        assert published == current.sequence
        now = dt.datetime.now(dt.UTC)
        newer = build_revocation_list("IT-PO", server.keys.lists(), published + 5, {}, now)
        with pytest.raises(ListError, match="older"):  # Python refuses the server's list too
            load_revocation_list(_get(server, REVOCATIONS), trust, held_sequence=published + 5)
        # A trust list signed by another key than the pinned root: must be discarded.
        forged = build_trust_list(
            "IT-PO", server.keys.lists(), server.keys.lists(), [server.keys.current_seal()], now
        )
        page.evaluate(
            """([newer, forged]) => {
              const at = new Date().toISOString();
              localStorage.setItem('ztl.seal.revocations', JSON.stringify({text: newer, fetchedAt: at}));
              localStorage.setItem('ztl.seal.trust-list', JSON.stringify({text: forged, fetchedAt: at}));
            }""",
            [newer.decode(), forged.decode()],
        )
        page.reload()
        page.wait_for_selector('#seal-lists[data-state="ready"]')
        assert page.get_attribute("#seal-lists", "data-sequence") == str(published + 5)
        text = page.inner_text("#seal-lists")
        assert "è più vecchia di quella già salvata" in text
        assert f"numero progressivo {published + 5}" in text
        assert "La lista di fiducia salvata su questo dispositivo non supera la verifica" in text
        kept = page.evaluate("() => JSON.parse(localStorage.getItem('ztl.seal.revocations')).text")
        assert kept == newer.decode()
        assert problems == []
    finally:
        context.close()


WINDOWS = [
    "02:00-03:00",
    "20:00-10:00",
    "00:00-24:00",
    "00:00-00:00",
    "23:00-24:00",
    "07:30-18:30",
    "22:30-01:30",
    "10:00-10:00",
    "24:00-01:00",
    "7:30-18:30",
    "12:60-13:00",
]
INSTANTS = [
    "2026-03-29T00:30:00Z",  # 01:30 CET, the spring-forward night
    "2026-03-29T01:30:00Z",  # 03:30 CEST (02:00-02:59 never happens)
    "2026-10-25T00:30:00Z",  # 02:30 CEST, first time
    "2026-10-25T01:30:00Z",  # 02:30 CET, second time
    "2026-06-01T21:00:00Z",  # 23:00 CEST
    "2026-01-15T23:59:00Z",  # 00:59 CET
    "2026-07-01T08:00:00Z",  # 10:00 CEST: the end of 20:00-10:00 is excluded
]


def test_daily_windows_agree_with_python_across_dst(live_server: LiveServer, browser: Any) -> None:
    """The Rome wall clock of Intl.DateTimeFormat and of zoneinfo, and the same window rules."""
    context, page, _problems = _new_page(browser)
    try:
        _sign_in_and_open(page, live_server, wait_offline_ready=False)
        js = page.evaluate(
            """async ([windows, instants]) => {
              const m = await import('/static/js/seal/verify.js');
              const out = {};
              for (const w of windows) {
                for (const at of instants) {
                  let value;
                  try { value = m.covered([m.parseWindow(w)], new Date(at), 'Europe/Rome'); }
                  catch (error) { value = 'error'; }
                  out[`${w} at ${at}`] = value;
                }
              }
              return out;
            }""",
            [WINDOWS, INSTANTS],
        )
        python: dict[str, bool | str] = {}
        for window in WINDOWS:
            for at in INSTANTS:
                instant = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
                try:
                    python[f"{window} at {at}"] = covered((parse_window(window),), instant, ROME)
                except WindowError:
                    python[f"{window} at {at}"] = "error"
        assert js == python
    finally:
        context.close()


SAFE_INTEGER = 2**53 - 1


def _page_subset(value: object) -> bool:
    """Whether a value decoded by cbor2 is of the CBOR subset the page's decoder accepts."""
    if value is None or isinstance(value, bool | bytes | str | cbor2.CBORSimpleValue):
        return True
    if value is cbor2.undefined:
        return True
    if isinstance(value, int):
        return -SAFE_INTEGER - 1 <= value <= SAFE_INTEGER
    if isinstance(value, list | tuple):
        return all(_page_subset(item) for item in value)
    if isinstance(value, Mapping):
        return all(
            isinstance(key, int | str)
            and not isinstance(key, bool)
            and _page_subset(key)
            and _page_subset(item)
            for key, item in value.items()
        )
    if isinstance(value, cbor2.CBORTag):
        return value.tag == 18 and _page_subset(value.value)
    return False


def _within_page_cbor(seal: str) -> bool:
    """False when the seal's COSE structure or protected header uses CBOR the page refuses."""
    try:
        data = zlib.decompress(b45decode(seal.strip()[len(PREFIX) :]))
        decoded = cbor2.loads(data)
    except Exception:  # not decodable by Python either: both say parse
        return True
    if not _page_subset(decoded):
        return False
    inner = decoded.value if isinstance(decoded, cbor2.CBORTag) else decoded
    if isinstance(inner, list | tuple) and inner and isinstance(inner[0], bytes) and inner[0]:
        try:
            return _page_subset(cbor2.loads(inner[0]))
        except Exception:
            return True
    return True


def test_altered_seals_get_the_same_step_in_javascript_and_python(
    live_server: LiveServer, browser: Any
) -> None:
    """A real seal altered in many ways: both verifiers name the same step for every variant.

    Changes to the text mostly break zlib's checksum (parse); changes to the COSE bytes under a
    valid compression reach the CBOR decoder, the kid and the signature.
    """
    server = live_server
    now = dt.datetime.now(dt.UTC)
    pair = server.keys.current_seal()
    claims = SealClaims(
        "IT-PO",
        os.urandom(8),
        now,
        now - dt.timedelta(hours=1),
        now + dt.timedelta(days=1),
        "PO-2026-000950",
        ("AB123CD",),
        ("A",),
        "1",
    )
    seal = encode_seal(claims, pair.key, pair.kid)
    variants = [seal, seal[:-3], seal + "0", seal.lower(), " " + seal + "\n"]
    for position in range(len(PREFIX), len(seal), 3):
        replacement = ALPHABET[(ALPHABET.index(seal[position]) + 7) % len(ALPHABET)]
        variants.append(seal[:position] + replacement + seal[position + 1 :])
    signed = bytearray(zlib.decompress(b45decode(seal[len(PREFIX) :])))
    for position in range(0, len(signed), 2):
        altered = bytearray(signed)
        altered[position] ^= 0x01 << (position % 8)
        variants.append(PREFIX + b45encode(zlib.compress(bytes(altered))))
    variants.append(PREFIX + b45encode(zlib.compress(bytes(signed[:-1]))))
    variants.append(PREFIX + b45encode(zlib.compress(bytes(signed) + b"\x00")))
    trust, revocations = _python_lists(server)
    python = [_python_step(v, trust, revocations) for v in variants]
    # What the page must say: Python's step, except for CBOR beyond the subset the page decodes
    # (floats, other tags, keys that are not integers or text, ...), which it refuses as "parse".
    expected = [
        p if _within_page_cbor(v) else "parse" for v, p in zip(variants, python, strict=True)
    ]
    context, page, _problems = _new_page(browser)
    try:
        _sign_in_and_open(page, server, wait_offline_ready=False)
        js = page.evaluate(
            """async (variants) => {
              const lists = await import('/static/js/seal/lists.js');
              const verify = await import('/static/js/seal/verify.js');
              const app = document.getElementById('seal-app').dataset;
              const state = await lists.refreshLists({
                rootSpki: app.rootSpki, trustUrl: app.trustUrl, revocationsUrl: app.revocationsUrl,
              });
              const steps = [];
              for (const text of variants) {
                const result = await verify.verifySeal(text, state.trust, state.revocations, {
                  at: new Date(), zone: null, plate: null, timeZone: 'Europe/Rome',
                });
                steps.push(result.step);
              }
              return steps;
            }""",
            variants,
        )
        assert python[0] is None and js[0] is None
        disagreements = [
            (v, e, j) for v, e, j in zip(variants, expected, js, strict=True) if e != j
        ]
        assert disagreements == []
        assert {"parse", "unknown_kid", "signature"} <= set(expected)  # the variants reach each
    finally:
        context.close()


def _qr_video(text: str, path: Path, width: int = 640, height: int = 480) -> None:
    """A still Y4M video of the seal's QR code, for Chromium's fake camera (grey, 4:2:0)."""
    qr = segno.make(text, error="m", mode="alphanumeric", micro=False, boost_error=False)
    border = 4
    modules = len(qr.matrix) + 2 * border
    scale = min(width, height) // modules
    luma = bytearray([255]) * (width * height)
    left = (width - modules * scale) // 2
    top = (height - modules * scale) // 2
    for row, line in enumerate(qr.matrix):
        for column, dark in enumerate(line):
            if not dark:
                continue
            for y in range(scale):
                start = (top + (row + border) * scale + y) * width + left
                first = start + (column + border) * scale
                luma[first : first + scale] = bytes(scale)
    chroma = bytes([128]) * (width // 2 * height // 2)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    header = f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * 5)


def test_the_camera_reads_the_qr_code_and_verifies_it(
    live_server: LiveServer, playwright: Any, tmp_path: Path
) -> None:
    """Chromium's fake camera shows a printed seal's QR code: the page reads it and says valid.

    Chromium on Linux has no BarcodeDetector, so this also proves the jsQR fallback works under
    the Content-Security-Policy.
    """
    server = live_server
    now = dt.datetime.now(dt.UTC)
    pair = server.keys.current_seal()
    claims = SealClaims(
        "IT-PO",
        os.urandom(8),
        now,
        now - dt.timedelta(hours=1),
        now + dt.timedelta(days=1),
        "PO-2026-000960",
        ("AB123CD",),
        ("A",),
        "1",
    )
    seal = encode_seal(claims, pair.key, pair.kid)
    video = tmp_path / "seal.y4m"
    _qr_video(seal, video)
    browser = launch(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    try:
        context, page, problems = _new_page(browser)
        context.grant_permissions(["camera"], origin=server.base_url)
        _sign_in_and_open(page, server, wait_offline_ready=False)
        page.click("#seal-camera-start")
        page.wait_for_function(RESULT_DONE, timeout=20_000)
        result = page.evaluate(RESULT)
        assert result["state"] == "valid", result
        assert "PO-2026-000960" in result["text"]
        assert page.input_value("#seal-text") == seal
        assert page.inner_text("#seal-camera-status") == "Codice QR letto."
        assert page.evaluate("() => document.getElementById('seal-video').srcObject") is None
        detector = page.evaluate(
            "() => 'BarcodeDetector' in window ? 'native' : typeof window.jsQR"
        )
        assert detector == "function"  # Chromium on Linux has no BarcodeDetector: jsQR was loaded
        assert problems == []
    finally:
        browser.close()


# --- zone calendars ------------------------------------------------------------------------------

MUNICIPALITIES = DEFAULT_RULES.parent
FIRENZE_RULES = MUNICIPALITIES / "firenze.toml"
FIRENZE = {z.code: z.calendar for z in load_rules(FIRENZE_RULES).zones}
ROMA = {z.code: z.calendar for z in load_rules(MUNICIPALITIES / "roma.toml").zones}
CALENDARS: dict[str, dict[str, ZoneCalendar]] = {"firenze": FIRENZE, "roma": ROMA}
# The years the table's calendars cover (the page's own are this year - 1 .. this year + 5).
TABLE_YEARS = range(2025, 2031)


@dataclass(frozen=True)
class When:
    """An instant to verify at, in which zone (of which city's calendars), with which plate."""

    name: str
    city: str
    zone: str
    at: str  # ISO 8601 with an offset: both verifiers read the same instant
    plate: str = ""


# Both verifiers get a permit valid only 12:00-13:00 in every zone: outside those hours it is valid
# exactly when the zone is not restricted. `restricted`: what the rules files say (rules-file.md).
TABLE: list[tuple[When, bool | None]] = [
    (When("Firenze, a Tuesday morning", "firenze", "A", "2026-06-09T10:00:00+02:00"), True),
    (When("Firenze, inside the permit's hours", "firenze", "A", "2026-06-09T12:30:00+02:00"), True),
    (When("Festa della Repubblica", "firenze", "A", "2026-06-02T10:00:00+02:00"), False),
    (When("San Giovanni, Firenze's patron", "firenze", "A", "2026-06-24T10:00:00+02:00"), False),
    (When("Easter Monday 2026", "firenze", "A", "2026-04-06T10:00:00+02:00"), False),
    (When("Easter Monday 2027", "firenze", "A", "2027-03-29T10:00:00+02:00"), False),
    (When("San Francesco, national from 2026", "firenze", "A", "2027-10-04T10:00:00+02:00"), False),
    (When("Immacolata", "firenze", "A", "2026-12-08T10:00:00+01:00"), False),
    (When("a holiday Friday's summer night", "firenze", "A", "2026-05-01T21:00:00+02:00"), True),
    (When("Friday's night at 02:59", "firenze", "A", "2026-06-13T02:59:00+02:00"), True),
    (When("Friday's night at 03:00", "firenze", "A", "2026-06-13T03:00:00+02:00"), False),
    (When("a Sunday", "firenze", "A", "2026-06-14T10:00:00+02:00"), False),
    (
        When("a Sunday, another plate", "firenze", "A", "2026-06-14T10:00:00+02:00", "ZZ999ZZ"),
        False,
    ),
    (When("a Sunday, no zone asked", "firenze", "", "2026-06-14T10:00:00+02:00"), None),
    (When("night sector: season opens", "firenze", "F", "2026-04-02T23:30:00+02:00"), True),
    (When("night sector: after midnight", "firenze", "F", "2026-04-03T02:59:00+02:00"), True),
    (When("night sector: the Thursday before", "firenze", "F", "2026-03-27T00:30:00+01:00"), False),
    (When("night sector: last night", "firenze", "F", "2026-10-04T02:00:00+02:00"), True),
    (When("night sector: season over", "firenze", "F", "2026-10-08T23:30:00+02:00"), False),
    (When("night sector: 2027 opens", "firenze", "F", "2027-04-01T23:30:00+02:00"), True),
    (When("night sector: 2027 not yet", "firenze", "F", "2027-03-25T23:30:00+01:00"), False),
    (When("Santi Pietro e Paolo, Rome's patron", "roma", "CS", "2026-06-29T10:00:00+02:00"), False),
    (When("Christmas Friday's night, off", "roma", "CS", "2026-12-26T00:30:00+01:00"), False),
    (When("Christmas night, ignored", "roma", "TRA", "2026-12-26T00:30:00+01:00"), True),
    (When("New Year's Friday night, off", "roma", "CS", "2027-01-02T00:30:00+01:00"), False),
    (When("Saturday night into Easter", "roma", "CS", "2026-04-05T00:30:00+02:00"), True),
    (When("31 July's night", "roma", "TRA", "2026-08-01T00:30:00+02:00"), True),
    (When("no nights in August", "roma", "TRA", "2026-08-01T22:00:00+02:00"), False),
    (When("a Thursday of December", "roma", "TRA", "2026-12-31T23:00:00+01:00"), False),
    (When("the season wraps the year", "roma", "TRA", "2027-01-02T00:30:00+01:00"), True),
    (When("spring DST, 01:59 CET", "roma", "TRA", "2026-03-29T00:59:00Z"), True),
    (When("spring DST, 03:00 CEST", "roma", "TRA", "2026-03-29T01:00:00Z"), False),
    (When("autumn DST, 02:30 CEST", "roma", "TRA", "2026-10-25T00:30:00Z"), True),
    (When("autumn DST, 02:30 CET", "roma", "TRA", "2026-10-25T01:30:00Z"), True),
    (When("autumn DST, 03:00 CET", "roma", "TRA", "2026-10-25T02:00:00Z"), False),
]
# Dates the table's calendars do not cover (the day before too, for last night's windows).
UNAVAILABLE = [
    When("the year before", "firenze", "A", "2024-06-11T10:00:00+02:00"),
    When(
        "the first day, whose night before is unknown", "firenze", "A", "2025-01-01T10:00:00+01:00"
    ),
    When("the year after", "roma", "TRA", "2031-03-01T00:30:00+01:00"),
]


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def firenze_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with Firenze's rules file (rich calendars), its zones, keys and a police user."""
    from flask_migrate import upgrade

    from ztl.city import sync_city
    from ztl.city.rules_config import current_rules

    folder = tmp_path_factory.mktemp("firenze")
    instance = folder / "instance"
    app = make_app(
        f"sqlite:///{folder / 'ztl.sqlite3'}",
        instance,
        ZTL_MAIL_OUTBOX=str(instance / "outbox"),
        ZTL_RULES_FILE=str(FIRENZE_RULES),
    )
    with app.app_context():
        upgrade()
        keys = key_store()
        keys.init()
        sync_city(current_rules())
        make_user("police", POLICE_EMAIL)
        db.session.remove()
    with serving(app, keys) as server:
        yield server


def _calendar_seal(server: LiveServer, valid_to: dt.datetime) -> str:
    pair = server.keys.current_seal()
    claims = SealClaims(
        issuer="IT-FI",
        seal_id=os.urandom(8),
        issued_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        valid_from=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        valid_to=valid_to,
        permit_number="FI-2026-000970",
        plates=("AB123CD",),
        zones=("A", "B", "O", "F", "G", "CS", "TRA"),
        category="1",
        windows=("12:00-13:00",),
    )
    return encode_seal(claims, pair.key, pair.kid)


def _python_result(
    seal: str,
    lists: tuple[TrustList, RevocationList],
    when: When,
    calendars: dict[str, ZoneCalendar] | None,
) -> SealResult:
    trust, revocations = lists
    check = SealCheck(_instant(when.at), when.zone or None, when.plate or None)
    return verify_seal(seal, trust.seal_keys, revocations.revoked, check, ROME, calendars)


def _verify_at_in_page(page: Any, seal: str, whens: list[When], calendars: dict[str, Any]) -> Any:
    """verifySeal in the page for each instant, with the calendars given (lists as the page has)."""
    return page.evaluate(
        """async ([seal, whens, calendars]) => {
          const lists = await import('/static/js/seal/lists.js');
          const verify = await import('/static/js/seal/verify.js');
          const app = document.getElementById('seal-app').dataset;
          const state = await lists.refreshLists({
            rootSpki: app.rootSpki, trustUrl: app.trustUrl, revocationsUrl: app.revocationsUrl,
          });
          const out = [];
          for (const when of whens) {
            const result = await verify.verifySeal(seal, state.trust, state.revocations, {
              at: new Date(when.at), zone: when.zone || null, plate: when.plate || null,
              timeZone: 'Europe/Rome', calendar: calendars[when.city],
            });
            out.push({step: result.step, detail: result.detail,
                      zoneInactive: result.zoneInactive, calendar: result.calendar});
          }
          return out;
        }""",
        [seal, [dataclasses.asdict(w) for w in whens], calendars],
    )


def _verify_in_page_at(page: Any, at: dt.datetime, zone: str, seal: str) -> dict[str, str]:
    """The form, with the page's clock set to an instant (the page verifies at 'now')."""
    page.clock.set_fixed_time(at)
    page.click("#seal-form button[type=reset]")
    page.select_option("#seal-zone", zone)
    page.fill("#seal-text", seal)
    page.click("#seal-form button[type=submit]")
    page.wait_for_function(RESULT_DONE)
    result: dict[str, str] = page.evaluate(
        """() => {
          const r = document.getElementById('seal-result');
          return {state: r.dataset.state, step: r.dataset.step, text: r.innerText,
                  zoneInactive: r.dataset.zoneInactive, calendar: r.dataset.calendar};
        }"""
    )
    return result


def test_zone_calendars_offline_agree_with_python(firenze_server: LiveServer, browser: Any) -> None:
    server = firenze_server
    year = dt.datetime.now(ROME).year
    seal = _calendar_seal(server, dt.datetime(year + 10, 1, 1, tzinfo=dt.UTC))
    lists = _python_lists(server)
    # The table first against the rules files themselves, so that it tests what it says it does.
    for when, restricted in TABLE:
        if restricted is not None:
            local = _instant(when.at).astimezone(ROME)
            assert CALENDARS[when.city][when.zone].active_local(local) is restricted, when.name
    python = {
        when.name: _python_result(seal, lists, when, CALENDARS[when.city]) for when, _ in TABLE
    }
    for when, restricted in TABLE:
        result = python[when.name]
        if restricted is False:
            assert result.zone_inactive, when.name
            if when.plate:  # not the seal's plate: refused for it, restricted zone or not
                assert result.step is not None and result.step.value == "plate", when.name
            else:
                assert result.valid, when.name
        if restricted and not when.at.endswith("12:30:00+02:00"):
            assert result.step is not None and result.step.value == "window", when.name

    table_calendars = {
        city: browser_calendar(calendars, "Europe/Rome", TABLE_YEARS)
        for city, calendars in CALENDARS.items()
    }
    context, page, problems = _new_page(browser)
    try:
        _sign_in_and_open(page, server)
        context.set_offline(True)
        response = page.reload()
        assert response is not None and response.ok and response.from_service_worker
        page.wait_for_selector('#seal-lists[data-state="ready"][data-online="false"]')
        # The calendar module is in the worker's cache, the calendars in the cached page.
        kept = page.evaluate(
            """async () => {
              const cache = await caches.open('ztl-seal-v3');
              const url = new URL('/static/js/seal/calendar.js', location.href).href;
              return Boolean(await cache.match(url));
            }"""
        )
        assert kept, "calendar.js is not kept for offline use"
        carried = json.loads(page.get_attribute("#seal-app", "data-calendar") or "null")
        years = range(year - 1, year + 6)
        assert carried == browser_calendar(FIRENZE, "Europe/Rome", years)

        whens = [when for when, _ in TABLE]
        js = _verify_at_in_page(page, seal, whens, table_calendars)
        disagreements = []
        for when, got in zip(whens, js, strict=True):
            want = python[when.name]
            expected = {
                "step": want.step.value if want.step else None,
                "detail": want.reason,
                "zoneInactive": want.zone_inactive,
                "calendar": None
                if not when.zone
                else ("inactive" if want.zone_inactive else "active"),
            }
            if got != expected:
                disagreements.append((when.name, got, expected))
        assert disagreements == []

        # Beyond the years it carries, the page says so, and only the permit's hours decide
        # (Python's answer without calendars); never a guess from a neighbouring year.
        js = _verify_at_in_page(page, seal, UNAVAILABLE, table_calendars)
        for when, got in zip(UNAVAILABLE, js, strict=True):
            want = _python_result(seal, lists, when, None)
            assert got["calendar"] == "unavailable", when.name
            assert got["step"] == (want.step.value if want.step else None), when.name
            assert got["detail"] == want.reason and got["zoneInactive"] is False, when.name

        # The form itself, with the page's own calendars, its clock set to instants of its years:
        # 2 June at 10:00 is a holiday whatever the weekday, the first Tuesday of February is not.
        holiday = dt.datetime(year, 6, 2, 10, 0, tzinfo=ROME)
        february = dt.date(year, 2, 1)
        tuesday = february + dt.timedelta(days=(1 - february.weekday()) % 7)
        working = dt.datetime.combine(tuesday, dt.time(10, 0), ROME)
        for at in (holiday, working):
            shown = _verify_in_page_at(page, at, "A", seal)
            want = _python_result(
                seal, lists, When("form", "firenze", "A", at.isoformat()), FIRENZE
            )
            assert shown["step"] == (want.step.value if want.step else ""), (at, shown)
            assert shown["zoneInactive"] == ("true" if want.zone_inactive else "false"), (at, shown)
            if at is holiday:
                assert shown["state"] == "valid" and shown["calendar"] == "inactive", shown
                assert "In questo momento la zona A non è soggetta a restrizioni" in shown["text"]
                assert "12:00-13:00" in shown["text"]
            else:
                assert shown["state"] == "invalid" and shown["calendar"] == "active", shown
                assert "Il permesso vale solo nelle fasce orarie 12:00-13:00." in shown["text"]
        later = dt.datetime(year + 7, 1, 15, 10, 0, tzinfo=ROME)
        shown = _verify_in_page_at(page, later, "A", seal)
        assert shown["state"] == "invalid" and shown["step"] == "window", shown
        assert shown["calendar"] == "unavailable"
        assert "Il calendario della zona A non è disponibile per questa data" in shown["text"]
        assert problems == []
    finally:
        context.close()
