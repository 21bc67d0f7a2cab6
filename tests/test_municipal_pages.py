"""What every municipal service publishes: a page per permit category, contacts and hours, help,
the privacy notice and the accessibility statement, the footer on every page, and the rules file's
`[office]` table they read.

Each page is rendered for the demo city (Prato, whose rules file fills `[office]`) and for a city
set up from a rules file without `[office]` (the example city's, with the table taken out), which
must get pages that say the office has not published the detail yet, never an error.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_app, sign_in
from ztl.city import sync_city
from ztl.city.rules_config import current_rules
from ztl.extensions import db
from ztl.rules.fees import fee_for
from ztl.rules.loader import DEFAULT_RULES, RulesFileError, parse_rules
from ztl.values.display import money_text

PRATO = DEFAULT_RULES.read_text(encoding="utf-8")
ESEMPIO = (DEFAULT_RULES.parent / "esempio.toml").read_text(encoding="utf-8")
NEW_PAGES = (
    "/permessi/1",
    "/contatti",
    "/aiuto",
    "/informativa-privacy",
    "/dichiarazione-accessibilita",
)
FOOTER_LINKS = (
    ("/contatti", "Contatti e orari"),
    ("/aiuto", "Aiuto"),
    ("/informativa-privacy", "Informativa privacy"),
    ("/dichiarazione-accessibilita", "Dichiarazione di accessibilità"),
)
PRATO_FOOTER = (
    "Contatti Ufficio Permessi ZTL, Polizia Municipale Piazza del Comune 2, 59100 Prato "
    "Telefono: 0574 183 0000 E-mail: permessi.ztl@comune.prato.example "
    "PEC: comune.prato@pec.prato.example"
)


def without_office(rules_text: str) -> str:
    """A rules file with its `[office]` table (and sub-tables) taken out."""
    kept: list[str] = []
    inside = False
    for line in rules_text.splitlines(keepends=True):
        header = line.split("#", 1)[0].strip()
        if header.startswith("["):
            inside = header == "[office]" or header.startswith("[office.")
        if not inside:
            kept.append(line)
    return "".join(kept)


@pytest.fixture
def esempio(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """The example city set up from its rules file without `[office]` and without the demo, on
    the test database (emptied after the test by the `app` fixture)."""
    rules = tmp_path / "esempio-senza-ufficio.toml"
    rules.write_text(without_office(ESEMPIO), encoding="utf-8")
    city = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "instance", ZTL_RULES_FILE=str(rules)
    )
    with city.app_context():
        sync_city(current_rules())
        yield city
        db.session.remove()


def text_of(page: str) -> str:
    """The page's text as read aloud: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(without_tags)).strip()


def main_text(page: str) -> str:
    """The text of the page's <main> only (not the header or footer)."""
    found = re.search(r"<main[^>]*>(.*)</main>", page, re.S)
    assert found is not None
    return text_of(found.group(1))


def footer_text(page: str) -> str:
    found = re.search(r"<footer[^>]*>(.*)</footer>", page, re.S)
    assert found is not None
    return text_of(found.group(1))


def footer_links(page: str) -> set[tuple[str, str]]:
    found = re.search(r"<footer[^>]*>(.*)</footer>", page, re.S)
    assert found is not None
    return {
        (href, text_of(label))
        for href, label in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>(.*?)</a>', found.group(1), re.S)
    }


