"""Language tags: the language a question was asked in, the one a programme is held in.

A short BCP 47 tag: a language subtag and at most two script, region or variant subtags
("fr", "fr-CA", "zh-Hant-TW"), 20 characters at most. The wire protocol refuses anything else
before it gets here (``townhall.realtime.messages.LanguageTag``); the programme file reports it.
"""

from __future__ import annotations

import re

from .errors import Invalid

LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}")
MAX_LANGUAGE = 20


def clean_language(raw: str | None) -> str | None:
    """A language tag in BCP 47's conventional case ("pt-BR", "zh-Hant"); None for none said."""
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_LANGUAGE or not LANGUAGE_TAG.fullmatch(raw):
        raise Invalid(
            f"{raw[:MAX_LANGUAGE]!r} is not a language tag such as en, fr or tr",
            code="question.invalid_language",
        )
    first, *rest = raw.split("-")
    subtags = [first.lower()]
    for part in rest:
        if len(part) == 4 and part.isalpha():
            subtags.append(part.title())  # script
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            subtags.append(part.upper())  # region
        else:
            subtags.append(part.lower())  # variant
    return "-".join(subtags)
