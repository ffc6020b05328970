"""Programme exports: iCalendar (RFC 5545), c3voc schedule.xml (XSD) and schedule.json (JSON
Schema), checked with independent parsers and validators, and served by their routes."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import httpx
import jsonschema
import pytest
import xmlschema
from icalendar import Calendar
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Match

from townhall.app import create_app
from townhall.platform.models import Event, ProgrammeSession
from townhall.platform.programme import get_event, import_programme, list_sessions
from townhall.platform.programme_spec import ProgrammeSpec, SessionSpec, local_to_utc
from townhall.settings import Settings
from townhall.web.exports import render_export, session_ics
from townhall.web.exports.c3voc import event_guid, schedule_document
from townhall.web.exports.ical import sequence
from townhall.web.routes import build_routes

SCHEMAS = Path(__file__).resolve().parents[1] / "data"
BASE = "http://testserver"
SLUG = "mayors-summit-2021"
ISTANBUL = ZoneInfo("Europe/Istanbul")
TIMED = [
    "mayors-dialogue",
    "interactive-city-dialogue",
    "workshop-1-building-resilience",
    "workshop-2-diversity-equity-inclusion",
    "workshop-3-dialogue-solidarity",
]
TBA = ["plenary-human-rights-democracy", "high-level-panel-closing-ceremony"]
HOSTILE_TITLE = 'Cities, "we"; <script>alert(1)</script> & co\\n\nsecond line'
HOSTILE_DESCRIPTION = "Line one; a, b\\c\n<b>bold</b> &amp; <!-- ]]> -->"


def mayors_dialogue_notes(room_id: int) -> str:
    return (
        "Guiding questions:\n"
        "- What are the main challenges affecting social cohesion in the current context?\n"
        "- How can cities and local governments address these challenges at the local level?"
        " Which local policies and practices are promising?\n"
        "- How can cities mobilize key local stakeholders in order foster peaceful coexistence,"
        " inclusion and respect for human rights.\n"
        "\n"
        "People:\n"
        "- Welcome and opening: Mr Tunç Soyer — Mayor, Izmir Metropolitan Municipality\n"
        "- Welcome and opening: City of Montréal Representative (to be determined)\n"
        "- Keynote: H. E. Mr. Miguel Angel Moratinos — High Representative,"
        " United Nations Alliance of Civilizations (UNAOC)\n"
        "- Keynote: Ms. Gabriela Ramos — Assistant Director-General for the Social and Human"
        " Sciences, UNESCO (to be confirmed)\n"
        "- Moderator: Ayten Alkan — Associate Professor of Social Sciences Institute Public"
        " Admin. and Political Science, Ankara University\n"
        "- Special message: Cheikh Khaled Bentounes — President of AISA International,"
        " initiator of the International Day on Living together in Peace"
        " — “International Day on Living together in Peace”\n"
        "\n"
        f"Live room: {BASE}/events/{SLUG}/rooms/{room_id}"
    )


async def load(db: AsyncSession, spec: ProgrammeSpec) -> tuple[Event, list[ProgrammeSession]]:
    await import_programme(db, spec=spec)
    await db.commit()
    event = await get_event(db, slug=spec.event.slug)
    return event, await list_sessions(db, event_id=event.id)


@pytest.fixture
async def summit(db: AsyncSession, summit_spec: ProgrammeSpec):
    return await load(db, summit_spec)


def by_slug(sessions: list[ProgrammeSession], slug: str) -> ProgrammeSession:
    return next(s for s in sessions if s.slug == slug)


def vevents_by_uid(body: bytes) -> dict[str, object]:
    return {str(e["UID"]): e for e in Calendar.from_ical(body).events}


def whole_seconds(moment: datetime) -> datetime:
    """iCalendar date-times have no fractions of a second."""
    return moment.replace(microsecond=0)


def unfolded_lines(body: bytes) -> list[str]:
    return body.decode().replace("\r\n ", "").split("\r\n")


# --- iCalendar --------------------------------------------------------------------------


async def test_programme_ics_calendar_has_rfc5545_properties_and_every_session(summit):
    event, sessions = summit

    calendar = Calendar.from_ical(render_export("ics", event, sessions, BASE))

    assert {name: calendar[name].to_ical().decode() for name in calendar} == {
        "VERSION": "2.0",
        "PRODID": "-//Townhall//Townhall 0.1.0//EN",
        "CALSCALE": "GREGORIAN",
        "NAME": "3rd Mayors Summit on Living Together",
        "X-WR-CALNAME": "3rd Mayors Summit on Living Together",
        "X-WR-TIMEZONE": "Europe/Istanbul",
        "URL": f"{BASE}/events/{SLUG}",
        "REFRESH-INTERVAL": "PT1H",
        "X-PUBLISHED-TTL": "PT1H",
    }
    assert [str(e["UID"]) for e in calendar.events] == [
        f"{slug}@{SLUG}.townhall" for slug in TIMED + TBA
    ]
    assert [(e.decoded("DTSTAMP"), e.decoded("LAST-MODIFIED")) for e in calendar.events] == [
        (whole_seconds(s.updated_at),) * 2 for s in sessions
    ]
    assert all(s.updated_at.tzinfo == UTC for s in sessions)


async def test_programme_ics_content_lines_are_crlf_and_folded_at_75_octets(summit):
    event, sessions = summit

    body = render_export("ics", event, sessions, BASE)

    assert body.endswith(b"\r\n")
    lines = body.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines)
    assert [line for line in lines if len(line) > 75] == []
    begins = [line for line in lines if line.startswith((b"BEGIN:", b"END:"))]
    assert begins[:2] == [b"BEGIN:VCALENDAR", b"BEGIN:VTIMEZONE"]
    assert begins.count(b"BEGIN:VEVENT") == begins.count(b"END:VEVENT") == 7
    assert begins[-1] == b"END:VCALENDAR"


async def test_programme_ics_timed_session_is_a_whole_vevent_in_the_home_zone(summit):
    event, sessions = summit
    session = by_slug(sessions, "mayors-dialogue")

    vevent = vevents_by_uid(render_export("ics", event, sessions, BASE))[
        f"mayors-dialogue@{SLUG}.townhall"
    ]

    assert {name: vevent.decoded(name) for name in vevent} == {
        "SUMMARY": "Mayors Dialogue on the state of social cohesion in cities",
        "DTSTART": datetime(2021, 12, 7, 16, 0, tzinfo=ISTANBUL),
        "DTEND": datetime(2021, 12, 7, 17, 30, tzinfo=ISTANBUL),
        "DTSTAMP": whole_seconds(session.updated_at),
        "LAST-MODIFIED": whole_seconds(session.updated_at),
        "UID": "mayors-dialogue@mayors-summit-2021.townhall",
        "CATEGORIES": ["Dialogue"],
        "DESCRIPTION": f"{session.description}\n\n{mayors_dialogue_notes(session.room.id)}",
        "LOCATION": "Online",
        "STATUS": "CONFIRMED",
        "SEQUENCE": sequence(session),
        "URL": f"{BASE}/events/{SLUG}/rooms/{session.room.id}",
        "CONFERENCE": f"{BASE}/events/{SLUG}/rooms/{session.room.id}",
    }
    assert vevent.decoded("DTSTART").astimezone(UTC) == datetime(2021, 12, 7, 13, 0, tzinfo=UTC)


async def test_programme_ics_online_session_joins_at_its_room_per_rfc_7986(summit):
    event, sessions = summit
    room = (
        f"{BASE}/events/{SLUG}/rooms/{by_slug(sessions, 'workshop-1-building-resilience').room.id}"
    )

    body = render_export("ics", event, sessions, BASE)
    vevents = vevents_by_uid(body)
    online = vevents[f"workshop-1-building-resilience@{SLUG}.townhall"]
    on_site = vevents[f"plenary-human-rights-democracy@{SLUG}.townhall"]

    assert (
        str(online["URL"]),
        str(online["CONFERENCE"]),
        dict(online["CONFERENCE"].params),
        str(on_site["URL"]),
        "CONFERENCE" in on_site,
    ) == (
        room,
        room,
        {
            "VALUE": "URI",
            "FEATURE": ["VIDEO", "CHAT"],
            "LABEL": "Live room: stage, stream and questions",
        },
        f"{BASE}/events/{SLUG}/sessions/plenary-human-rights-democracy",
        False,
    )
    assert (
        f'CONFERENCE;FEATURE=VIDEO,CHAT;LABEL="Live room: stage, stream and questions";'
        f"VALUE=URI:{room}"
    ) in unfolded_lines(body)


async def test_programme_ics_sequence_rises_when_a_session_changes(
    db: AsyncSession, summit, summit_spec: ProgrammeSpec
):
    """An edit (here a re-import with a new title) raises the session's SEQUENCE, so calendars
    holding the entry take the new version; the other sessions keep theirs."""
    _event, sessions = summit
    # The programme was imported an hour ago (the numbers count whole seconds).
    for session in sessions:
        session.updated_at -= timedelta(hours=1)
    await db.commit()
    before_event, before_sessions = await load(db, summit_spec)
    before = {
        uid: e["SEQUENCE"]
        for uid, e in vevents_by_uid(
            render_export("ics", before_event, before_sessions, BASE)
        ).items()
    }
    edited = dataclasses.replace(
        summit_spec,
        sessions=tuple(
            dataclasses.replace(s, title=s.title + " (new title)")
            if s.slug == "workshop-1-building-resilience"
            else s
            for s in summit_spec.sessions
        ),
    )

    after_event, after_sessions = await load(db, edited)
    after = {
        uid: e["SEQUENCE"]
        for uid, e in vevents_by_uid(
            render_export("ics", after_event, after_sessions, BASE)
        ).items()
    }

    changed = f"workshop-1-building-resilience@{SLUG}.townhall"
    assert after[changed] >= before[changed] + 3600 - 1
    assert {uid: n for uid, n in after.items() if uid != changed} == {
        uid: n for uid, n in before.items() if uid != changed
    }
    assert all(0 < n < 2**31 for n in after.values())


async def test_programme_ics_tba_session_is_all_day_tentative_and_transparent(summit):
    event, sessions = summit

    body = render_export("ics", event, sessions, BASE)
    vevent = vevents_by_uid(body)[f"plenary-human-rights-democracy@{SLUG}.townhall"]

    assert {
        name: vevent.decoded(name)
        for name in ("SUMMARY", "DTSTART", "DTEND", "STATUS", "TRANSP", "LOCATION")
    } == {
        "SUMMARY": "Plenary session on Human Rights and Democracy (time to be announced)",
        "DTSTART": date(2021, 12, 10),
        "DTEND": date(2021, 12, 11),
        "STATUS": "TENTATIVE",
        "TRANSP": "TRANSPARENT",
        "LOCATION": "Izmir",
    }
    assert "Live room" not in vevent.decoded("DESCRIPTION")
    assert "DTSTART;VALUE=DATE:20211210" in unfolded_lines(body)


async def test_programme_ics_every_tzid_has_its_vtimezone(summit):
    event, sessions = summit

    body = render_export("ics", event, sessions, BASE)
    calendar = Calendar.from_ical(body)

    assert calendar.get_used_tzids() == {"Europe/Istanbul"}
    assert calendar.get_missing_tzids() == set()
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/Istanbul"]
    assert [line for line in unfolded_lines(body) if line.startswith("DTSTART;TZID=")] == [
        "DTSTART;TZID=Europe/Istanbul:20211207T160000",
        "DTSTART;TZID=Europe/Istanbul:20211207T174500",
        "DTSTART;TZID=Europe/Istanbul:20211208T160000",
        "DTSTART;TZID=Europe/Istanbul:20211208T174500",
        "DTSTART;TZID=Europe/Istanbul:20211208T191500",
    ]


async def test_programme_ics_vtimezone_carries_daylight_saving_of_the_home_zone(
    db: AsyncSession, summit_spec: ProgrammeSpec
):
    paris = ZoneInfo("Europe/Paris")
    summer, winter = date(2021, 7, 1), date(2021, 12, 7)
    spec = dataclasses.replace(
        summit_spec,
        event=dataclasses.replace(summit_spec.event, slug="paris-2021", timezone="Europe/Paris"),
        sessions=tuple(
            SessionSpec(
                slug=f"talk-{day.month}",
                title="Talk",
                kind="presentation",
                format="online",
                day=day,
                starts_at=local_to_utc(day, time(10, 0), paris),
                ends_at=local_to_utc(day, time(11, 0), paris),
            )
            for day in (summer, winter)
        ),
    )
    event, sessions = await load(db, spec)

    calendar = Calendar.from_ical(render_export("ics", event, sessions, BASE))
    zone_from_vtimezone = calendar.timezones[0].to_tz()

    # Read the local wall-clock times through the file's own VTIMEZONE, not the system's.
    instants = [
        e.decoded("DTSTART").replace(tzinfo=None).replace(tzinfo=zone_from_vtimezone)
        for e in calendar.events
    ]
    assert [i.astimezone(UTC) for i in instants] == [
        datetime(2021, 7, 1, 8, 0, tzinfo=UTC),
        datetime(2021, 12, 7, 9, 0, tzinfo=UTC),
    ]
    assert sorted(
        (c.name, str(c["TZNAME"]), c["TZOFFSETTO"].to_ical())
        for c in calendar.timezones[0].subcomponents
        if c.name == "DAYLIGHT" or c["TZOFFSETFROM"].td != c["TZOFFSETTO"].td
    ) == [("DAYLIGHT", "CEST", "+0200"), ("STANDARD", "CET", "+0100")]


async def test_session_ics_holds_one_vevent_with_the_programme_uid(summit):
    event, sessions = summit
    session = by_slug(sessions, "workshop-1-building-resilience")

    body = session_ics(event, session, BASE)
    calendar = Calendar.from_ical(body)

    assert [str(e["UID"]) for e in calendar.events] == [
        f"workshop-1-building-resilience@{SLUG}.townhall"
    ]
    whole = vevents_by_uid(render_export("ics", event, sessions, BASE))
    assert calendar.events[0] == whole[f"workshop-1-building-resilience@{SLUG}.townhall"]
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/Istanbul"]


async def test_programme_ics_is_identical_across_exports_and_reimports(
    db: AsyncSession, summit, summit_spec: ProgrammeSpec
):
    event, sessions = summit
    first = render_export("ics", event, sessions, BASE)

    again_event, again_sessions = await load(db, summit_spec)

    assert render_export("ics", again_event, again_sessions, BASE) == first


async def test_exports_hostile_text_stays_inert_and_exact(
    db: AsyncSession, summit_spec: ProgrammeSpec
):
    first, *rest = summit_spec.sessions
    hostile = dataclasses.replace(first, title=HOSTILE_TITLE, description=HOSTILE_DESCRIPTION)
    event, sessions = await load(db, dataclasses.replace(summit_spec, sessions=(hostile, *rest)))
    session = by_slug(sessions, "mayors-dialogue")

    ics = render_export("ics", event, sessions, BASE)
    xml = render_export("xml", event, sessions, BASE)
    raw_json = render_export("json", event, sessions, BASE)

    vevent = vevents_by_uid(ics)[f"mayors-dialogue@{SLUG}.townhall"]
    assert vevent.decoded("SUMMARY") == HOSTILE_TITLE
    assert vevent.decoded("DESCRIPTION").startswith(HOSTILE_DESCRIPTION + "\n\n")
    assert (
        'SUMMARY:Cities\\, "we"\\; <script>alert(1)</script> & co\\\\n\\nsecond line'
        in unfolded_lines(ics)
    )
    xml_event = ET.fromstring(xml).find(f".//event[@guid='{event_guid(event, session)}']")
    assert (xml_event.findtext("title"), xml_event.findtext("abstract")) == (
        HOSTILE_TITLE,
        HOSTILE_DESCRIPTION,
    )
    assert b"<script>" not in xml and b"&lt;script&gt;alert(1)&lt;/script&gt;" in xml
    json_event = json.loads(raw_json)["schedule"]["conference"]["days"][0]["rooms"]["Online"][0]
    assert (json_event["title"], json_event["abstract"]) == (HOSTILE_TITLE, HOSTILE_DESCRIPTION)
    assert [c for c in "<>&" if c.encode() in raw_json] == []


async def test_exports_drop_control_characters_xml_and_icalendar_cannot_carry(
    db: AsyncSession, summit_spec: ProgrammeSpec
):
    first, *rest = summit_spec.sessions
    bell = dataclasses.replace(first, title="Bell\x07 and\ttab\x0b")
    event, sessions = await load(db, dataclasses.replace(summit_spec, sessions=(bell, *rest)))

    xml = render_export("xml", event, sessions, BASE)
    ics = render_export("ics", event, sessions, BASE)

    xmlschema.XMLSchema(SCHEMAS / "schedule.xml.xsd").validate(xml.decode())
    assert ET.fromstring(xml).find("day/room/event/title").text == "Bell and\ttab"
    assert Calendar.from_ical(ics).events[0].decoded("SUMMARY") == "Bell and\ttab"


# --- c3voc schedule ---------------------------------------------------------------------


async def test_schedule_xml_is_valid_against_the_c3voc_xsd(summit):
    event, sessions = summit

    body = render_export("xml", event, sessions, BASE)

    xmlschema.XMLSchema(SCHEMAS / "schedule.xml.xsd").validate(body.decode())
    root = ET.fromstring(body)
    assert {child.tag: child.text for child in root.find("conference")} == {
        "acronym": "mayors_summit_2021",
        "title": "3rd Mayors Summit on Living Together",
        "start": "2021-12-07",
        "end": "2021-12-10",
        "days": "4",
        "timeslot_duration": "00:15",
        "time_zone_name": "Europe/Istanbul",
        "url": f"{BASE}/events/{SLUG}",
        "base_url": f"{BASE}/events/{SLUG}/",
    }
    assert [
        (day.get("index"), day.get("date"), day.get("start"), day.get("end"))
        for day in root.iter("day")
    ] == [
        ("1", "2021-12-07", "2021-12-07T00:00:00+03:00", "2021-12-07T23:59:00+03:00"),
        ("2", "2021-12-08", "2021-12-08T00:00:00+03:00", "2021-12-08T23:59:00+03:00"),
        ("3", "2021-12-09", "2021-12-09T00:00:00+03:00", "2021-12-09T23:59:00+03:00"),
        ("4", "2021-12-10", "2021-12-10T00:00:00+03:00", "2021-12-10T23:59:00+03:00"),
    ]
    session = by_slug(sessions, "mayors-dialogue")
    first = root.find("day/room/event")
    assert {child.tag: child.text for child in first if child.tag not in ("persons", "links")} == {
        "date": "2021-12-07T16:00:00+03:00",
        "start": "16:00",
        "duration": "01:30",
        "room": "Online",
        "slug": f"mayors_summit_2021-{session.id}-mayors-dialogue",
        "url": f"{BASE}/events/{SLUG}/sessions/mayors-dialogue",
        "title": "Mayors Dialogue on the state of social cohesion in cities",
        "subtitle": None,
        "track": None,
        "type": "Dialogue",
        "language": "en",
        "abstract": session.description,
        "description": mayors_dialogue_notes(session.room.id),
    }
    assert [p.text for p in first.iter("person")] == [
        "Mr Tunç Soyer",
        "City of Montréal Representative",
        "H. E. Mr. Miguel Angel Moratinos",
        "Ms. Gabriela Ramos",
        "Ayten Alkan",
        "Cheikh Khaled Bentounes",
    ]
    assert [(link.get("href"), link.text) for link in first.iter("link")] == [
        (f"{BASE}/events/{SLUG}/rooms/{session.room.id}", "Live room")
    ]


async def test_schedule_json_is_valid_against_the_c3voc_json_schema(summit):
    event, sessions = summit
    schema = json.loads((SCHEMAS / "schedule.json.schema.json").read_text())
    validator = jsonschema.Draft6Validator(schema, format_checker=jsonschema.FormatChecker())

    document = json.loads(render_export("json", event, sessions, BASE))

    assert [error.message for error in validator.iter_errors(document)] == []
    session = by_slug(sessions, "mayors-dialogue")
    person = session.appearances[0].person
    first = document["schedule"]["conference"]["days"][0]["rooms"]["Online"][0]
    assert {**first, "persons": first["persons"][:1]} == {
        "guid": event_guid(event, session),
        "id": session.id,
        "date": "2021-12-07T16:00:00+03:00",
        "start": "16:00",
        "end": "2021-12-07T17:30:00+03:00",
        "duration": "01:30",
        "room": "Online",
        "slug": f"mayors_summit_2021-{session.id}-mayors-dialogue",
        "url": f"{BASE}/events/{SLUG}/sessions/mayors-dialogue",
        "title": "Mayors Dialogue on the state of social cohesion in cities",
        "subtitle": "",
        "track": None,
        "type": "Dialogue",
        "language": "en",
        "abstract": session.description,
        "description": mayors_dialogue_notes(session.room.id),
        "persons": [
            {
                "id": person.id,
                "guid": first["persons"][0]["guid"],
                "public_name": "Mr Tunç Soyer",
            }
        ],
        "links": [
            {
                "url": f"{BASE}/events/{SLUG}/rooms/{session.room.id}",
                "title": "Live room",
                "type": "web",
            }
        ],
    }


async def test_schedule_language_is_the_programmes_or_left_out(
    db: AsyncSession, summit_spec: ProgrammeSpec
):
    """The c3voc ``language`` is the one the programme says its sessions are held in; a
    programme that does not say leaves it null (JSON) and out (XML), both still valid."""
    schema = json.loads((SCHEMAS / "schedule.json.schema.json").read_text())
    validator = jsonschema.Draft6Validator(schema, format_checker=jsonschema.FormatChecker())
    found = {}
    for language in ("fr-CA", None):
        spec = dataclasses.replace(
            summit_spec, event=dataclasses.replace(summit_spec.event, language=language)
        )
        event, sessions = await load(db, spec)
        document = json.loads(render_export("json", event, sessions, BASE))
        xml = render_export("xml", event, sessions, BASE)
        xmlschema.XMLSchema(SCHEMAS / "schedule.xml.xsd").validate(xml.decode())
        assert [error.message for error in validator.iter_errors(document)] == []
        events = [
            item
            for day in document["schedule"]["conference"]["days"]
            for room in day["rooms"].values()
            for item in room
        ]
        found[language] = (
            {item["language"] for item in events},
            {e.findtext("language") for e in ET.fromstring(xml).iter("event")},
        )
    assert found == {"fr-CA": ({"fr-CA"}, {"fr-CA"}), None: ({None}, {None})}


async def test_schedule_guids_are_stable_uuid5_of_event_and_session_slugs(summit):
    event, sessions = summit

    document = schedule_document(event, sessions, BASE)

    guids = [
        e["guid"]
        for day in document["schedule"]["conference"]["days"]
        for events in day["rooms"].values()
        for e in events
    ]
    assert guids == [event_guid(event, by_slug(sessions, slug)) for slug in TIMED]
    assert guids[0] == "1dca7575-97fa-502c-818f-593b07d96875"


async def test_schedule_tba_sessions_are_left_out_and_their_day_kept_empty(summit):
    event, sessions = summit

    document = json.loads(render_export("json", event, sessions, BASE))
    root = ET.fromstring(render_export("xml", event, sessions, BASE))

    conference = document["schedule"]["conference"]
    assert conference["daysCount"] == 4
    assert {
        day["date"]: {
            room: [e["slug"].split("-", 2)[2] for e in es] for room, es in day["rooms"].items()
        }
        for day in conference["days"]
    } == {
        "2021-12-07": {"Online": TIMED[:2]},
        "2021-12-08": {"Online": TIMED[2:]},
        "2021-12-09": {},
        "2021-12-10": {},
    }
    assert [
        [event.findtext("slug").split("-", 2)[2] for event in day.iter("event")]
        for day in root.iter("day")
    ] == [TIMED[:2], TIMED[2:], [], []]


# --- routes -----------------------------------------------------------------------------


def test_export_routes_come_before_the_session_page():
    routes = build_routes()

    def route_for(path: str) -> str:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
        return next(r.name for r in routes if r.matches(scope)[0] == Match.FULL)

    assert {
        path: route_for(path)
        for path in (
            f"/events/{SLUG}/programme.ics",
            f"/events/{SLUG}/sessions/mayors-dialogue.ics",
            f"/events/{SLUG}/sessions/mayors-dialogue",
            f"/events/{SLUG}/schedule.xml",
            f"/events/{SLUG}/schedule.json",
        )
    } == {
        f"/events/{SLUG}/programme.ics": "programme_ics",
        f"/events/{SLUG}/sessions/mayors-dialogue.ics": "session_ics",
        f"/events/{SLUG}/sessions/mayors-dialogue": "session",
        f"/events/{SLUG}/schedule.xml": "schedule_xml",
        f"/events/{SLUG}/schedule.json": "schedule_json",
    }


@pytest.fixture
async def client(database_url: str, summit):
    settings = Settings(database_url=database_url, public_url=BASE, secret_key="s" * 32)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield client


@pytest.mark.parametrize(
    ("path", "media_type", "disposition", "fmt"),
    [
        (
            f"/events/{SLUG}/programme.ics",
            "text/calendar; charset=utf-8",
            f'attachment; filename="{SLUG}.ics"',
            "ics",
        ),
        (f"/events/{SLUG}/schedule.xml", "application/xml", None, "xml"),
        (f"/events/{SLUG}/schedule.json", "application/json", None, "json"),
    ],
)
async def test_export_route_serves_the_programme_file(
    client: httpx.AsyncClient, summit, path: str, media_type: str, disposition, fmt: str
):
    event, sessions = summit

    response = await client.get(path)

    assert (
        response.status_code,
        response.headers["content-type"],
        response.headers.get("content-disposition"),
        response.headers["cache-control"],
        response.content,
    ) == (
        200,
        media_type,
        disposition,
        "public, max-age=0, must-revalidate",
        render_export(fmt, event, sessions, BASE),
    )


async def test_export_route_unchanged_file_is_not_modified(client: httpx.AsyncClient):
    first = await client.get(f"/events/{SLUG}/programme.ics")

    again = await client.get(
        f"/events/{SLUG}/programme.ics", headers={"If-None-Match": first.headers["etag"]}
    )

    assert (again.status_code, again.content, again.headers["etag"]) == (
        304,
        b"",
        first.headers["etag"],
    )


async def test_session_ics_route_serves_one_session(client: httpx.AsyncClient, summit):
    event, sessions = summit

    response = await client.get(f"/events/{SLUG}/sessions/mayors-dialogue.ics")

    assert (
        response.status_code,
        response.headers["content-type"],
        response.headers["content-disposition"],
        response.content,
    ) == (
        200,
        "text/calendar; charset=utf-8",
        f'attachment; filename="{SLUG}-mayors-dialogue.ics"',
        session_ics(event, by_slug(sessions, "mayors-dialogue"), BASE),
    )


async def test_export_routes_unknown_event_or_session_is_not_found(client: httpx.AsyncClient):
    json_response = await client.get("/events/nope/schedule.json")
    ics_response = await client.get(f"/events/{SLUG}/sessions/nope.ics")

    assert (json_response.status_code, json_response.json()) == (
        404,
        {"error": {"code": "event.not_found", "message": "no event has the slug 'nope'"}},
    )
    assert ics_response.status_code == 404
