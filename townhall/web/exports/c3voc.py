"""The c3voc conference schedule: ``schedule.json`` (as pretalx exports it) and ``schedule.xml``.

Conference apps (Giggity, EventFahrplan, ConfClerk …), recording and signage systems read
these. Both are built from one document, valid against the c3voc JSON Schema and XSD
(``shared/schemas``). Choices made for Townhall's programmes:

- **Sessions whose time is to be announced are left out.** The format has no "time to be
  announced": every event needs a date, start and duration, and apps place events in a
  timetable grid and set alarms from them, so a placeholder time (midnight, or day start)
  would be shown as fact. Their day still appears (the conference's ``start``, ``end`` and
  ``days`` cover every date of the programme), and once the programme gives a session a time
  it appears with the same ``guid``, derived from the event and session slugs.
- The conference ``acronym`` is the event slug with ``_`` for ``-`` (the JSON Schema forbids
  hyphens there); an event's ``slug`` is ``{acronym}-{id}-{session slug}``, as pretalx writes
  it, and ``id`` is the session's database id.
- A room is where a session happens: "Online", the on-site part's location, or
  "{location} (hybrid)". Apps group the timetable by room.
- ``abstract`` is the session's description; ``description`` holds its guiding questions,
  people with their roles (the format's persons have none) and its live room link.
- ``language`` is the language the programme says its sessions are held in (``language`` in
  its ``[event]`` table, a BCP 47 tag such as ``en``); null when it does not say.
- ``version`` names the programme status and when the programme last changed, so apps notice
  a new version.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from townhall import __version__
from townhall.platform.models import Event, ProgrammeSession

from ..programme_json import display_name
from .programme_text import event_url, place, room_url, session_notes, session_url

# Every guid derives from this namespace: changing it would make apps see a new programme.
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "schedule.townhall")
JSON_SCHEMA_URL = "https://c3voc.de/schedule/schema.json"
GENERATOR = {"name": "Townhall", "version": __version__}
# Characters XML 1.0 cannot carry at all, even escaped.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def acronym(event: Event) -> str:
    return event.slug.replace("-", "_")


def event_guid(event: Event, session: ProgrammeSession) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{event.slug}/{session.slug}"))


def schedule_document(
    event: Event, sessions: list[ProgrammeSession], base_url: str
) -> dict[str, Any]:
    """The schedule as JSON values, in the shape of ``schedule.json``."""
    zone = ZoneInfo(event.timezone)
    dates = _dates(event, sessions, zone)
    timed = sorted(
        (s for s in sessions if s.starts_at is not None and s.ends_at is not None),
        key=lambda s: (s.starts_at, s.position),
    )
    rooms = list(dict.fromkeys(place(event, s) for s in timed))
    conference: dict[str, Any] = {
        "acronym": acronym(event),
        "title": event.title,
        "start": dates[0].isoformat(),
        "end": dates[-1].isoformat(),
        "daysCount": len(dates),
        "timeslot_duration": _hours_minutes(timedelta(minutes=_timeslot(timed, zone))),
        "time_zone_name": event.timezone,
        "url": event.website or event_url(base_url, event),
        "rooms": [{"name": name, "guid": _room_guid(event, name)} for name in rooms],
        "days": [],
    }
    if event.description.strip():
        conference["description"] = event.description.strip()
    for index, day in enumerate(dates, start=1):
        todays = [s for s in timed if s.day == day]
        starts = [datetime.combine(day, time(0, 0), zone)]
        ends = [datetime.combine(day, time(23, 59), zone)]
        day_rooms: dict[str, list[dict[str, Any]]] = {}
        for session in todays:
            assert session.starts_at is not None and session.ends_at is not None
            starts.append(session.starts_at.astimezone(zone))
            ends.append(session.ends_at.astimezone(zone))
            day_rooms.setdefault(place(event, session), []).append(
                _event_json(event, session, base_url, zone)
            )
        conference["days"].append(
            {
                "index": index,
                "date": day.isoformat(),
                "day_start": min(starts).isoformat(),
                "day_end": max(ends).isoformat(),
                "rooms": day_rooms,
            }
        )
    return {
        "$schema": JSON_SCHEMA_URL,
        "generator": dict(GENERATOR),
        "schedule": {
            "version": _version(event, sessions),
            "base_url": f"{event_url(base_url, event)}/",
            "conference": conference,
        },
    }


def _event_json(
    event: Event, session: ProgrammeSession, base_url: str, zone: ZoneInfo
) -> dict[str, Any]:
    assert session.starts_at is not None and session.ends_at is not None
    starts, ends = session.starts_at.astimezone(zone), session.ends_at.astimezone(zone)
    persons = {a.person.id: a.person for a in session.appearances}
    live_room = room_url(base_url, event, session)
    return {
        "guid": event_guid(event, session),
        "id": session.id,
        "date": starts.isoformat(),
        "start": starts.strftime("%H:%M"),
        "end": ends.isoformat(),
        "duration": _hours_minutes(session.ends_at - session.starts_at),
        "room": place(event, session),
        "slug": f"{acronym(event)}-{session.id}-{session.slug}",
        "url": session_url(base_url, event, session),
        "title": session.title,
        "subtitle": "",
        "track": None,
        "type": session.kind.capitalize(),
        "language": event.language,
        "abstract": session.description,
        "description": session_notes(event, session, base_url, with_description=False),
        "persons": [
            {
                "id": person.id,
                "guid": str(uuid.uuid5(GUID_NAMESPACE, f"{event.slug}/person/{person.key}")),
                "public_name": display_name(person),
            }
            for person in persons.values()
        ],
        "links": [{"url": live_room, "title": "Live room", "type": "web"}] if live_room else [],
    }


def _dates(event: Event, sessions: list[ProgrammeSession], zone: ZoneInfo) -> list[date]:
    """Every date from the programme's first to its last, empty ones and TBA ones included."""
    known = {s.day for s in sessions} | {
        date.fromisoformat(d) for part in event.parts for d in part.get("dates", [])
    }
    if not known:
        known = {event.created_at.astimezone(zone).date()}
    first, last = min(known), max(known)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _timeslot(timed: list[ProgrammeSession], zone: ZoneInfo) -> int:
    """The grid, in minutes, that every start and end falls on (5, 15, 30 or 60 …)."""
    minutes = [
        moment.astimezone(zone).minute
        for s in timed
        for moment in (s.starts_at, s.ends_at)
        if moment is not None
    ]
    return math.gcd(60, *minutes)


