"""A programme as plain values, checked against the domain's rules before it touches the database.

Both the TOML programme file (:mod:`programme_file`) and the pretalx importer (:mod:`pretalx`)
produce a :class:`ProgrammeSpec`; :func:`townhall.platform.programme.import_programme` writes one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KEY = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")

SESSION_KINDS = (
    "opening",
    "keynote",
    "dialogue",
    "workshop",
    "panel",
    "plenary",
    "presentation",
    "ceremony",
    "break",
    "other",
)
FORMATS = ("online", "on-site", "hybrid")
ROLES = (
    "welcome",
    "keynote",
    "moderator",
    "introduction",
    "panelist",
    "discussant",
    "special_message",
    "presenter",
)
STATUSES = ("confirmed", "tbc", "tbd")
# What a programme says of a person or slot, besides its key (in display order).
PERSON_TEXT_FIELDS = (
    "name",
    "label",
    "honorific",
    "postnominals",
    "position",
    "organisation",
    "city",
    "country",
)
# What a slot with no named person may say of itself.
SLOT_FIELDS = ("label", "position", "organisation", "city", "country")
# What a slot says of the person seated in it, once filled (docs/programme-format.md).
SEAT_FIELDS = ("name", "honorific", "postnominals")
ONLINE_FORMATS = ("online", "hybrid")


@dataclass(frozen=True)
class ZoneSpec:
    label: str
    zone: str


@dataclass(frozen=True)
class PartSpec:
    slug: str
    title: str
    format: str
    dates: tuple[date, ...]
    location: str | None = None
    description: str = ""


@dataclass(frozen=True)
class PersonSpec:
    key: str
    name: str | None = None
    label: str | None = None
    honorific: str | None = None
    postnominals: str | None = None
    position: str | None = None
    organisation: str | None = None
    city: str | None = None
    country: str | None = None


@dataclass(frozen=True)
class AppearanceSpec:
    person: str  # key of a PersonSpec
    role: str
    status: str = "confirmed"
    segment: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class SessionSpec:
    slug: str
    title: str
    kind: str
    format: str
    day: date
    starts_at: datetime | None = None  # UTC; None = time to be announced
    ends_at: datetime | None = None
    part: str | None = None
    description: str = ""
    guiding_questions: tuple[str, ...] = ()
    appearances: tuple[AppearanceSpec, ...] = ()


@dataclass(frozen=True)
class EventSpec:
    slug: str
    title: str
    timezone: str
    short_title: str | None = None
    description: str = ""
    programme_status: str | None = None
    website: str | None = None
    # The language the sessions are held in, a BCP 47 tag ("en"); None: not said.
    language: str | None = None
    reference_zones: tuple[ZoneSpec, ...] = ()
    parts: tuple[PartSpec, ...] = ()


@dataclass(frozen=True)
class ProgrammeSpec:
    event: EventSpec
    people: tuple[PersonSpec, ...] = ()
    sessions: tuple[SessionSpec, ...] = ()


@dataclass
class Problems:
    """Collects every problem of a programme, each naming its place, before giving up."""

    source: str
    items: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{self.source}: {where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ProgrammeError(self.items)


class ProgrammeError(ValueError):
    """A programme that cannot be imported; ``problems`` lists each place and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in ``zone`` (fold=0 for ambiguous times)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _control_characters(value: object) -> bool:
    if isinstance(value, str):
        return any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in value)
    if isinstance(value, tuple):
        return any(_control_characters(v) for v in value)
    return False


def _check_text(problems: Problems, where: str, item: object) -> None:
    for name, value in vars(item).items():
        if _control_characters(value):
            problems.add(where, f"field {name!r}: contains control characters")


def check_programme(spec: ProgrammeSpec, source: str) -> None:
    """Check the rules that hold whatever the programme's file format was."""
    problems = Problems(source)
    _check_text(problems, "event", spec.event)
    for index, person in enumerate(spec.people):
        _check_text(problems, f"people[{index}] ({person.key!r})", person)
    for index, session in enumerate(spec.sessions):
        _check_text(problems, f"sessions[{index}] ({session.slug!r})", session)
        for number, appearance in enumerate(session.appearances):
            _check_text(
                problems, f"sessions[{index}] ({session.slug!r}).people[{number}]", appearance
            )
    event = spec.event
    if not SLUG.match(event.slug):
        problems.add("event", f"field 'slug': {event.slug!r} is not a slug (a-z, 0-9, -)")
    if not event.title.strip():
        problems.add("event", "field 'title': must not be empty")
    if zone_or_none(event.timezone) is None:
        problems.add("event", f"field 'timezone': unknown time zone {event.timezone!r}")
    for index, zone in enumerate(event.reference_zones):
        if zone_or_none(zone.zone) is None:
            problems.add(
                f"event.reference_zones[{index}] ({zone.label!r})",
                f"field 'zone': unknown time zone {zone.zone!r}",
            )
    part_slugs: set[str] = set()
    for index, part in enumerate(event.parts):
        where = f"event.parts[{index}] ({part.slug!r})"
        if part.slug in part_slugs:
            problems.add(where, f"field 'slug': duplicate part slug {part.slug!r}")
        part_slugs.add(part.slug)
        if part.format not in FORMATS:
            problems.add(where, f"field 'format': expected one of {', '.join(FORMATS)}")

    keys: set[str] = set()
    for index, person in enumerate(spec.people):
        where = f"people[{index}] ({person.key!r})"
        if not KEY.match(person.key):
            problems.add(where, f"field 'key': {person.key!r} is not a key (a-z, 0-9, - _ .)")
        if person.key in keys:
            problems.add(where, f"field 'key': duplicate person key {person.key!r}")
        keys.add(person.key)
        if not any((person.name, person.label, person.organisation, person.city)):
            problems.add(where, "needs at least one of name, label, organisation or city")

    slugs: set[str] = set()
    for index, session in enumerate(spec.sessions):
        where = f"sessions[{index}] ({session.slug!r})"
        if not SLUG.match(session.slug):
            problems.add(where, f"field 'slug': {session.slug!r} is not a slug (a-z, 0-9, -)")
        if session.slug in slugs:
            problems.add(where, f"field 'slug': duplicate session slug {session.slug!r}")
        slugs.add(session.slug)
        if not session.title.strip():
            problems.add(where, "field 'title': must not be empty")
        if session.kind not in SESSION_KINDS:
            problems.add(where, f"field 'kind': expected one of {', '.join(SESSION_KINDS)}")
        if session.format not in FORMATS:
            problems.add(where, f"field 'format': expected one of {', '.join(FORMATS)}")
        if session.part is not None and session.part not in part_slugs:
            problems.add(where, f"field 'part': no event part has the slug {session.part!r}")
        if (session.starts_at is None) != (session.ends_at is None):
            problems.add(where, "give both 'start' and 'end', or neither (time to be announced)")
        if session.starts_at and session.ends_at and session.ends_at <= session.starts_at:
            problems.add(where, "field 'end': the session ends before it starts")
        for number, appearance in enumerate(session.appearances):
            at = f"{where}.people[{number}]"
            if appearance.person not in keys:
                problems.add(at, f"field 'person': no person has the key {appearance.person!r}")
            if appearance.role not in ROLES:
                problems.add(at, f"field 'role': expected one of {', '.join(ROLES)}")
            if appearance.status not in STATUSES:
                problems.add(at, f"field 'status': expected one of {', '.join(STATUSES)}")
    problems.raise_if_any()
