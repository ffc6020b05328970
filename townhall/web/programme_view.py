"""What the programme pages show of a session: times per zone, live status, people, links.

Plain values computed once per request, so the templates only lay them out. The live status
rule lives here too, in :func:`live_status`; ``static/js/programme.js`` repeats it to refresh
the labels in the browser and must be kept in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from townhall.platform.models import Appearance, Event, Person, ProgrammeSession
from townhall.platform.timezones import ZonedSpan, spans_in_zones

from . import formats
from .i18n import N_, gettext, ngettext
from .programme_json import display_name

# One line per appearance ("Keynote: …"), as the text exports write it.
ROLE_LABELS = {
    "welcome": "Welcome and opening",
    "keynote": "Keynote",
    "moderator": "Moderator",
    "introduction": "Introduction",
    "panelist": "Panelist",
    "discussant": "Discussant",
    "special_message": "Special message",
    "presenter": "Presentation",
}
# The heading of a group of people when the programme names no segment for it.
GROUP_HEADINGS = {
    "welcome": N_("Welcome and opening"),
    "keynote": N_("Keynote speeches"),
    "moderator": N_("Moderator"),
    "introduction": N_("Introduction"),
    "panelist": N_("Panel"),
    "discussant": N_("Discussion"),
    "special_message": N_("Special message"),
    "presenter": N_("Presentation"),
}
# Roles the programme names by the role itself ("Moderator: …") even inside a segment; the
# segment ("Mayors Dialogue") is then shown as the group's context.
ROLE_NAMED_GROUPS = ("moderator", "special_message", "presenter")
STATUS_LABELS = {
    "tba": N_("Time to be announced"),
    "upcoming": N_("Upcoming"),
    "opens_soon": N_("Opens soon"),
    "open": N_("Room open"),
    "live": N_("Live now"),
    "ended": N_("Ended"),
}
MARKS = {"tbc": N_("to be confirmed"), "tbd": N_("to be determined")}
KIND_LABELS = {
    "opening": N_("Opening"),
    "keynote": N_("Keynote"),
    "dialogue": N_("Dialogue"),
    "workshop": N_("Workshop"),
    "panel": N_("Panel"),
    "plenary": N_("Plenary"),
    "presentation": N_("Presentation"),
    "ceremony": N_("Ceremony"),
    "break": N_("Break"),
    "other": N_("Session"),
}
FORMAT_LABELS = {"online": N_("Online"), "on-site": N_("On site"), "hybrid": N_("Hybrid")}


def kind_label(kind: str) -> str:
    return gettext(KIND_LABELS[kind]) if kind in KIND_LABELS else kind.capitalize()


def format_label(value: str) -> str:
    return gettext(FORMAT_LABELS[value]) if value in FORMAT_LABELS else value


def status_labels() -> dict[str, str]:
    """Every live status's label in the request's language (programme.js relabels with them)."""
    return {status: gettext(label) for status, label in STATUS_LABELS.items()}


def marks() -> dict[str, str]:
    return {mark: gettext(meaning) for mark, meaning in MARKS.items()}


# The programme calls a session "opens soon" this long before it starts at the latest.
OPENS_SOON_AT_LEAST = 60


def long_date(day: date) -> str:
    """ "Tuesday 7 December 2021", in the request's language."""
    return formats.long_date(day)


def short_date(day: date) -> str:
    """ "Wed 8 Dec", in the request's language."""
    return formats.short_date(day)


