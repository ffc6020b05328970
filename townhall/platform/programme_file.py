"""The human-editable programme file (TOML): read it into a checked :class:`ProgrammeSpec`.

The format is documented in ``docs/programme-format.md``. Errors name the file, the entry and
the field, and every problem in the file is reported at once.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Any

from .errors import Invalid
from .languages import clean_language
from .programme_spec import (
    PERSON_TEXT_FIELDS,
    SEAT_FIELDS,
    SLOT_FIELDS,
    AppearanceSpec,
    EventSpec,
    PartSpec,
    PersonSpec,
    Problems,
    ProgrammeError,
    ProgrammeSpec,
    SessionSpec,
    ZoneSpec,
    check_programme,
    local_to_utc,
    zone_or_none,
)

FORMAT_VERSION = 1
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

EVENT_FIELDS = {
    "slug",
    "title",
    "short_title",
    "description",
    "timezone",
    "programme_status",
    "website",
    "language",
    "reference_zones",
    "parts",
}
PERSON_FIELDS = {"key", *PERSON_TEXT_FIELDS}
APPEARANCE_FIELDS = {"role", "status", "segment", "topic", "person", *SLOT_FIELDS, *SEAT_FIELDS}
SESSION_FIELDS = {
    "slug",
    "title",
    "kind",
    "format",
    "part",
    "date",
    "start",
    "end",
    "end_date",
    "description",
    "guiding_questions",
    "people",
}


class _Reader:
    """Typed access to one TOML table, recording problems instead of raising at the first."""

    def __init__(self, problems: Problems, where: str, table: Any, allowed: set[str]) -> None:
        self.problems = problems
        self.where = where
        self.table: dict[str, Any] = table if isinstance(table, dict) else {}
        if not isinstance(table, dict):
            problems.add(where, "expected a table")
        for name in sorted(set(self.table) - allowed):
            problems.add(where, f"unknown field {name!r} (allowed: {', '.join(sorted(allowed))})")

    def text(self, name: str, *, required: bool = False, default: str | None = None) -> str | None:
        value = self.table.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, f"field {name!r}: required")
            return default
        if not isinstance(value, str):
            self.problems.add(self.where, f"field {name!r}: expected a string")
            return default
        value = value.strip()
        if required and not value:
            self.problems.add(self.where, f"field {name!r}: must not be empty")
        return value or default

    def day(self, name: str, *, required: bool = False) -> date | None:
        value = self.table.get(name)
        if value is None:
            if required:
                self.problems.add(self.where, f"field {name!r}: required")
            return None
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        self.problems.add(self.where, f"field {name!r}: expected a date such as 2021-12-07")
        return None

    def clock(self, name: str) -> time | None:
        value = self.table.get(name)
        if value is None:
            return None
        if isinstance(value, str) and (match := CLOCK.match(value)):
            return time(int(match[1]), int(match[2]))
        self.problems.add(self.where, f'field {name!r}: expected a time "HH:MM", got {value!r}')
        return None

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.add(self.where, f"field {name!r}: expected a list of strings")
            return ()
        return tuple(v.strip() for v in value if v.strip())

    def tables(self, name: str) -> list[Any]:
        value = self.table.get(name, [])
        if not isinstance(value, list):
            self.problems.add(self.where, f"field {name!r}: expected a list of tables")
            return []
        return value


def load_programme_file(path: str | Path) -> ProgrammeSpec:
    """Read and check a programme file; raise :class:`ProgrammeError` naming every problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProgrammeError([f"{path}: cannot read the file: {exc.strerror}"]) from None
    return parse_programme(raw.decode("utf-8", errors="replace"), source=str(path))


def parse_programme(text: str, *, source: str = "<programme>") -> ProgrammeSpec:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError([f"{source}: not valid TOML: {exc}"]) from None
    problems = Problems(source)
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        problems.add("format_version", f"expected {FORMAT_VERSION}, got {version!r}")
    for name in sorted(set(document) - {"format_version", "event", "people", "sessions"}):
        problems.add(
            name, "unknown top-level field (allowed: format_version, event, people, sessions)"
        )

    event = _read_event(problems, document.get("event"))
    people = [_read_person(problems, i, p) for i, p in enumerate(_list(document, "people"))]
    zone = zone_or_none(event.timezone) if event else None
    sessions: list[SessionSpec] = []
    for index, table in enumerate(_list(document, "sessions")):
        session, slots = _read_session(problems, index, table, zone)
        people.extend(slots)
        if session is not None:
            sessions.append(session)
    problems.raise_if_any()
    assert event is not None
    spec = ProgrammeSpec(event=event, people=tuple(people), sessions=tuple(sessions))
    check_programme(spec, source)
    return spec


def _list(document: dict[str, Any], name: str) -> list[Any]:
    value = document.get(name, [])
    return value if isinstance(value, list) else []


