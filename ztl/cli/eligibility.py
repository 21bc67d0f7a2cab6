"""`ztl eligibility check`: the verdict with every check, for a counter clerk or a script.

Exit status: 0 eligible, 1 not eligible or needs review (not a "yes"), 2 bad input.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from ztl.cli.common import BadInput, refusal_text
from ztl.eligibility.service import (
    EligibilityInputError,
    EligibilityRequest,
    PlateInput,
    check_eligibility,
)
from ztl.values import InvalidValue
from ztl.values.display import money_text
from ztl.values.times import parse_date, parse_instant

SYMBOLS = {"pass": "✔", "fail": "✘", "needs_review": "?"}


def _plate(raw: str) -> PlateInput:
    """ "AB123CD" or "DE:MAB1234" for a foreign plate with its country."""
    country, sep, plate = raw.partition(":")
    return PlateInput(plate, country) if sep else PlateInput(raw)


@click.group(help="Eligibility checks.")
def eligibility() -> None:
    pass


@eligibility.command("check")
@click.option(
    "--category", required=True, help="Category code (1, 15, 6, H, 4, 63, 13, 3, 8A, G/A, G/B, T)."
)
@click.option("--applicant", required=True, help="Codice fiscale or partita IVA.")
@click.option(
    "--plate", "plates", multiple=True, required=True, help="Plate; CC:PLATE for a foreign one."
)
@click.option(
    "--zone", "zones", multiple=True, help="Zone asked for (default: by category and residence)."
)
@click.option("--at", "at", default=None, help="Start date YYYY-MM-DD, or a time with offset.")
@click.option("--validity", default=None, help="Validity offered by the category, e.g. P2Y.")
@click.option("--document", "documents", multiple=True, help="Kind of a document attached.")
@click.option(
    "--transit-at",
    default=None,
    help="Time of the transit being registered afterwards (with offset).",
)
@click.option("--lang", type=click.Choice(["it", "en"]), default="it", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def check(
    category: str,
    applicant: str,
    plates: tuple[str, ...],
    zones: tuple[str, ...],
    at: str | None,
    validity: str | None,
    documents: tuple[str, ...],
    transit_at: str | None,
    lang: str,
    as_json: bool,
) -> None:
    now = dt.datetime.now(dt.UTC)
    valid_from = None
    transit = None
    try:
        transit = parse_instant(transit_at) if transit_at else None
        if at and "T" in at:
            now = parse_instant(at)
        elif at:
            valid_from = parse_date(at)
    except InvalidValue as exc:
        raise BadInput(str(exc)) from exc
    request = EligibilityRequest(
        category=category,
        applicant_id=applicant,
        plates=tuple(_plate(p) for p in plates),
        at=now,
        zones=tuple(z.upper() for z in zones),
        valid_from=valid_from,
        validity=validity,
        documents=documents,
        transit_at=transit,
    )
    try:
        result = check_eligibility(request)
    except EligibilityInputError as exc:
        raise BadInput(refusal_text(exc, lang)) from exc
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        outcome = result.verdict.outcome.value
        click.echo(
            f"{outcome.upper()}  category {category}, applicant {result.facts.applicant.subject_id}, "
            f"zones {', '.join(result.facts.zones)}"
        )
        for r in result.verdict.results:
            click.echo(
                f"  {SYMBOLS[r.status.value]} {r.check_id:<22} {r.message.in_language(lang)}"
            )
        click.echo(
            f"fee {money_text(result.fee.fee_cents)} + stamp duty "
            f"{money_text(result.fee.stamp_duty_cents)}"
        )
    if result.verdict.outcome.value != "eligible":
        raise SystemExit(1)
