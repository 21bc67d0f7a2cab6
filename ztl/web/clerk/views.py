"""The clerks' queue (the home page of the back office); the other pages register from their modules.

Why the filters are read through a form: the query string is typed by people and by bookmarks, so a
value the form does not know (a status, a sort, a page that is not a number) is answered with the
filters and a message (400), never passed on to the database or turned into a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from ztl.applications.clerk_queue import QueueQuery, queue_page
from ztl.errors import error_text
from ztl.infrastructure.unit_of_work import ServiceError
from ztl.records.overview import categories_in_force, flagged_permits, zones_with_hours
from ztl.web.clerk.blueprint import bp
from ztl.web.clerk.forms import QueueFilterForm
from ztl.web.clerk.texts import labels
from ztl.web.context import category_name

# Query-string names of the filters (Italian, like the paths) and their defaults.
FILTERS = {"stato": "", "categoria": "", "zona": "", "eta": "", "ordine": "oldest", "q": ""}
PAGE_NEIGHBOURS = 2
PAGE_INVALID = _l("Il numero di pagina non è valido: scrivi un numero intero da 1 in su.")


def _filter_form() -> QueueFilterForm:
    form = QueueFilterForm(request.args)
    form.categoria.choices = [
        ("", str(_l("Tutte le categorie"))),
        *((c.code, f"{c.code} · {category_name(c)}") for c in categories_in_force()),
    ]
    form.zona.choices = [
        ("", str(_l("Tutte le zone"))),
        *((z.code, f"{z.code} · {z.name}") for z, _windows in zones_with_hours()),
    ]
    return form


def _page_number(raw: str | None) -> int | None:
    """The requested page, 1 when absent; None when it is not a positive whole number."""
    text = (raw or "1").strip()
    if not text.isdigit() or len(text) > 6 or int(text) < 1:
        return None
    return int(text)


def _query(form: QueueFilterForm, page: int) -> QueueQuery:
    return QueueQuery(
        status=form.stato.data or "",
        category=form.categoria.data or "",
        zone=form.zona.data or "",
        min_age_days=int(form.eta.data) if form.eta.data else None,
        search=(form.q.data or "").strip(),
        sort=form.ordine.data or "oldest",
        page=page,
    )


def _kept_filters(form: QueueFilterForm) -> dict[str, str]:
    """The filters that differ from their defaults: what every page link carries along."""
    kept = {name: str(form[name].data or "").strip() for name in FILTERS}
    return {name: value for name, value in kept.items() if value and value != FILTERS[name]}


def page_links(current: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and the current one's neighbours; None is a gap."""
    shown = {1, pages, *range(current - PAGE_NEIGHBOURS, current + PAGE_NEIGHBOURS + 1)}
    numbers = sorted(n for n in shown if 1 <= n <= pages)
    links: list[int | None] = []
    for number in numbers:
        if links and links[-1] is not None and number - links[-1] > 1:
            links.append(None)
        links.append(number)
    return links


@bp.get("/")
def home() -> Any:
    form = _filter_form()
    page = _page_number(request.args.get("pagina"))
    problems = [] if page is not None else [str(PAGE_INVALID)]
    result = None
    if form.validate() and page is not None:
        try:
            result = queue_page(_query(form, page))
        except ServiceError as exc:  # a filter the service refuses: shown, not raised
            problems.append(error_text(exc))
    now = dt.datetime.now(dt.UTC)
    ages = {
        a.id: (now - a.submitted_at).days
        for a in (result.applications if result else [])
        if a.submitted_at is not None
    }
    page_html = render_template(
        "clerk/home.html",
        filters=form,
        problems=problems,
        queue=result,
        ages=ages,
        kept=_kept_filters(form),
        links=page_links(result.page, result.pages) if result else [],
        flagged=flagged_permits(),
        **labels(),
    )
    return page_html, (200 if result is not None else 400)


from ztl.web.clerk import application_pages, delegation_pages, permit_pages  # noqa: E402, F401
