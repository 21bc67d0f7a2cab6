"""Language choice: Italian by default, English on request (the session, then the user's setting,
then the browser's Accept-Language)."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

SESSION_KEY = "lang"


def supported_languages() -> tuple[str, ...]:
    return tuple(current_app.config["ZTL_LANGUAGES"])


def select_locale() -> str:
    languages = supported_languages()
    chosen = session.get(SESSION_KEY)
    if chosen in languages:
        return str(chosen)
    user_language = getattr(current_user, "language", None)
    if getattr(current_user, "is_authenticated", False) and user_language in languages:
        return str(user_language)
    best = request.accept_languages.best_match(languages) if request else None
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """The language the current page speaks ("it", "en"): for text chosen in code, such as a
    rule's sentence kept in both languages, to match the page around it."""
    from flask_babel import get_locale

    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
