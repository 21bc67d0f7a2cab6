"""The English catalogue translates every message of the current source (Italian is the source)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "ztl" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
METHODS = [("ztl/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_messages() -> set[str]:
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        if isinstance(message, str):
            messages.add(message)
    return messages


def test_every_source_message_has_an_english_translation() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    translated = {m.id: m.string for m in catalog if m.id}
    source = _source_messages()
    assert len(source) > 50
    missing = sorted(m for m in source if not translated.get(m))
    assert missing == [], (
        f"untranslated messages (run tools/update_translations.py and translate): {missing}"
    )


def test_placeholders_survive_translation() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id and "%(" in message.id:
            names = sorted(part.split(")")[0] for part in str(message.id).split("%(")[1:])
            got = sorted(part.split(")")[0] for part in str(message.string).split("%(")[1:])
            assert names == got, message.id
