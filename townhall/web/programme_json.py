"""The programme as JSON values: the API's shape, shared by pages that embed data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from townhall.platform.models import Appearance, Event, Person, ProgrammeSession
from townhall.platform.seats import person_title, seat_label


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def event_json(event: Event, base_url: str) -> dict[str, Any]:
    return {
        "slug": event.slug,
        "title": event.title,
        "short_title": event.short_title,
        "description": event.description,
        "timezone": event.timezone,
        "programme_status": event.programme_status,
        "website": event.website,
        "reference_zones": event.reference_zones,
        "admission": "code" if event.access_code else "open",
        "parts": event.parts,
        "url": f"{base_url}/events/{event.slug}",
        "programme_url": f"{base_url}/api/events/{event.slug}/programme",
    }


def person_json(person: Person) -> dict[str, Any]:
    return {
        "key": person.key,
        "name": person.name,
        "label": person.label,
        "honorific": person.honorific,
        "postnominals": person.postnominals,
        "position": person.position,
        "organisation": person.organisation,
        "city": person.city,
        "country": person.country,
    }


def appearance_json(appearance: Appearance) -> dict[str, Any]:
    return {
        "role": appearance.role,
        "status": appearance.status,
        "segment": appearance.segment,
        "topic": appearance.topic,
        "person": person_json(appearance.person),
        "label": seat_label(appearance.person, appearance.status),
    }


def session_json(session: ProgrammeSession, base_url: str, event_slug: str) -> dict[str, Any]:
    room = session.room
    return {
        "slug": session.slug,
        "title": session.title,
        "kind": session.kind,
        "format": session.format,
        "part": session.part,
        "day": session.day.isoformat(),
        "start": iso(session.starts_at),
        "end": iso(session.ends_at),
        "time_to_be_announced": session.starts_at is None,
        "description": session.description,
        "guiding_questions": list(session.guiding_questions),
        "people": [appearance_json(a) for a in session.appearances],
        "room": room.id if room else None,
        "room_state": room.state if room else None,
        "url": f"{base_url}/events/{event_slug}/sessions/{session.slug}",
        "room_url": f"{base_url}/events/{event_slug}/rooms/{room.id}" if room else None,
    }


def display_name(person: Person) -> str:
    """How the programme names a person or slot: "Mr Tunç Soyer", "Mayor of Rabat"."""
    return person_title(person)
