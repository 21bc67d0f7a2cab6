"""The eligibility rules: pure Python, standard library only.

Facts in (frozen dataclasses), verdict out: every check result carries a stable id, pass / fail /
needs review, a message in Italian and English, and the evidence it used. No Flask, no SQLAlchemy,
no clock: the date and time are inputs, so a verdict can be replayed and explained.
tests/test_rules_purity.py fails if this package imports flask or sqlalchemy.
"""