def _get(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


# --- the permit pages --------------------------------------------------------------------------


def test_residents_page_gives_the_full_cost_from_the_fee_function(
    city: Flask, client: FlaskClient
) -> None:
    text = main_text(_get(client, "/permessi/1"))
    assert (
        "Permesso di 1 anno: costo totale Tariffa € 15,00 Imposta di bollo sulla domanda € 16,00 "
        "Imposta di bollo sul permesso € 16,00 Totale da pagare € 47,00"
    ) in text
    assert (
        "Permesso di 2 anni: costo totale Tariffa € 30,00 Imposta di bollo sulla domanda € 16,00 "
        "Imposta di bollo sul permesso € 16,00 Totale da pagare € 62,00"
    ) in text
    # The same totals as the one function every amount comes from.
    rules = current_rules(city)
    residents = rules.category("1")
    assert money_text(fee_for(rules, residents, "P1Y", ()).total_cents) == "€ 47,00"
    assert money_text(fee_for(rules, residents, "P2Y", ()).total_cents) == "€ 62,00"
    assert "Si paga con un avviso pagoPA, emesso all'invio della domanda." in text
    assert "P1Y" not in text and "P2Y" not in text


def test_residents_page_says_who_where_when_and_how_it_is_decided(
    city: Flask, client: FlaskClient
) -> None:
    text = main_text(_get(client, "/permessi/1"))
    assert text.startswith("Pagina iniziale / Residenti Permesso ZTL: Residenti Categoria 1.")
    assert (
        "Residenza nella zona Permessi del nucleo familiare: al massimo 2 permessi di questo "
        "tipo per nucleo familiare"
    ) in text
    assert (
        "Veicolo del richiedente o del nucleo: intestato al richiedente o a un componente del "
        "suo nucleo familiare"
    ) in text
    assert "Categoria del veicolo ammessa: M1, L" in text
    assert "Ogni permesso vale per 1 veicolo." in text
    assert "A ZTL A, centro storico sempre B ZTL B tutti i giorni 07:30–18:30" in text
    assert "Il permesso consente l'accesso a qualsiasi ora." in text
    assert "Nessun documento: i dati sono controllati sui registri del Comune." in text
    assert (
        "Se tutti i controlli sui registri sono superati, il permesso è rilasciato "
        "automaticamente; se un controllo non si può concludere, decide un operatore "
        "dell'ufficio permessi. Subito, se i controlli sono superati: appena registrato il "
        "pagamento, o all'invio della domanda se il permesso è gratuito. L'ufficio decide entro "
        "30 giorni dalla domanda completa e pagata."
    ) in text
    assert "Accedi per chiedere questo permesso" in text


def test_a_clerk_decided_category_names_its_documents_and_the_offices_term(
    city: Flask, client: FlaskClient
) -> None:
    text = main_text(_get(client, "/permessi/6"))
    assert "Documenti da allegare Atto o contratto del posto auto" in text
    assert "garage_deed_or_lease" not in text
    assert (
        "Decide un operatore dell'ufficio permessi, dopo aver esaminato la domanda, i controlli "
        "sui registri e i documenti allegati. L'ufficio decide entro 30 giorni dalla domanda "
        "completa e pagata."
    ) in text
    assert "Permesso di 2 anni: costo totale Tariffa € 30,00" in text
    assert "Totale da pagare € 62,00" in text


def test_a_free_category_says_nothing_is_paid(city: Flask, client: FlaskClient) -> None:
    text = main_text(_get(client, "/permessi/H"))
    assert "Permesso di 5 anni: costo totale Tariffa € 0,00 Totale da pagare € 0,00" in text
    assert "Questo permesso è gratuito: non si paga nulla, nemmeno l'imposta di bollo." in text
    assert "pagoPA" not in text and "Imposta di bollo sulla domanda" not in text
    assert "Ogni permesso vale per un massimo di 2 veicoli." in text


def test_a_booklet_category_is_priced_by_its_booklet(city: Flask, client: FlaskClient) -> None:
    text = main_text(_get(client, "/permessi/8A"))
    booklet = (
        "Blocchetto di 40 registrazioni: costo totale Tariffa € 45,00 Totale da pagare € 45,00"
    )
    assert booklet in text
    assert "Le registrazioni si acquistano a blocchetti; ognuna vale 7 giorni." in text
    assert "Registrazione entro il termine: anche dopo il transito, entro 48 ore" in text


def test_a_category_with_its_own_hours_and_a_slash_in_its_code(
    city: Flask, client: FlaskClient
) -> None:
    text = main_text(_get(client, "/permessi/G/B"))
    assert "Il permesso consente l'accesso solo in queste ore: tutti i giorni 07:30–18:30." in text
    assert "Permesso di 1 giorno: costo totale Tariffa € 8,00 Totale da pagare € 8,00" in text
    assert "Questo permesso è esente dall'imposta di bollo." in text


def test_an_unknown_category_is_not_found(city: Flask, client: FlaskClient) -> None:
    assert client.get("/permessi/ZZ").status_code == 404


def test_the_home_page_links_every_category_page(city: Flask, client: FlaskClient) -> None:
    page = _get(client, "/")
    for category in current_rules(city).categories:
        assert f'href="/permessi/{category.code}"' in page, category.code
    assert _get(client, "/permessi/G/A")  # the codes with a slash are links that work


def test_a_resident_is_offered_the_application_form(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "resident")
    page = _get(client, "/permessi/15")
    assert 'href="/area-personale/domande/nuova/15">Chiedi questo permesso</a>' in page


# --- contacts, help, privacy, accessibility -------------------------------------------------


def test_contacts_page_gives_the_offices_details(city: Flask, client: FlaskClient) -> None:
    text = main_text(_get(client, "/contatti"))
    assert (
        "Ufficio permessi Ufficio Permessi ZTL, Polizia Municipale Indirizzo Piazza del Comune 2, "
        "59100 Prato Telefono 0574 183 0000 E-mail permessi.ztl@comune.prato.example PEC (posta "
        "elettronica certificata) comune.prato@pec.prato.example Orari di apertura al pubblico "
        "lunedì–venerdì 9:00–12:30; martedì e giovedì anche 15:00–17:00"
    ) in text
    page = _get(client, "/contatti")
    assert 'href="tel:05741830000"' in page
    assert 'href="mailto:comune.prato@pec.prato.example"' in page


def test_help_page_answers_apply_pay_documents_time_and_refusal(
    city: Flask, client: FlaskClient
) -> None:
    text = main_text(_get(client, "/aiuto"))
    for question in (
        "Come si chiede un permesso?",
        "Come si paga?",
        "Quali documenti servono?",
        "Quanto tempo ci vuole?",
        "Cosa succede se la domanda è respinta?",
        "A chi posso chiedere?",
    ):
        assert question in text
    assert "in formato PDF, JPEG o PNG, fino a 5 MB ciascuno." in text
    assert (
        "Le domande esaminate da un operatore: L'ufficio decide entro 30 giorni dalla domanda "
        "completa e pagata."
    ) in text
    assert (
        "Contro la decisione è possibile presentare ricorso al giudice amministrativo (TAR "
        "Toscana) entro 60 giorni dalla comunicazione, oppure ricorso straordinario al "
        "Presidente della Repubblica entro 120 giorni."
    ) in text


def test_privacy_notice_names_controller_dpo_and_the_rules_files_retention(
    city: Flask, client: FlaskClient
) -> None:
    text = main_text(_get(client, "/informativa-privacy"))
    assert (
        "Titolare del trattamento Comune di Prato, Piazza del Comune 2, 59100 Prato, "
        "comune.prato@pec.prato.example Responsabile della protezione dei dati (RPD/DPO) "
        "rpd@comune.prato.example"
    ) in text
    assert "i dati personali sono conservati per 10 anni dalla scadenza" in text
    assert "la targa è cancellata dopo 7 giorni" in text
    assert "art. 6, par. 1, lett. e, GDPR" in text
    assert "reclamo al Garante per la protezione dei dati personali (art. 77 GDPR)" in text
    for heading in ("Finalità e base giuridica", "A chi sono comunicati", "I tuoi diritti"):
        assert heading in text


def test_privacy_notice_follows_an_edited_retention(
    city: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ztl.city.rules_config import EXTENSION_KEY

    edited = PRATO.replace("lookups_days = 7", "lookups_days = 1").replace(
        "records_years = 10", "records_years = 5"
    )
    monkeypatch.setitem(city.extensions, EXTENSION_KEY, parse_rules(edited, "prato.toml"))
    text = main_text(_get(client, "/informativa-privacy"))
    assert "conservati per 5 anni dalla scadenza" in text
    assert "la targa è cancellata dopo 1 giorno" in text


def test_accessibility_statement_gives_the_feedback_address(
    city: Flask, client: FlaskClient
) -> None:
    text = main_text(_get(client, "/dichiarazione-accessibilita"))
    assert "scrivi a: accessibilita@comune.prato.example ." in text
    assert "Difensore civico per il digitale presso AgID" in text
    assert 'href="mailto:accessibilita@comune.prato.example"' in _get(
        client, "/dichiarazione-accessibilita"
    )


# --- the footer and the sign-up page --------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/accedi", "/registrazione", *NEW_PAGES, "/nessuna"])
def test_every_page_has_the_offices_footer(city: Flask, client: FlaskClient, path: str) -> None:
    page = client.get(path).get_data(as_text=True)
    assert set(FOOTER_LINKS) <= footer_links(page)
    assert PRATO_FOOTER in footer_text(page)


def test_the_footer_is_there_for_a_signed_in_resident(city: Flask, client: FlaskClient) -> None:
    sign_in(client, "resident")
    page = _get(client, "/area-personale/")
    assert set(FOOTER_LINKS) <= footer_links(page)
    assert PRATO_FOOTER in footer_text(page)


def test_sign_up_links_the_privacy_notice_beside_the_button(
    city: Flask, client: FlaskClient
) -> None:
    page = _get(client, "/registrazione")
    form = page[page.index('action="/registrazione"') :]
    form = form[: form.index("</form>")]
    assert '<a href="/informativa-privacy">Leggi l\'informativa privacy</a>' in form
    assert form.index("/informativa-privacy") < form.index('type="submit"')
    assert 'aria-describedby="privacy-note"' in form


# --- a city whose rules file has no [office] --------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/permessi/1", *NEW_PAGES[1:]])
def test_a_city_without_office_gets_every_page(esempio: Flask, path: str) -> None:
    page = _get(esempio.test_client(), path)
    assert "Comune di Esempio" in page and "Prato" not in page
    assert set(FOOTER_LINKS) <= footer_links(page)
    assert "L'ufficio permessi non ha ancora pubblicato i propri contatti." in footer_text(page)


def test_without_office_the_pages_say_what_is_not_published(esempio: Flask) -> None:
    client = esempio.test_client()
    assert (
        "Ufficio permessi L'ufficio permessi non ha ancora pubblicato i propri contatti. Per "
        "informazioni rivolgersi al centralino del Comune."
    ) in main_text(_get(client, "/contatti"))
    assert (
        "L'ufficio non ha ancora pubblicato un indirizzo di posta elettronica certificata (PEC)."
    ) in main_text(_get(client, "/contatti"))
    privacy = main_text(_get(client, "/informativa-privacy"))
    assert "Titolare del trattamento: Comune di Esempio. Il Comune non ha ancora pubblicato" in (
        privacy
    )
    # esempio.toml's own [retention]: 5 years, 3 days.
    assert "conservati per 5 anni dalla scadenza" in privacy
    assert "la targa è cancellata dopo 3 giorni" in privacy
    assert (
        "Il Comune non ha ancora pubblicato in questo servizio un indirizzo per le segnalazioni "
        "sull'accessibilità"
    ) in main_text(_get(client, "/dichiarazione-accessibilita"))
    help_text = main_text(_get(client, "/aiuto"))
    assert (
        "Contro la decisione è possibile presentare ricorso al giudice amministrativo "
        "(Tribunale amministrativo regionale competente) entro 60 giorni dalla comunicazione, "
        "oppure ricorso straordinario al Presidente della Repubblica entro 120 giorni."
    ) in help_text
    assert (
        "L'ufficio non ha ancora pubblicato il proprio termine per decidere: vale quello di "
        "legge, 30 giorni dalla domanda completa e pagata (legge 241/1990, art. 2)."
    ) in help_text


def test_without_office_a_category_page_still_gives_its_cost(esempio: Flask) -> None:
    text = main_text(_get(esempio.test_client(), "/permessi/1"))
    assert (
        "Permesso di 1 anno: costo totale Tariffa € 15,00 Imposta di bollo sulla domanda € 16,00 "
        "Imposta di bollo sul permesso € 16,00 Totale da pagare € 47,00"
    ) in text
    assert "Nessuna tariffa per i veicoli con alimentazione: elettrico." in text
    assert "L'ufficio non ha ancora pubblicato il proprio termine per decidere" in text


# --- the rules file's [office] ----------------------------------------------------------------


def test_prato_publishes_its_office() -> None:
    office = parse_rules(PRATO, "prato.toml").office
    assert office is not None and office.privacy is not None and office.appeal is not None
    assert (office.name, office.email, office.decision_days) == (
        "Ufficio Permessi ZTL, Polizia Municipale",
        "permessi.ztl@comune.prato.example",
        30,
    )
    assert (office.appeal.court, office.appeal.court_days, office.appeal.president_days) == (
        "TAR Toscana",
        60,
        120,
    )
    assert office.privacy.dpo_email == "rpd@comune.prato.example"


def test_office_is_optional_and_the_appeal_terms_default_to_the_statutory_ones() -> None:
    assert parse_rules(without_office(PRATO), "x").office is None
    short = PRATO.replace("court_days = 60", "").replace("president_days = 120", "")
    office = parse_rules(short, "x").office
    assert office is not None and office.appeal is not None
    assert (office.appeal.court_days, office.appeal.president_days) == (60, 120)


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        (
            'email = "permessi.ztl@comune.prato.example"',
            'email = "permessi.ztl"',
            "office.email",
            "'permessi.ztl' is not an e-mail address",
        ),
        (
            'pec = "comune.prato@pec.prato.example"',
            'pecc = "comune.prato@pec.prato.example"',
            "office.pecc",
            "unknown setting 'pecc'",
        ),
        (
            'hours_en = "Monday to Friday 9:00–12:30; Tuesday and Thursday also 15:00–17:00"',
            "",
            "office.hours_en",
            "give the office hours in both languages, or neither",
        ),
        (
            "decision_days = 30",
            "decision_days = 0",
            "office.decision_days",
            "must be a number of days from 1 to 365, got 0",
        ),
        (
            'phone = "0574 183 0000"',
            'phone = "chiamare"',
            "office.phone",
            "'chiamare' is not a telephone number",
        ),
        (
            'dpo_email = "rpd@comune.prato.example"',
            'dpo_email = ""',
            "office.privacy.dpo_email",
            "must not be empty",
        ),
        (
            'court = "TAR Toscana"',
            "court = 60",
            "office.appeal.court",
            "must be text, got 60",
        ),
        (
            "court_days = 60",
            "court_days = 0",
            "office.appeal.court_days",
            "must be a number of days from 1 to 365, got 0",
        ),
    ],
)
def test_a_broken_office_names_line_and_field(old: str, new: str, field: str, problem: str) -> None:
    assert old in PRATO, old
    broken = PRATO.replace(old, new, 1)
    with pytest.raises(RulesFileError) as info:
        parse_rules(broken, "prato.toml")
    error = info.value
    assert (error.field, error.problem[: len(problem)]) == (field, problem), str(error)
    assert str(error).startswith(f"prato.toml, line {error.line}, {field}: ")
    assert error.line is not None
    line = broken.splitlines()[error.line - 1]
    key = field.rsplit(".", 1)[-1]
    if key != "hours_en":  # a missing key is reported at its table's header
        assert key in line, (error.line, line)
    else:
        assert line == "[office]"


def test_a_missing_required_office_key_is_named() -> None:
    broken = PRATO.replace('address = "Piazza del Comune 2, 59100 Prato"\n', "", 1)
    with pytest.raises(RulesFileError, match=r"office\.address: missing"):
        parse_rules(broken, "prato.toml")
