"""Import a c3voc/pretalx ``schedule.json`` as a :class:`ProgrammeSpec`.

The format is the one pretalx, frab and Townhall's own export write (schema in
``shared/schemas/schedule.json.schema.json``). The structure is checked by hand here (the
platform layer uses the standard library only); every problem names the source, the entry
(day, room, event guid or slug, person) and the field, and all of them are reported at once.

How it maps onto Townhall's programme:

- conference ``acronym`` → event slug (slugified: ``mayors_summit_2021`` → ``mayors-summit-2021``),
  ``title``, ``description`` and ``url`` (website); ``time_zone_name`` → the event's time zone
  and its one reference zone (``UTC`` when absent).
- Every event → a session. Its slug is the event's ``slug`` without the ``{acronym}-`` and
  ``{id}-`` prefixes pretalx adds (``democon-25-focused-hardware`` → ``focused-hardware``),
  else the slugified title, made unique with ``-2``, ``-3`` …. It starts at ``date`` (which
  carries its UTC offset) and ends ``duration`` later (``end`` when there is no duration);
  its day is the start's date in the conference's zone.
- ``type`` → kind: the first word of the type found in :data:`KINDS_BY_WORD` ("Talk" →
  presentation, "Workshop" → workshop …), else "other".
- ``abstract`` and ``description`` → the description, as two paragraphs (``subtitle``,
  ``track``, ``links`` and biographies have no place in the domain and are dropped).
- ``persons`` → people with the role "presenter"; a person's key is ``person-{id}``, else their
  lowercased pretalx ``code``, else their slugified name, so re-importing updates in place.
- Rooms become the session's format. The format cannot say whether a room is a place or a
  stream, and Townhall exists to run sessions in live rooms, so every session is "online"
  unless its room's name clearly says otherwise: "hybrid" → hybrid; "on-site", "onsite",
  "on site", "in-person", "in person" or "offline" → on-site.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .programme_spec import (
    AppearanceSpec,
    EventSpec,
    PersonSpec,
    Problems,
    ProgrammeError,
    ProgrammeSpec,
    SessionSpec,
    ZoneSpec,
    check_programme,
    zone_or_none,
)

KINDS_BY_WORD = {
    "talk": "presentation",
    "lecture": "presentation",
    "presentation": "presentation",
    "keynote": "keynote",
    "workshop": "workshop",
    "hands-on": "workshop",
    "tutorial": "workshop",
    "panel": "panel",
    "discussion": "dialogue",
    "dialogue": "dialogue",
    "plenary": "plenary",
    "opening": "opening",
    "welcome": "opening",
    "ceremony": "ceremony",
    "closing": "ceremony",
    "break": "break",
    "lunch": "break",
    "pause": "break",
}
HYBRID_ROOM = re.compile(r"\bhybrid\b", re.IGNORECASE)
ON_SITE_ROOM = re.compile(r"\b(on[- ]?site|in[- ]person|offline)\b", re.IGNORECASE)
DURATION = re.compile(r"^(\d{1,3}):([0-5]\d)(?::([0-5]\d))?$")
MAX_SLUG = 80


def load_schedule_json(path: str | Path) -> ProgrammeSpec:
    """Read and check a ``schedule.json``; raise :class:`ProgrammeError` naming every problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProgrammeError([f"{path}: cannot read the file: {exc.strerror}"]) from None
    return parse_schedule_json(raw.decode("utf-8", errors="replace"), source=str(path))


def parse_schedule_json(text: str, *, source: str = "<schedule.json>") -> ProgrammeSpec:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProgrammeError(
            [f"{source}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"]
        ) from None
    problems = Problems(source)
    if not isinstance(document, dict):
        raise ProgrammeError([f"{source}: document: expected an object with a 'schedule'"])
    schedule = _table(problems, "document", document, "schedule")
    conference = _table(problems, "schedule", schedule, "conference") if schedule else None
    problems.raise_if_any()
    assert conference is not None

    event = _read_event(problems, conference)
    zone = zone_or_none(event.timezone) or ZoneInfo("UTC")
    reader = _EventReader(problems, zone, acronym=_text(conference, "acronym") or "")
    days = conference.get("days")
    if not isinstance(days, list):
        problems.add("schedule.conference", "field 'days': expected a list of days")
        days = []
    for index, day in enumerate(days):
        where = f"schedule.conference.days[{index}]"
        if not isinstance(day, dict):
            problems.add(where, "expected an object (a day)")
            continue
        if isinstance(day.get("date"), str):
            where += f" ({day['date']})"
        for room, entries in (_table(problems, where, day, "rooms") or {}).items():
            if not isinstance(entries, list):
                problems.add(f"{where}.rooms[{room!r}]", "expected a list of events")
                continue
            for number, entry in enumerate(entries):
                reader.read(f"{where}.rooms[{room!r}][{number}]", room, entry)
    problems.raise_if_any()
    sessions = [s for _, _, s in sorted(reader.sessions, key=lambda item: item[:2])]
    spec = ProgrammeSpec(
        event=event, people=tuple(reader.people.values()), sessions=tuple(sessions)
    )
    check_programme(spec, source)
    return spec


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG].rstrip("-")


def room_format(name: str) -> str:
    if HYBRID_ROOM.search(name):
        return "hybrid"
    if ON_SITE_ROOM.search(name):
        return "on-site"
    return "online"


def session_kind(event_type: str | None) -> str:
    for word in re.findall(r"[a-z]+(?:-[a-z]+)*", (event_type or "").lower()):
        if word in KINDS_BY_WORD:
            return KINDS_BY_WORD[word]
    return "other"


