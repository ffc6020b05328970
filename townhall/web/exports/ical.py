"""iCalendar (RFC 5545) files: a whole programme, or one session.

- Each session is one VEVENT whose UID, ``{session-slug}@{event-slug}.townhall``, never
  changes between exports, so a subscribed calendar updates its entries in place.
- Timed sessions start and end in the event's home zone (``DTSTART;TZID=Europe/Istanbul``),
  with a VTIMEZONE generated for the years the programme spans, so calendars show the right
  local time in every zone, daylight saving included.
- A session whose time is still to be announced becomes an all-day, transparent VEVENT on its
  date with ``STATUS:TENTATIVE`` and "(time to be announced)" in its summary: the day shows,
  the calendar is not blocked, and nobody is given a made-up time.
- No METHOD, so DTSTAMP is when the session last changed (RFC 5545 §3.8.7.2); an unchanged
  programme exports byte for byte the same.
- SEQUENCE grows with every change of the session, so calendars that already hold the entry
  replace it (RFC 5545 §3.8.7.4): it is derived from the session's ``updated_at``, which every
  edit, import and change of its people moves — the whole seconds from :data:`SEQUENCE_EPOCH`
  to it. No counter is kept beside it: a session removed and added again under its slug (same
  UID) still gets a larger number. Two changes within one second share a number, as they
  share DTSTAMP; a calendar refreshing hourly sees the later one.
- A session with a live room (online or hybrid) points to it: ``URL`` is the room page and
  ``CONFERENCE`` (RFC 7986 §5.11) names it as the place to take part (stage link, stream,
  questions); a session held on site only keeps its programme page as ``URL``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, vUri
from icalendar import Event as VEvent

from townhall import __version__
from townhall.platform.models import Event, ProgrammeSession

from .programme_text import event_url, place, room_url, session_notes, session_url

PRODID = f"-//Townhall//Townhall {__version__}//EN"
TBA_SUFFIX = " (time to be announced)"
REFRESH = timedelta(hours=1)
# RFC 5545 TEXT allows no control characters but tab and line breaks (which icalendar escapes).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# SEQUENCE counts seconds from here: small enough for iCalendar's 32-bit INTEGER until 2088.
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# What a live room offers a participant, as RFC 7986 FEATURE values: its stage (a video call)
# and its questions.
ROOM_FEATURES = ["VIDEO", "CHAT"]
ROOM_LABEL = "Live room: stage, stream and questions"


def session_uid(event: Event, session: ProgrammeSession) -> str:
    return f"{session.slug}@{event.slug}.townhall"


def sequence(session: ProgrammeSession) -> int:
    """The session's revision number: grows whenever the session changes (see above)."""
    return max(0, int((session.updated_at - SEQUENCE_EPOCH).total_seconds()))


def programme_ics(event: Event, sessions: list[ProgrammeSession], base_url: str) -> bytes:
    """The whole programme as one calendar, in programme order."""
    return _calendar(event, sessions, base_url).to_ical()


def session_ics(event: Event, session: ProgrammeSession, base_url: str) -> bytes:
    """One session as a calendar of its own (the "add to calendar" link)."""
    return _calendar(event, [session], base_url).to_ical()


def _calendar(event: Event, sessions: list[ProgrammeSession], base_url: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.calendar_name = _text(event.title)
    calendar.add("url", event_url(base_url, event))
    calendar.add("x-wr-timezone", event.timezone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for session in sessions:
        calendar.add_component(session_event(event, session, base_url))
    years = [s.starts_at.year for s in sessions if s.starts_at is not None]
    if years:
        calendar.add_missing_timezones(
            first_date=date(min(years), 1, 1), last_date=date(max(years) + 1, 1, 1)
        )
    return calendar


def session_event(event: Event, session: ProgrammeSession, base_url: str) -> VEvent:
    vevent = VEvent()
    vevent.add("uid", session_uid(event, session))
    vevent.add("dtstamp", session.updated_at)
    vevent.add("last-modified", session.updated_at)
    vevent.add("sequence", sequence(session))
    if session.starts_at is None or session.ends_at is None:
        vevent.add("summary", _text(session.title) + TBA_SUFFIX)
        vevent.add("dtstart", session.day)
        vevent.add("dtend", session.day + timedelta(days=1))
        vevent.add("status", "TENTATIVE")
        vevent.add("transp", "TRANSPARENT")
    else:
        zone = ZoneInfo(event.timezone)
        vevent.add("summary", _text(session.title))
        vevent.add("dtstart", session.starts_at.astimezone(zone))
        vevent.add("dtend", session.ends_at.astimezone(zone))
        vevent.add("status", "CONFIRMED")
    vevent.add("description", _text(session_notes(event, session, base_url)))
    vevent.add("location", _text(place(event, session)))
    live_room = room_url(base_url, event, session)
    vevent.add("url", live_room or session_url(base_url, event, session))
    if live_room is not None:
        vevent.add(
            "conference",
            vUri(live_room),
            parameters={"VALUE": "URI", "FEATURE": ROOM_FEATURES, "LABEL": ROOM_LABEL},
        )
    vevent.add("categories", [session.kind.capitalize()])
    return vevent


def _text(value: str) -> str:
    return CONTROL.sub("", value)
