"""What the programme pages show of a session: times per zone, live status, people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from townhall.platform.models import Event, ProgrammeSession
from townhall.platform.timezones import ZonedSpan, spans_in_zones

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
STATUS_LABELS = {
    "tba": "Time to be announced",
    "upcoming": "Upcoming",
    "opens_soon": "Opens soon",
    "open": "Room open",
    "live": "Live now",
    "ended": "Ended",
}


@dataclass
class SessionView:
    session: ProgrammeSession
    spans: list[ZonedSpan]
    status: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class DayView:
    day: date
    sessions: list[SessionView]


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
    if now >= session.starts_at - timedelta(minutes=max(opens_minutes_before, 60)):
        return "opens_soon"
    return "upcoming"


def session_view(
    event: Event, session: ProgrammeSession, now: datetime, opens_minutes_before: int
) -> SessionView:
    spans = []
    if session.starts_at and session.ends_at:
        spans = spans_in_zones(session.starts_at, session.ends_at, event.reference_zones, session.day)
    return SessionView(session, spans, live_status(session, now, opens_minutes_before))


def programme_days(
    event: Event, sessions: list[ProgrammeSession], now: datetime, opens_minutes_before: int
) -> list[DayView]:
    days: dict[date, list[SessionView]] = {}
    for session in sessions:
        days.setdefault(session.day, []).append(
            session_view(event, session, now, opens_minutes_before)
        )
    return [DayView(day, views) for day, views in sorted(days.items())]