def _hours_minutes(span: timedelta) -> str:
    hours, minutes = divmod(int(span.total_seconds()) // 60, 60)
    return f"{hours:02d}:{minutes:02d}"


def _room_guid(event: Event, name: str) -> str:
    return str(uuid.uuid5(GUID_NAMESPACE, f"{event.slug}/room/{name}"))


def _version(event: Event, sessions: list[ProgrammeSession]) -> str:
    changed = max([event.updated_at, *(s.updated_at for s in sessions)])
    stamp = changed.strftime("%Y-%m-%d %H:%M UTC")
    return f"{event.programme_status}, updated {stamp}" if event.programme_status else stamp


def schedule_json(event: Event, sessions: list[ProgrammeSession], base_url: str) -> bytes:
    text = json.dumps(schedule_document(event, sessions, base_url), ensure_ascii=False, indent=2)
    # "<", ">" and "&" only occur inside strings: escaped, no HTML sniffer sees markup.
    for char in "<>&":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return (text + "\n").encode()


def schedule_xml(event: Event, sessions: list[ProgrammeSession], base_url: str) -> bytes:
    document = schedule_document(event, sessions, base_url)
    schedule, conference = document["schedule"], document["schedule"]["conference"]
    root = ET.Element("schedule")
    ET.SubElement(root, "generator", GENERATOR)
    _text(root, "url", f"{event_url(base_url, event)}/schedule.xml")
    _text(root, "version", schedule["version"])
    head = ET.SubElement(root, "conference")
    for name in ("acronym", "title", "start", "end"):
        _text(head, name, conference[name])
    _text(head, "days", str(conference["daysCount"]))
    for name in ("timeslot_duration", "time_zone_name", "url"):
        _text(head, name, conference[name])
    _text(head, "base_url", schedule["base_url"])
    for day in conference["days"]:
        day_element = ET.SubElement(
            root,
            "day",
            index=str(day["index"]),
            date=day["date"],
            start=day["day_start"],
            end=day["day_end"],
        )
        for room_name, events in day["rooms"].items():
            room = ET.SubElement(
                day_element, "room", name=_clean(room_name), guid=_room_guid(event, room_name)
            )
            for item in events:
                _event_xml(room, item)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _event_xml(room: ET.Element, item: dict[str, Any]) -> None:
    element = ET.SubElement(room, "event", id=str(item["id"]), guid=item["guid"])
    for name in ("date", "start", "duration", "room", "slug", "url", "title", "subtitle"):
        _text(element, name, item[name])
    _text(element, "track", item["track"] or "")
    _text(element, "type", item["type"])
    if item["language"]:
        _text(element, "language", item["language"])
    _text(element, "abstract", item["abstract"])
    _text(element, "description", item["description"])
    persons = ET.SubElement(element, "persons")
    for person in item["persons"]:
        tag = ET.SubElement(persons, "person", id=str(person["id"]), guid=person["guid"])
        tag.text = _clean(person["public_name"])
    links = ET.SubElement(element, "links")
    for link in item["links"]:
        ET.SubElement(links, "link", href=link["url"], type=link["type"]).text = link["title"]


def _text(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, name).text = _clean(value)


def _clean(value: str) -> str:
    return NOT_XML.sub("", value)
