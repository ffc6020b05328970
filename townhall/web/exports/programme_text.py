"""How the exports name and describe a programme session: its addresses, place and notes.

Shared by the iCalendar and the c3voc exports, so a calendar entry and a conference app show
the same words. Plain text only: each format escapes it for itself.
"""

from __future__ import annotations

from townhall.platform.models import Appearance, Event, ProgrammeSession

from ..programme_json import display_name
from ..programme_view import ROLE_LABELS

ONLINE_PLACE = "Online"
STATUS_NOTES = {"tbc": "to be confirmed", "tbd": "to be determined"}


def event_url(base_url: str, event: Event) -> str:
    return f"{base_url.rstrip('/')}/events/{event.slug}"


def session_url(base_url: str, event: Event, session: ProgrammeSession) -> str:
    return f"{event_url(base_url, event)}/sessions/{session.slug}"


def room_url(base_url: str, event: Event, session: ProgrammeSession) -> str | None:
    """The live room's page, for online and hybrid sessions (on-site ones have none)."""
    room = session.room
    return f"{event_url(base_url, event)}/rooms/{room.id}" if room is not None else None


def place(event: Event, session: ProgrammeSession) -> str:
    """The session's place: "Online", the on-site part's location ("Izmir"), or "Izmir (hybrid)"."""
    if session.format == "online":
        return ONLINE_PLACE
    location = next((p.get("location") for p in event.parts if p.get("slug") == session.part), None)
    location = location or "On site"
    return f"{location} (hybrid)" if session.format == "hybrid" else location


def appearance_line(appearance: Appearance) -> str:
    """ "Keynote: H. E. Mr. Miguel Angel Moratinos — High Representative, UNAOC"."""
    person = appearance.person
    name = display_name(person)
    details = [d for d in (person.position, person.organisation) if d]
    if not person.name and person.country and name == person.city:
        details.append(person.country)
    line = f"{ROLE_LABELS.get(appearance.role, appearance.role)}: {name}"
    if details:
        line += " — " + ", ".join(details)
    if appearance.topic:
        line += f" — “{appearance.topic}”"
    if appearance.status in STATUS_NOTES:
        line += f" ({STATUS_NOTES[appearance.status]})"
    return line


def session_notes(
    event: Event, session: ProgrammeSession, base_url: str, *, with_description: bool = True
) -> str:
    """The session's description, guiding questions, people and live room, as paragraphs."""
    paragraphs = []
    if with_description and session.description.strip():
        paragraphs.append(session.description.strip())
    if session.guiding_questions:
        questions = "\n".join(f"- {q}" for q in session.guiding_questions)
        paragraphs.append(f"Guiding questions:\n{questions}")
    if session.appearances:
        people = "\n".join(f"- {appearance_line(a)}" for a in session.appearances)
        paragraphs.append(f"People:\n{people}")
    live_room = room_url(base_url, event, session)
    if live_room is not None:
        paragraphs.append(f"Live room: {live_room}")
    return "\n\n".join(paragraphs)
