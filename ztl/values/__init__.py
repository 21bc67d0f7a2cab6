"""Parsing and normalisation of the values that cross the system's edges.

Plates, street names, house numbers, codici fiscali and partite IVA are normalised once, where they
enter (forms, API, CLI, imports), and stored normalised; everything inside compares normalised values.
Each parser raises InvalidValue with a message a person can act on.
"""

from __future__ import annotations


class InvalidValue(ValueError):
    """A value that cannot be accepted; str() is the reason, fit to show to the person who typed it."""
