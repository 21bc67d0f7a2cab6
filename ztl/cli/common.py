"""What the `ztl` commands share: the two ways a command fails, and the words of a refusal.

Exit status (README, "Command line"): 0 done, 1 a negative answer, 2 bad usage or bad input. Both
failures print "Error: <message>" on stderr, without a usage line.

A service's refusal (a ServiceError) is worded by the error catalogue (ztl.errors) in the language
of the command: its `--lang` where it has one, otherwise the shell's locale (LANGUAGE, LC_ALL,
LC_MESSAGES, LANG: the first one set) when the service speaks it, otherwise Italian. The code and
the service's own detail (in English: the file, the line, the checks that failed) follow it, for
whoever runs the command and for scripts.
"""

from __future__ import annotations

import os

import click
from flask import current_app

from ztl.errors import error_text_in, uses_detail
from ztl.infrastructure.unit_of_work import ServiceError

LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


class BadInput(click.ClickException):
    """Bad input: printed as "Error: ..." without a usage line, exit status 2."""

    exit_code = 2


class Refused(click.ClickException):
    """A negative answer (refused by the checks, violations found, an altered trail): exit 1."""

    exit_code = 1


def cli_language() -> str:
    """The language of the shell's locale when the service speaks it, otherwise its default."""
    languages = tuple(current_app.config["ZTL_LANGUAGES"])
    default = str(current_app.config["BABEL_DEFAULT_LOCALE"])
    for variable in LOCALE_VARIABLES:
        value = os.environ.get(variable, "")
        if value:
            first = value.split(":")[0]
            language = first.split(".")[0].split("@")[0].split("_")[0].lower()
            return language if language in languages else default
    return default


def refusal_text(error: ServiceError, language: str | None = None) -> str:
    """The catalogue's words for the refusal, then its code and the service's own detail."""
    text = error_text_in(language or cli_language(), error)
    detail = str(error)
    if uses_detail(error) or not detail:
        return f"{text} ({error.code})"
    return f"{text} ({error.code}: {detail})"
