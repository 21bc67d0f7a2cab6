"""Text written into a CSV that people open in a spreadsheet: shown, never run.

A cell that starts with =, +, -, @, a tab or a carriage return is a formula to a spreadsheet, and
some of what the service exports comes from outside (a gate's reference to its picture, a name in
a register). Such a cell gets a leading apostrophe, as OWASP advises against CSV formula injection.
The accounting office's CSV and the fines system's export both write through `safe_cell`.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """Text a spreadsheet shows and never runs."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
