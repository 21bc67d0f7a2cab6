"""Pages of the supervisor role: the dashboard and the rules in force; the other pages are in
the sibling modules, all on one blueprint guarded by role (ztl.web.supervisor.blueprint).
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _

from ztl.city.rules_config import current_rules
from ztl.labels import STATUS_LABELS, label
from ztl.records.overview import gates, zones_with_hours
from ztl.records.statistics import AGE_GROUPS, dashboard
from ztl.rules.loader import DEFAULT_RULES
from ztl.web.context import category_name
from ztl.web.supervisor import import_pages, lookup_pages, payment_pages, token_pages, user_pages
from ztl.web.supervisor.blueprint import bp
from ztl.web.supervisor.charts import BarChart, bar_chart
from ztl.web.supervisor.rules_text import category_rows

__all__ = ["bp", "import_pages", "lookup_pages", "payment_pages", "token_pages", "user_pages"]


def _age_label(key: str) -> str:
    names = {
        "0-7": _("Da 0 a 7 giorni"),
        "8-30": _("Da 8 a 30 giorni"),
        "31+": _("Oltre 30 giorni"),
    }
    return names.get(key, key)


def _charts() -> tuple[dict[str, BarChart], int]:
    figures = dashboard()
    charts = {
        "category": bar_chart(
            _("Permessi attivi per tipo di permesso"),
            [(f"{c.code} · {category_name(c)}", c.count) for c in figures.permits_by_category],
        ),
        "zone": bar_chart(
            _("Permessi attivi per zona"),
            [(f"{z.code} · {z.name}", z.count) for z in figures.permits_by_zone],
        ),
        "status": bar_chart(
            _("Domande in attesa per stato"),
            [(label(STATUS_LABELS, s), n) for s, n in figures.waiting_by_status.items()],
        ),
        "age": bar_chart(
            _("Domande in attesa per giorni dall'invio"),
            [(_age_label(key), figures.waiting_by_age[key]) for key, _last in AGE_GROUPS],
        ),
    }
    return charts, figures.flagged


@bp.get("/")
def home() -> str:
    charts, flagged = _charts()
    return render_template("supervisor/home.html", charts=charts, flagged=flagged)


@bp.get("/categorie")
def rules() -> str:
    municipality = current_rules()
    # Only the file's name: the server's directories are nobody's business on a web page.
    rules_file = Path(current_app.config.get("ZTL_RULES_FILE") or DEFAULT_RULES).name
    return render_template(
        "supervisor/rules.html",
        municipality=municipality,
        rows=category_rows(municipality),
        rules_file=rules_file,
        zones=zones_with_hours(),
        gates=gates(),
    )