def clock_time(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def utc_iso(moment: datetime) -> str:
    """ "2021-12-07T13:00:00Z": what ``<time datetime>`` and the browser script read."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def local_iso(moment: datetime) -> str:
    """ "2021-12-07T16:00+03:00": a zone's wall-clock time with its offset."""
    return moment.isoformat(timespec="minutes")


def day_marker(offset: int) -> str:
    """ "+1 day", "-1 day", "+2 days" or "" when the date is the programme's."""
    if offset == 0:
        return ""
    sign = "+" if offset > 0 else "-"
    days = abs(offset)
    return sign + ngettext("{count} day", "{count} days", days).format(count=days)


@dataclass(frozen=True)
class ZoneTime:
    """A session's span in one reference zone: "Paris 14:00–15:30 CET (UTC+1)"."""

    span: ZonedSpan

    @property
    def label(self) -> str:
        return self.span.label

    @property
    def start(self) -> str:
        return clock_time(self.span.starts)

    @property
    def end(self) -> str:
        return clock_time(self.span.ends)

    @property
    def start_iso(self) -> str:
        return local_iso(self.span.starts)

    @property
    def end_iso(self) -> str:
        return local_iso(self.span.ends)

    @property
    def zone_name(self) -> str:
        """ "CET (UTC+1)", or "(UTC+3)" where the zone has no abbreviation."""
        abbreviation = self.span.abbreviation
        return (
            f"{abbreviation} ({self.span.utc_offset})"
            if abbreviation
            else f"({self.span.utc_offset})"
        )

    @property
    def day_marker(self) -> str:
        return day_marker(self.span.day_offset)

    @property
    def local_date(self) -> str:
        return long_date(self.span.starts.date())

    @property
    def ends_next_day(self) -> bool:
        return self.span.ends.date() != self.span.starts.date()


@dataclass(frozen=True)
class PersonView:
    """One person (or unnamed slot) of a session, as a line of the programme."""

    name: str
    details: list[str]
    status: str
    topic: str | None

    @property
    def mark(self) -> str:
        """ "tbc", "tbd" or "" for a confirmed appearance."""
        return self.status if self.status in MARKS else ""

    @property
    def mark_title(self) -> str:
        return gettext(MARKS[self.status]) if self.status in MARKS else ""


@dataclass
class PeopleGroup:
    """People under one heading of the programme: "Keynote speeches", "Moderator" …"""

    heading: str
    context: str | None = None
    people: list[PersonView] = field(default_factory=list)


@dataclass
class SessionView:
    session: ProgrammeSession
    event_slug: str
    spans: list[ZonedSpan]
    status: str
    people: list[PeopleGroup] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return gettext(STATUS_LABELS[self.status])

    @property
    def time_to_be_announced(self) -> bool:
        return self.session.starts_at is None or self.session.ends_at is None

    @property
    def zone_times(self) -> list[ZoneTime]:
        return [ZoneTime(span) for span in self.spans]

    @property
    def start_utc(self) -> str:
        return utc_iso(self.session.starts_at) if self.session.starts_at else ""

    @property
    def end_utc(self) -> str:
        return utc_iso(self.session.ends_at) if self.session.ends_at else ""

    @property
    def start_utc_clock(self) -> str:
        return clock_time(self.session.starts_at.astimezone(UTC)) if self.session.starts_at else ""

    @property
    def end_utc_clock(self) -> str:
        return clock_time(self.session.ends_at.astimezone(UTC)) if self.session.ends_at else ""

    @property
    def utc_day_marker(self) -> str:
        if self.session.starts_at is None:
            return ""
        return day_marker((self.session.starts_at.astimezone(UTC).date() - self.session.day).days)

    @property
    def duration(self) -> str:
        """ "1 h 30 min", "45 min", "2 h"."""
        if self.session.starts_at is None or self.session.ends_at is None:
            return ""
        minutes = int((self.session.ends_at - self.session.starts_at).total_seconds() // 60)
        hours, rest = divmod(minutes, 60)
        # No-break spaces keep the duration whole when a line wraps.
        if hours and rest:
            text = gettext("{hours} h {minutes} min").format(hours=hours, minutes=rest)
        elif hours:
            text = gettext("{hours} h").format(hours=hours)
        else:
            text = gettext("{minutes} min").format(minutes=rest)
        return text.replace(" ", "\u00a0")

    @property
    def day_label(self) -> str:
        return long_date(self.session.day)

    @property
    def kind_label(self) -> str:
        return kind_label(self.session.kind)

    @property
    def format_label(self) -> str:
        return format_label(self.session.format)

    @property
    def paragraphs(self) -> list[str]:
        return paragraphs(self.session.description)

    @property
    def room_state(self) -> str:
        return self.session.room.state if self.session.room is not None else ""

    @property
    def url(self) -> str:
        return f"/events/{self.event_slug}/sessions/{self.session.slug}"

    @property
    def ics_url(self) -> str:
        return f"{self.url}.ics"

    @property
    def room_url(self) -> str | None:
        room = self.session.room
        return f"/events/{self.event_slug}/rooms/{room.id}" if room is not None else None


@dataclass
class DayView:
    day: date
    sessions: list[SessionView]
    part: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return long_date(self.day)

    @property
    def anchor(self) -> str:
        return f"day-{self.day.isoformat()}"

    @property
    def place(self) -> str:
        return place_of(self.part)

    @property
    def short_label(self) -> str:
        return short_date(self.day)


@dataclass(frozen=True)
class PartView:
    """A part of the event ("Online, 7–8 December 2021")."""

    title: str
    place: str
    dates: str


def dates_label(days: list[date]) -> str:
    """ "7–8 December 2021", "10 December 2021", "30 November – 1 December 2021"."""
    days = sorted(days)
    if not days:
        return ""
    return formats.date_range(days[0], days[-1])


def place_of(part: dict[str, Any] | None) -> str:
    """ "Online", "On site · Izmir"."""
    if part is None:
        return ""
    label = format_label(part.get("format", ""))
    location = part.get("location")
    if location and location != label:
        return f"{label} · {location}" if label else location
    return label


def event_parts(event: Event) -> list[PartView]:
    return [
        PartView(
            title=part.get("title", ""),
            place=place_of(part),
            dates=dates_label([date.fromisoformat(d) for d in part.get("dates", [])]),
        )
        for part in event.parts
    ]


def paragraphs(text: str) -> list[str]:
    """Paragraphs separated by blank lines, with single line breaks joined."""
    blocks = [" ".join(line.strip() for line in block.splitlines()) for block in text.split("\n\n")]
    return [block.strip() for block in blocks if block.strip()]


def live_status(session: ProgrammeSession, now: datetime, opens_minutes_before: int) -> str:
    """The status a visitor sees; a room's own state wins over the clock when it has one."""
    room = session.room
    if room is not None and room.state in ("open", "live"):
        return room.state
    if room is not None and room.state in ("ended", "archived"):
        return "ended"
    if session.starts_at is None or session.ends_at is None:
        return "tba"
    if now >= session.ends_at:
        return "ended"
    if now >= session.starts_at:
        return "live" if room is None else "opens_soon"
    if now >= session.starts_at - timedelta(minutes=soon_minutes(opens_minutes_before)):
        return "opens_soon"
    return "upcoming"


def soon_minutes(opens_minutes_before: int) -> int:
    return max(opens_minutes_before, OPENS_SOON_AT_LEAST)


def person_view(appearance: Appearance) -> PersonView:
    person: Person = appearance.person
    name = display_name(person)
    details = [d for d in (person.position, person.organisation) if d and d != name]
    # A city slot ("Rabat (tbc)") says which country; an organisation already places it.
    if not person.name and not details and person.country and name == f"Mayor of {person.city}":
        details.append(person.country)
    return PersonView(name=name, details=details, status=appearance.status, topic=appearance.topic)


def people_groups(appearances: list[Appearance]) -> list[PeopleGroup]:
    """Consecutive appearances under the same heading, in programme order."""
    groups: list[PeopleGroup] = []
    for appearance in appearances:
        role, segment = appearance.role, appearance.segment
        if role in ROLE_NAMED_GROUPS or not segment:
            heading = (
                gettext(GROUP_HEADINGS[role])
                if role in GROUP_HEADINGS
                else role.replace("_", " ").capitalize()
            )
            context = segment
        else:
            heading, context = segment, None
        if not groups or (groups[-1].heading, groups[-1].context) != (heading, context):
            groups.append(PeopleGroup(heading, context))
        groups[-1].people.append(person_view(appearance))
    return groups


def session_view(
    event: Event, session: ProgrammeSession, now: datetime, opens_minutes_before: int
) -> SessionView:
    spans = []
    if session.starts_at and session.ends_at:
        spans = spans_in_zones(
            session.starts_at, session.ends_at, event.reference_zones, session.day
        )
    return SessionView(
        session=session,
        event_slug=event.slug,
        spans=spans,
        status=live_status(session, now, opens_minutes_before),
        people=people_groups(list(session.appearances)),
    )


def part_of(event: Event, day: date) -> dict[str, Any] | None:
    return next((p for p in event.parts if day.isoformat() in p.get("dates", [])), None)


def programme_days(
    event: Event, sessions: list[ProgrammeSession], now: datetime, opens_minutes_before: int
) -> list[DayView]:
    days: dict[date, list[SessionView]] = {}
    for session in sessions:
        days.setdefault(session.day, []).append(
            session_view(event, session, now, opens_minutes_before)
        )
    return [DayView(day, views, part_of(event, day)) for day, views in sorted(days.items())]
