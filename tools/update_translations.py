"""Re-extract the message catalogue and merge it into the English translations.

Usage: python tools/update_translations.py  (then translate any new empty msgstr in
ztl/translations/en/LC_MESSAGES/messages.po; tests/test_i18n.py fails while one is missing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "ztl" / "translations" / "messages.pot"
BIN = Path(sys.executable).parent


def main() -> None:
    subprocess.run(
        [
            str(BIN / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(POT),
            "--no-location",
            "--sort-output",
            "--omit-header",
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    subprocess.run(
        [
            str(BIN / "pybabel"),
            "update",
            "-i",
            str(POT),
            "-d",
            str(ROOT / "ztl" / "translations"),
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        ],
        cwd=ROOT,
        check=True,
    )


if __name__ == "__main__":
    main()
