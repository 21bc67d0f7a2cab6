"""The English catalogue translates every message (Italian is the source language of the code).

Two views of "every message": the catalogue template (ztl/translations/messages.pot) and the source
itself, extracted afresh, so that a string added to a template or a view without running
tools/update_translations.py fails here rather than showing up in Italian on an English page.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "ztl" / "translations" / "messages.pot"
PO = ROOT / "ztl" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
METHODS = [
    ("ztl/**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
HINT = "run tools/update_translations.py, then translate the new msgstr in the English .po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _english() -> dict[str, str]:
    return {str(m.id): str(m.string) for m in _read(PO, "en") if m.id and not m.fuzzy}


def _source_messages() -> set[str]:
    messages = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        if isinstance(message, str):
            messages.add(message)
    return messages


def test_every_message_of_the_template_is_translated_into_english() -> None:
    template = {str(m.id) for m in _read(POT) if m.id}
    assert len(template) > 50
    english = _english()
    missing = sorted(m for m in template if not english.get(m))
    assert missing == [], f"missing or empty in the English catalogue ({HINT}): {missing}"


def test_every_message_of_the_source_is_in_the_template_and_translated() -> None:
    template = {str(m.id) for m in _read(POT) if m.id}
    source = _source_messages()
    assert sorted(source - template) == [], f"messages.pot is out of date ({HINT})"
    english = _english()
    assert sorted(m for m in source if not english.get(m)) == [], HINT


def test_placeholders_survive_translation() -> None:
    for message in _read(PO, "en"):
        if message.id and "%(" in str(message.id):
            names = sorted(part.split(")")[0] for part in str(message.id).split("%(")[1:])
            got = sorted(part.split(")")[0] for part in str(message.string).split("%(")[1:])
            assert names == got, message.id
