"""The eligibility rules: pure Python, standard library only.

Facts in (frozen dataclasses), verdict out: every check result carries a stable id, pass / fail /
needs review, a message in Italian and English, and the evidence it used. No Flask, no SQLAlchemy,
no clock: the date and time are inputs, so a verdict can be replayed and explained.
Each check is one function in `checks`, registered with its declaration (parameters, facts, locks)
in `checks.CHECKS`; `registry` says why, docs/rules-file.md how to add one.
The "pure-rules" import-linter contract (setup.cfg, run by `make lint`) fails the build if this
package imports flask, sqlalchemy or any other part of ztl.
"""
