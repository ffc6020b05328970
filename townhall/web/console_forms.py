"""What the console's programme forms share: choices, reading dates and times the way the
programme file does, and putting each of the importer's problems next to its field."""

from __future__ import annotations

import re
from datetime import date, time

from townhall.platform.programme_spec import FORMATS, ROLES, SESSION_KINDS, STATUSES

from .i18n import N_, gettext
from .programme_view import format_label, kind_label

CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::00)?$")
PROBLEM = re.compile(
    r"^[^:]+: sessions\[\d+\] \('(?P<slug>[^']*)'\)(?:\.people\[(?P<row>\d+)\])?: (?P<text>.*)$"
)
FIELD = re.compile(r"^field '(?P<field>\w+)'")
ROLE_NAMES = {
    "welcome": N_("Welcome"),
    "keynote": N_("Keynote"),
    "moderator": N_("Moderator"),
    "introduction": N_("Introduction"),
    "panelist": N_("Panelist"),
    "discussant": N_("Discussant"),
    "special_message": N_("Special message"),
    "presenter": N_("Presenter"),
}
STATUS_NAMES = {
    "confirmed": N_("Confirmed"),
    "tbc": N_("To be confirmed"),
    "tbd": N_("To be determined"),
}
assert list(ROLE_NAMES) == list(ROLES)
assert list(STATUS_NAMES) == list(STATUSES)


def choices() -> dict[str, list[tuple[str, str]]]:
    """The forms' choices, labelled in the request's language."""
    return {
        "kinds": [(k, kind_label(k)) for k in SESSION_KINDS],
        "formats": [(f, format_label(f)) for f in FORMATS],
        "roles": [(r, gettext(ROLE_NAMES[r])) for r in ROLES],
        "statuses": [(s, gettext(label)) for s, label in STATUS_NAMES.items()],
    }


class Errors(dict[str, list[str]]):
    """Problems by form field name; ``general`` for those that name no field of the form."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def parse_date(raw: str, field: str, errors: Errors, *, required: bool = False) -> date | None:
    if not raw:
        if required:
            errors.add(field, f"field '{field}': required")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.add(field, f"field '{field}': expected a date such as 2021-12-07, got {raw!r}")
        return None


def parse_clock(raw: str, field: str, errors: Errors) -> time | None:
    if not raw:
        return None
    if match := CLOCK.match(raw):
        return time(int(match[1]), int(match[2]))
    errors.add(field, f"field '{field}': expected a time \"HH:MM\", got {raw!r}")
    return None


def sort_problems(
    problems: list[str], errors: Errors, *, rows: list[int], known: bool = False
) -> None:
    """Each importer problem next to the form field it names (people rows by position).

    ``known``: ``errors`` already holds the form's own problems; skip what follows from them
    (a time that could not be read is missing for the importer)."""
    skip = set(errors) | ({"start", "end"} if {"start", "end", "end_date"} & set(errors) else set())
    for problem in problems:
        match = PROBLEM.match(problem)
        if match is None:
            errors.add("general", problem.partition(": ")[2] or problem)
            continue
        text = match["text"]
        named = FIELD.match(text)
        field = named["field"] if named else ("end" if "'start' and 'end'" in text else "general")
        if match["row"] is not None:
            number = int(match["row"])
            row = rows[number] if number < len(rows) else number
            field = f"people-{row}-{field if named else 'person'}"
        if known and field in skip:
            continue
        errors.add(field, text)
