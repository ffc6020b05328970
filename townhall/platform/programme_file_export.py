"""Writing a :class:`ProgrammeSpec` back as a TOML programme file (docs/programme-format.md).

The reader is :mod:`programme_file`; what this module writes, that one reads back equal.
"""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

from .programme_spec import PERSON_TEXT_FIELDS as PERSON_FIELDS
from .programme_spec import SEAT_FIELDS, SLOT_FIELDS, PersonSpec, ProgrammeSpec, SessionSpec


def export_programme_file(spec: ProgrammeSpec) -> str:
    """The programme as a TOML programme file that :func:`parse_programme` reads back equal.

    People who appear once, as a slot keyed ``<session slug>.<n>`` the way the reader keys
    them, are written inline in their session (with the person seated in it, if any);
    everyone else under ``[[people]]``.
    """
    zone = ZoneInfo(spec.event.timezone)
    slots = _inline_slots(spec)
    out = _Writer()
    out.line(f"# {spec.event.title}: programme exported by Townhall.")
    out.line(f"# Format: docs/programme-format.md. Times are wall clock in {spec.event.timezone}.")
    out.line()
    out.line("format_version = 1")
    out.table("[event]")
    event = spec.event
    for name in (
        "slug",
        "title",
        "short_title",
        "timezone",
        "programme_status",
        "website",
        "language",
    ):
        out.field(name, getattr(event, name))
    out.field("description", event.description)
    for zone_spec in event.reference_zones:
        out.table("[[event.reference_zones]]")
        out.field("label", zone_spec.label)
        out.field("zone", zone_spec.zone)
    for part in event.parts:
        out.table("[[event.parts]]")
        for name in ("slug", "title", "format", "location"):
            out.field(name, getattr(part, name))
        if part.dates:
            out.line(f"dates = [{', '.join(d.isoformat() for d in part.dates)}]")
        out.field("description", part.description)
    for person in spec.people:
        if person.key in slots:
            continue
        out.table("[[people]]")
        out.field("key", person.key)
        for name in PERSON_FIELDS:
            out.field(name, getattr(person, name))
    people = {p.key: p for p in spec.people}
    for session in spec.sessions:
        _write_session(out, session, zone, slots, people)
    return out.text()


def _inline_slots(spec: ProgrammeSpec) -> set[str]:
    uses = Counter(a.person for s in spec.sessions for a in s.appearances)
    people = {p.key: p for p in spec.people}
    inline = set()
    for session in spec.sessions:
        for number, appearance in enumerate(session.appearances):
            person = people.get(appearance.person)
            if (
                person is not None
                and person.key == f"{session.slug}.{number + 1}"
                and uses[person.key] == 1
                and (person.label or person.organisation or person.city)
            ):
                inline.add(person.key)
    return inline


def _write_session(
    out: _Writer,
    session: SessionSpec,
    zone: ZoneInfo,
    slots: set[str],
    people: dict[str, PersonSpec],
) -> None:
    out.table("[[sessions]]")
    for name in ("slug", "title", "kind", "format", "part"):
        out.field(name, getattr(session, name))
    out.line(f"date = {session.day.isoformat()}")
    if session.starts_at is not None:
        out.field("start", session.starts_at.astimezone(zone).strftime("%H:%M"))
    if session.ends_at is not None:
        end = session.ends_at.astimezone(zone)
        out.field("end", end.strftime("%H:%M"))
        if end.date() != session.day:
            out.line(f"end_date = {end.date().isoformat()}")
    out.field("description", session.description)
    if session.guiding_questions:
        out.line("guiding_questions = [")
        for question in session.guiding_questions:
            out.line(f"  {toml_string(question)},")
        out.line("]")
    for appearance in session.appearances:
        out.table("[[sessions.people]]")
        out.field("role", appearance.role)
        if appearance.status != "confirmed":
            out.field("status", appearance.status)
        out.field("segment", appearance.segment)
        out.field("topic", appearance.topic)
        if appearance.person in slots:
            slot = people[appearance.person]
            for name in (*SEAT_FIELDS, *SLOT_FIELDS):
                out.field(name, getattr(slot, name))
        else:
            out.field("person", appearance.person)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, text: str = "") -> None:
        self.lines.append(text)

    def table(self, header: str) -> None:
        self.lines.extend(["", header])

    def field(self, name: str, value: str | None) -> None:
        if value:
            self.lines.append(f"{name} = {toml_string(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def toml_string(value: str) -> str:
    """A TOML basic string; multi-line (``\"\"\"``) when the text has line breaks."""
    multiline = "\n" in value
    escaped = "".join(_escape(c, multiline) for c in value)
    return f'"""\n{escaped}"""' if multiline else f'"{escaped}"'


ESCAPES = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def _escape(char: str, multiline: bool) -> str:
    if char == "\n":
        return "\n" if multiline else "\\n"
    if char in ESCAPES:
        return ESCAPES[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char