def _read_event(problems: Problems, table: Any) -> EventSpec | None:
    if table is None:
        problems.add("event", "required table [event] is missing")
        return None
    read = _Reader(problems, "event", table, EVENT_FIELDS)
    zones = []
    for index, item in enumerate(read.tables("reference_zones")):
        z = _Reader(problems, f"event.reference_zones[{index}]", item, {"label", "zone"})
        zones.append(
            ZoneSpec(z.text("label", required=True) or "", z.text("zone", required=True) or "")
        )
    parts = []
    for index, item in enumerate(read.tables("parts")):
        p = _Reader(
            problems,
            f"event.parts[{index}]",
            item,
            {"slug", "title", "format", "location", "dates", "description"},
        )
        dates = []
        raw_dates = p.table.get("dates", [])
        if not isinstance(raw_dates, list):
            problems.add(p.where, "field 'dates': expected a list of dates such as [2021-12-07]")
            raw_dates = []
        for value in raw_dates:
            if isinstance(value, date) and not hasattr(value, "hour"):
                dates.append(value)
            else:
                problems.add(p.where, f"field 'dates': {value!r} is not a date")
        parts.append(
            PartSpec(
                slug=p.text("slug", required=True) or "",
                title=p.text("title", required=True) or "",
                format=p.text("format", required=True) or "",
                location=p.text("location"),
                description=p.text("description", default="") or "",
                dates=tuple(dates),
            )
        )
    return EventSpec(
        slug=read.text("slug", required=True) or "",
        title=read.text("title", required=True) or "",
        timezone=read.text("timezone", required=True) or "",
        short_title=read.text("short_title"),
        description=read.text("description", default="") or "",
        programme_status=read.text("programme_status"),
        website=read.text("website"),
        language=_language(problems, read.text("language")),
        reference_zones=tuple(zones),
        parts=tuple(parts),
    )


def _language(problems: Problems, tag: str | None) -> str | None:
    try:
        return clean_language(tag)
    except Invalid:
        problems.add("event", f"field 'language': {tag!r} is not a language tag such as en or fr")
        return None


def _read_person(problems: Problems, index: int, table: Any) -> PersonSpec:
    key = table.get("key") if isinstance(table, dict) else None
    read = _Reader(problems, f"people[{index}] ({key!r})", table, PERSON_FIELDS)
    return PersonSpec(
        key=read.text("key", required=True) or "",
        **{name: read.text(name) for name in sorted(PERSON_FIELDS - {"key"})},
    )


def _read_session(
    problems: Problems, index: int, table: Any, zone: Any
) -> tuple[SessionSpec | None, list[PersonSpec]]:
    slug = table.get("slug") if isinstance(table, dict) else None
    read = _Reader(problems, f"sessions[{index}] ({slug!r})", table, SESSION_FIELDS)
    day = read.day("date", required=True)
    end_day = read.day("end_date") or day
    start, end = read.clock("start"), read.clock("end")
    starts_at = ends_at = None
    if zone is not None and day is not None and start is not None and end is not None:
        starts_at = local_to_utc(day, start, zone)
        ends_at = local_to_utc(end_day or day, end, zone)
    elif (start is None) != (end is None) and "start" in read.table and "end" in read.table:
        pass  # a malformed time was already reported
    elif (start is None) != (end is None):
        problems.add(read.where, "give both 'start' and 'end', or neither (time to be announced)")

    appearances: list[AppearanceSpec] = []
    slots: list[PersonSpec] = []
    for number, item in enumerate(read.tables("people")):
        a = _Reader(problems, f"{read.where}.people[{number}]", item, APPEARANCE_FIELDS)
        person = a.text("person")
        slot_values = {name: a.text(name) for name in sorted((*SLOT_FIELDS, *SEAT_FIELDS))}
        if person is not None and any(slot_values.values()):
            problems.add(a.where, "give either 'person' (a key) or slot fields, not both")
        if person is None:
            if not any(slot_values[n] for n in ("label", "organisation", "city")):
                problems.add(a.where, "a slot needs 'person', or one of label, organisation, city")
            person = f"{slug}.{number + 1}"
            slots.append(PersonSpec(key=person, **slot_values))
        appearances.append(
            AppearanceSpec(
                person=person,
                role=a.text("role", required=True) or "",
                status=a.text("status", default="confirmed") or "confirmed",
                segment=a.text("segment"),
                topic=a.text("topic"),
            )
        )
    if day is None:
        return None, slots
    return (
        SessionSpec(
            slug=read.text("slug", required=True) or "",
            title=read.text("title", required=True) or "",
            kind=read.text("kind", required=True) or "",
            format=read.text("format", required=True) or "",
            part=read.text("part"),
            day=day,
            starts_at=starts_at,
            ends_at=ends_at,
            description=read.text("description", default="") or "",
            guiding_questions=read.texts("guiding_questions"),
            appearances=tuple(appearances),
        ),
        slots,
    )
