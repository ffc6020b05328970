"""Dates, times and numbers written the way the request's language writes them (Babel).

The patterns are explicit per language rather than CLDR's "full"/"medium", so that a date
reads the same on every page ("Tuesday 7 December 2021", "mardi 7 décembre 2021",
"7 Aralık 2021 Salı"). A moment always names its zone: the caller gives the zone's label.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from .i18n import current_language

LOCALES = {"en": "en_GB", "fr": "fr_FR", "tr": "tr_TR"}
PATTERNS = {
    "long_date": {"en": "EEEE d MMMM y", "fr": "EEEE d MMMM y", "tr": "d MMMM y EEEE"},
    "short_date": {"en": "EEE d MMM", "fr": "EEE d MMM", "tr": "d MMM EEE"},
    "moment": {"en": "d MMM y, HH:mm", "fr": "d MMM y, HH:mm", "tr": "d MMM y HH:mm"},
    "moment_seconds": {
        "en": "d MMM y, HH:mm:ss",
        "fr": "d MMM y, HH:mm:ss",
        "tr": "d MMM y HH:mm:ss",
    },
    "day_time": {"en": "d MMM, HH:mm", "fr": "d MMM, HH:mm", "tr": "d MMM HH:mm"},
    "day": {"en": "d MMM y", "fr": "d MMM y", "tr": "d MMM y"},
}


def locale() -> str:
    return LOCALES[current_language()]


def _pattern(name: str) -> str:
    return PATTERNS[name][current_language()]


def long_date(day: date) -> str:
    """ "Tuesday 7 December 2021" / "mardi 7 décembre 2021" / "7 Aralık 2021 Salı"."""
    return format_date(day, _pattern("long_date"), locale=locale())


def short_date(day: date) -> str:
    """ "Wed 8 Dec" / "mer. 8 déc." / "8 Ara Çar"."""
    return format_date(day, _pattern("short_date"), locale=locale())


def moment(when: datetime, zone: tzinfo, zone_label: str, *, style: str = "moment") -> str:
    """A moment in one zone, the zone named: "8 Dec 2021, 16:00 (Izmir)"."""
    text = format_datetime(when, _pattern(style), tzinfo=zone, locale=locale())
    return f"{text} ({zone_label})" if zone_label else text


def number(value: int | float) -> str:
    return format_decimal(value, locale=locale())


def date_range(first: date, last: date) -> str:
    """ "7–8 December 2021", "30 November – 1 December 2021" (day, month, year in all three
    languages, so one rule serves them)."""
    full = lambda day: format_date(day, "d MMMM y", locale=locale())  # noqa: E731
    if first == last:
        return full(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{full(last)}"
    if first.year == last.year:
        return f"{format_date(first, 'd MMMM', locale=locale())} – {full(last)}"
    return f"{full(first)} – {full(last)}"