def _table(problems: Problems, where: str, parent: dict[str, Any], name: str) -> dict | None:
    value = parent.get(name)
    if isinstance(value, dict):
        return value
    problems.add(where, f"field {name!r}: {'required' if value is None else 'expected an object'}")
    return None


def _text(table: dict[str, Any], name: str) -> str | None:
    value = table.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _read_event(problems: Problems, conference: dict[str, Any]) -> EventSpec:
    where = "schedule.conference"
    for name in ("acronym", "title"):
        if _text(conference, name) is None:
            problems.add(where, f"field {name!r}: required, a non-empty string")
    for name in ("time_zone_name", "description", "url"):
        if conference.get(name) is not None and not isinstance(conference.get(name), str):
            problems.add(where, f"field {name!r}: expected a string")
    timezone = _text(conference, "time_zone_name") or "UTC"
    if zone_or_none(timezone) is None:
        problems.add(where, f"field 'time_zone_name': unknown time zone {timezone!r}")
    return EventSpec(
        slug=slugify(_text(conference, "acronym") or ""),
        title=_text(conference, "title") or "",
        timezone=timezone,
        description=_text(conference, "description") or "",
        website=_text(conference, "url"),
        reference_zones=(ZoneSpec(timezone.rsplit("/", 1)[-1].replace("_", " "), timezone),),
    )


class _EventReader:
    """Reads the events of every day and room, collecting sessions and the people in them."""

    def __init__(self, problems: Problems, zone: ZoneInfo, *, acronym: str) -> None:
        self.problems = problems
        self.zone = zone
        self.prefix = f"{slugify(acronym)}-"
        self.sessions: list[tuple[datetime, int, SessionSpec]] = []
        self.people: dict[str, PersonSpec] = {}
        self.slugs: set[str] = set()

    def read(self, where: str, room: str, entry: Any) -> None:
        if not isinstance(entry, dict):
            self.problems.add(where, "expected an object (an event)")
            return
        name = entry.get("guid") or entry.get("slug")
        if isinstance(name, str):
            where += f" ({'guid' if entry.get('guid') else 'slug'} {name!r})"
        for field in ("slug", "guid", "type", "abstract", "description"):
            if entry.get(field) is not None and not isinstance(entry[field], str):
                self.problems.add(where, f"field {field!r}: expected a string")
        title = _text(entry, "title")
        if title is None:
            self.problems.add(where, "field 'title': required, a non-empty string")
        starts_at = self._start(where, entry)
        ends_at = self._end(where, entry, starts_at)
        appearances = self._people(where, entry.get("persons", []))
        if title is None or starts_at is None or ends_at is None:
            return
        session = SessionSpec(
            slug=self._slug(entry, title),
            title=title,
            kind=session_kind(_text(entry, "type")),
            format=room_format(room),
            day=starts_at.astimezone(self.zone).date(),
            starts_at=starts_at,
            ends_at=ends_at,
            description="\n\n".join(
                text for name in ("abstract", "description") if (text := _text(entry, name))
            ),
            appearances=appearances,
        )
        self.sessions.append((starts_at, len(self.sessions), session))

    def _start(self, where: str, entry: dict[str, Any]) -> datetime | None:
        value = entry.get("date")
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            self.problems.add(
                where,
                f"field 'date': expected a date and time with its UTC offset, such as "
                f"2020-12-14T09:00:00+01:00, got {value!r}",
            )
            return None
        return moment.astimezone(ZoneInfo("UTC"))

    def _end(
        self, where: str, entry: dict[str, Any], starts_at: datetime | None
    ) -> datetime | None:
        duration, end = entry.get("duration"), entry.get("end")
        if duration is None and isinstance(end, str):
            try:
                moment = datetime.fromisoformat(end)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is not None:
                return moment.astimezone(ZoneInfo("UTC"))
            self.problems.add(
                where, f"field 'end': expected a date and time with its UTC offset, got {end!r}"
            )
            return None
        match = DURATION.match(duration) if isinstance(duration, str) else None
        if match is None:
            self.problems.add(where, f"field 'duration': expected \"HH:MM\", got {duration!r}")
            return None
        if starts_at is None:
            return None
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return starts_at + timedelta(hours=hours, minutes=minutes, seconds=seconds)

    def _people(self, where: str, persons: Any) -> tuple[AppearanceSpec, ...]:
        if not isinstance(persons, list):
            self.problems.add(where, "field 'persons': expected a list")
            return ()
        appearances = []
        for number, person in enumerate(persons):
            at = f"{where}.persons[{number}]"
            if not isinstance(person, dict):
                self.problems.add(at, "expected an object (a person)")
                continue
            name = _text(person, "public_name") or _text(person, "name")
            if name is None:
                self.problems.add(
                    at, "field 'public_name' (or 'name'): required, a non-empty string"
                )
                continue
            key = _person_key(person, name)
            self.people.setdefault(key, PersonSpec(key=key, name=name))
            if key not in {a.person for a in appearances}:
                appearances.append(AppearanceSpec(person=key, role="presenter"))
        return tuple(appearances)

    def _slug(self, entry: dict[str, Any], title: str) -> str:
        slug = slugify(_text(entry, "slug") or "").removeprefix(self.prefix)
        if isinstance(entry.get("id"), int):
            slug = slug.removeprefix(f"{entry['id']}-")
        base = slug or slugify(title) or "session"
        slug, number = base, 1
        while slug in self.slugs:
            number += 1
            slug = f"{base[: MAX_SLUG - 4]}-{number}"
        self.slugs.add(slug)
        return slug


def _person_key(person: dict[str, Any], name: str) -> str:
    if isinstance(person.get("id"), int) and not isinstance(person.get("id"), bool):
        return f"person-{person['id']}"
    if code := _text(person, "code"):
        return slugify(code)
    return slugify(name) or "person"
