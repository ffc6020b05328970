"""The programme pages, through the ASGI app: what a visitor reads, and that it is sound HTML.

Every page is parsed with html5lib in strict mode (any parse error fails the test), then
checked for what a parser does not check: unique ids, references that resolve, headings in
order, ``lang``, landmarks, valid ``<time datetime>`` values, no inline script (JSON data blocks
aside) or style.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree.ElementTree import Element

import html5lib
import httpx
import pytest
from sqlalchemy import select

from townhall.app import create_app
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import ProgrammeSession, Room
from townhall.platform.programme import import_programme
from townhall.platform.programme_file import parse_programme
from townhall.platform.programme_spec import ProgrammeSpec
from townhall.platform.rooms import advance_rooms, set_room_state, update_room
from townhall.settings import Settings
from townhall.web.programme_view import live_status
from townhall.web.security import content_security_policy

BASE = "http://testserver"
SLUG = "mayors-summit-2021"
EVENT_URL = f"/events/{SLUG}"
# Ten minutes before Thematic workshop 1: its room opened at 15:45 (15 minutes before).
NOW = datetime.fromisoformat("2021-12-08T15:50:00+03:00")
SESSION_SLUGS = [
    "mayors-dialogue",
    "interactive-city-dialogue",
    "workshop-1-building-resilience",
    "workshop-2-diversity-equity-inclusion",
    "workshop-3-dialogue-solidarity",
    "plenary-human-rights-democracy",
    "high-level-panel-closing-ceremony",
]
HOSTILE = "<script>alert(1)</script>"
# Literal TOML strings ('…') keep the markup exactly as a hostile editor would type it.
HOSTILE_PROGRAMME = f"""\
format_version = 1

[event]
slug = "hostile"
title = 'Hostile {HOSTILE} event'
timezone = "Europe/Istanbul"

[[event.reference_zones]]
label = 'Izmir {HOSTILE}'
zone = "Europe/Istanbul"

[[people]]
key = "mallory"
name = '<img src=x onerror=alert(1)> Mallory'
position = '"quoted" & <b>bold</b>'

[[sessions]]
slug = "xss"
title = 'Session {HOSTILE}'
kind = "panel"
format = "online"
date = 2021-12-08
start = "16:00"
end = "17:00"
description = '''First {HOSTILE} paragraph.

Second <style>body{{display:none}}</style> paragraph.'''
guiding_questions = ['Why {HOSTILE}?']

[[sessions.people]]
role = "moderator"
status = "tbc"
segment = '<i>Segment</i>'
person = "mallory"
"""
# Sessions whose times fall on another date in some zones: -1 day in Montréal, +1 in Tokyo.
FAR_ZONES_PROGRAMME = """\
format_version = 1

[event]
slug = "far-zones"
title = "Far zones"
timezone = "Europe/Istanbul"

[[event.reference_zones]]
label = "Izmir"
zone = "Europe/Istanbul"

[[event.reference_zones]]
label = "Montréal"
zone = "America/Toronto"

[[event.reference_zones]]
label = "Tokyo"
zone = "Asia/Tokyo"

[[sessions]]
slug = "early"
title = "Early"
kind = "other"
format = "on-site"
date = 2021-12-08
start = "01:00"
end = "02:00"

[[sessions]]
slug = "late"
title = "Late"
kind = "other"
format = "on-site"
date = 2021-12-08
start = "19:15"
end = "20:30"
"""


# ---- Arranging: a database with the Summit, an app on a manual clock ------------------------


@dataclass
class Summit:
    database_url: str
    rooms: dict[str, int]  # session slug -> room id


async def load(database_url: str, *specs: ProgrammeSpec, now: datetime = NOW) -> dict[str, int]:
    """Import the programmes, move the rooms where the clock says (as the hub would)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            for spec in specs:
                await import_programme(db, spec=spec)
            await db.commit()
            await advance_rooms(db, now=now)
            await db.commit()
            rows = await db.execute(select(ProgrammeSession.slug, Room.id).join(Room))
            return {slug: room_id for slug, room_id in rows.all()}
    finally:
        await engine.dispose()


@asynccontextmanager
async def client_for(database_url: str, now: datetime = NOW) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, public_url=BASE)
    app = create_app(settings, clock=ManualClock(now))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield client


@pytest.fixture
async def summit(database_url: str, summit_spec: ProgrammeSpec) -> Summit:
    return Summit(database_url, await load(database_url, summit_spec))


@pytest.fixture
async def client(summit: Summit) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(summit.database_url) as client:
        yield client


# ---- Reading pages --------------------------------------------------------------------------


def parse(html: str) -> Element:
    """The document, or a failure at the first parse error (html5lib's strict mode)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(html)


def text(element: Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def by_attribute(root: Element, name: str) -> dict[str, Element]:
    return {el.get(name): el for el in root.iter() if el.get(name) is not None}


def classed(root: Element, name: str) -> list[Element]:
    return [el for el in root.iter() if name in (el.get("class") or "").split()]


def first_classed(root: Element, name: str) -> Element | None:
    found = classed(root, name)
    return found[0] if found else None


def cards(doc: Element) -> dict[str, Element]:
    return {el.get("data-session"): el for el in doc.iter("article") if el.get("data-session")}


def statuses(doc: Element) -> dict[str, str]:
    return {
        slug: text(next(el for el in card.iter() if el.get("data-status-text") is not None))
        for slug, card in cards(doc).items()
    }


def zone_rows(card: Element) -> list[tuple[str, str]]:
    return [(text(row.find("dt")), text(row.find("dd"))) for row in classed(card, "time-row")]


def people(root: Element) -> list[tuple[str, list[str]]]:
    return [
        (text(group.find("dt")), [text(dd) for dd in group.findall("dd")])
        for group in classed(root, "people-group")
    ]


def hrefs(root: Element) -> list[str]:
    return [a.get("href") for a in root.iter("a")]


def headings(root: Element) -> list[tuple[int, str]]:
    return [
        (int(el.tag[1]), text(el)) for el in root.iter() if re.fullmatch(r"h[1-6]", str(el.tag))
    ]


def is_time_value(value: str) -> bool:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            date.fromisoformat(value)
        else:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})", value)
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AssertionError, ValueError):
        return False
    return True


def is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def document_problems(html: str) -> list[str]:
    """What strict parsing leaves unchecked, as a list of problems (empty when sound)."""
    doc = parse(html)
    elements = list(doc.iter())
    problems = []
    if doc.get("lang") != "en":
        problems.append("<html> has no lang='en'")
    ids = [el.get("id") for el in elements if el.get("id")]
    problems += [f"duplicate id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for el in elements:
        for name in ("aria-labelledby", "aria-describedby", "for"):
            problems += [
                f"{name}={ref!r} points nowhere"
                for ref in (el.get(name) or "").split()
                if ref not in ids
            ]
        href = el.get("href") or ""
        if href.startswith("#") and href[1:] not in ids:
            problems.append(f"link to missing #{href[1:]}")
        if el.tag == "time" and not is_time_value(el.get("datetime") or ""):
            problems.append(f"<time datetime={el.get('datetime')!r}> is not a valid value")
        if el.tag == "abbr" and not el.get("title"):
            problems.append(f"<abbr>{text(el)}</abbr> has no title")
        if el.tag == "a" and not text(el):
            problems.append(f"link to {href!r} has no text")
        if el.tag == "script" and el.get("type") == "application/json" and not el.get("src"):
            # A data block (the page's labels): never executed, so the CSP still holds.
            if not is_json(el.text or ""):
                problems.append("<script type=application/json> is not JSON")
        elif el.tag == "script" and (not el.get("src") or text(el)):
            problems.append("inline <script>")
        if el.tag == "style" or el.get("style") is not None:
            problems.append(f"inline style on <{el.tag}>")
        problems += [f"event handler {a} on <{el.tag}>" for a in el.attrib if a.startswith("on")]
    if [el.tag for el in elements].count("main") != 1:
        problems.append("not exactly one <main>")
    levels = [level for level, _ in headings(doc)]
    if levels.count(1) != 1:
        problems.append("not exactly one <h1>")
    problems += [
        f"heading h{b} follows h{a}"
        for a, b in zip([0, *levels], levels, strict=False)
        if b > a + 1
    ]
    return problems


# ---- Home and event page ----------------------------------------------------------------------


async def test_home_one_event_redirects_to_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/")

    assert (response.status_code, response.headers["location"]) == (302, EVENT_URL)


async def test_home_several_events_lists_them(summit: Summit) -> None:
    await load(summit.database_url, parse_programme(FAR_ZONES_PROGRAMME))

    async with client_for(summit.database_url) as client:
        response = await client.get("/")

    doc = parse(response.text)
    listed = first_classed(doc, "event-list")
    assert (response.status_code, [(text(a), a.get("href")) for a in listed.iter("a")]) == (
        200,
        [
            ("3rd Mayors Summit on Living Together", EVENT_URL),
            ("Far zones", "/events/far-zones"),
        ],
    )
    assert document_problems(response.text) == []


async def test_event_page_is_sound_html(client: httpx.AsyncClient) -> None:
    response = await client.get(EVENT_URL)

    assert (response.status_code, response.headers["content-type"]) == (
        200,
        "text/html; charset=utf-8",
    )
    assert document_problems(response.text) == []


async def test_event_page_lists_sessions_by_day(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    days = [
        (
            text(section.find(".//h2")),
            text(first_classed(section, "day-place")),
            [text(h3) for h3 in section.iter("h3")],
        )
        for section in classed(doc, "day")
    ]

    assert days == [
        (
            "Tuesday 7 December 2021",
            "Online",
            [
                "Mayors Dialogue on the state of social cohesion in cities",
                "Interactive City Dialogue - Living Together: lessons learnt and perspectives"
                " for cities in the future",
            ],
        ),
        (
            "Wednesday 8 December 2021",
            "Online",
            [
                "Thematic workshop 1: Building resilience in cities",
                "Thematic workshop 2: Fostering diversity, equity and inclusion",
                "Thematic workshop 3: Promoting dialogue and solidarity",
            ],
        ),
        (
            "Friday 10 December 2021",
            "On site · Izmir",
            [
                "Plenary session on Human Rights and Democracy",
                "Plenary: High Level Panel on Living Together and Human Rights -Closing Ceremony",
            ],
        ),
    ]


async def test_event_page_shows_times_in_every_reference_zone(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    times = {slug: zone_rows(card) for slug, card in cards(doc).items()}

    assert times == {
        "mayors-dialogue": [
            ("Izmir", "16:00–17:30 (UTC+3)"),
            ("Paris", "14:00–15:30 CET (UTC+1)"),
            ("Montréal", "08:00–09:30 EST (UTC-5)"),
            ("UTC", "13:00–14:30 (UTC)"),
        ],
        "interactive-city-dialogue": [
            ("Izmir", "17:45–19:00 (UTC+3)"),
            ("Paris", "15:45–17:00 CET (UTC+1)"),
            ("Montréal", "09:45–11:00 EST (UTC-5)"),
            ("UTC", "14:45–16:00 (UTC)"),
        ],
        "workshop-1-building-resilience": [
            ("Izmir", "16:00–17:30 (UTC+3)"),
            ("Paris", "14:00–15:30 CET (UTC+1)"),
            ("Montréal", "08:00–09:30 EST (UTC-5)"),
            ("UTC", "13:00–14:30 (UTC)"),
        ],
        "workshop-2-diversity-equity-inclusion": [
            ("Izmir", "17:45–19:00 (UTC+3)"),
            ("Paris", "15:45–17:00 CET (UTC+1)"),
            ("Montréal", "09:45–11:00 EST (UTC-5)"),
            ("UTC", "14:45–16:00 (UTC)"),
        ],
        "workshop-3-dialogue-solidarity": [
            ("Izmir", "19:15–20:30 (UTC+3)"),
            ("Paris", "17:15–18:30 CET (UTC+1)"),
            ("Montréal", "11:15–12:30 EST (UTC-5)"),
            ("UTC", "16:15–17:30 (UTC)"),
        ],
        "plenary-human-rights-democracy": [],
        "high-level-panel-closing-ceremony": [],
    }


async def test_event_page_times_carry_machine_readable_instants(client: httpx.AsyncClient) -> None:
    card = cards(parse((await client.get(EVENT_URL)).text))["workshop-3-dialogue-solidarity"]

    instants = [(el.get("datetime"), text(el)) for el in card.iter("time")]

    assert (card.get("data-start"), card.get("data-end"), card.get("data-day"), instants) == (
        "2021-12-08T16:15:00Z",
        "2021-12-08T17:30:00Z",
        "2021-12-08",
        [
            ("2021-12-08T19:15+03:00", "19:15"),
            ("2021-12-08T20:30+03:00", "20:30"),
            ("2021-12-08T17:15+01:00", "17:15"),
            ("2021-12-08T18:30+01:00", "18:30"),
            ("2021-12-08T11:15-05:00", "11:15"),
            ("2021-12-08T12:30-05:00", "12:30"),
            ("2021-12-08T16:15:00Z", "16:15"),
            ("2021-12-08T17:30:00Z", "17:30"),
        ],
    )


async def test_event_page_tba_sessions_show_date_and_announcement(
    client: httpx.AsyncClient,
) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    tba = {
        slug: (
            text(first_classed(card, "times-tba")),
            [t.get("datetime") for t in card.iter("time")],
        )
        for slug, card in cards(doc).items()
        if first_classed(card, "times-tba") is not None
    }

    assert tba == {
        "plenary-human-rights-democracy": (
            "Friday 10 December 2021 · Time to be announced",
            ["2021-12-10"],
        ),
        "high-level-panel-closing-ceremony": (
            "Friday 10 December 2021 · Time to be announced",
            ["2021-12-10"],
        ),
    }


async def test_event_page_statuses_follow_clock_and_rooms(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    assert statuses(doc) == {
        "mayors-dialogue": "Ended",
        "interactive-city-dialogue": "Ended",
        "workshop-1-building-resilience": "Room open",
        "workshop-2-diversity-equity-inclusion": "Upcoming",
        "workshop-3-dialogue-solidarity": "Upcoming",
        "plenary-human-rights-democracy": "Time to be announced",
        "high-level-panel-closing-ceremony": "Time to be announced",
    }


async def test_event_page_room_state_wins_over_clock(summit: Summit) -> None:
    engine = make_engine(summit.database_url)
    async with make_sessionmaker(engine)() as db:
        room_id = summit.rooms["workshop-3-dialogue-solidarity"]
        await set_room_state(db, room_id=room_id, action="go_live", now=NOW)
        await db.commit()
    await engine.dispose()

    async with client_for(summit.database_url) as client:
        doc = parse((await client.get(EVENT_URL)).text)

    card = cards(doc)["workshop-3-dialogue-solidarity"]
    assert (statuses(doc)["workshop-3-dialogue-solidarity"], card.get("data-room-state")) == (
        "Live now",
        "live",
    )


async def test_room_page_stage_and_stream_links_open_in_a_new_tab(summit: Summit) -> None:
    room_id = summit.rooms["workshop-3-dialogue-solidarity"]
    engine = make_engine(summit.database_url)
    async with make_sessionmaker(engine)() as db:
        await set_room_state(db, room_id=room_id, action="go_live", now=NOW)
        changes = {"stage_url": "https://stage.example/w3", "stream_url": "https://tv.example/w3"}
        await update_room(db, room_id=room_id, changes=changes, now=NOW)
        await db.commit()
    await engine.dispose()

    async with client_for(summit.database_url) as client:
        doc = parse((await client.get(f"{EVENT_URL}/rooms/{room_id}")).text)

    links = doc.findall(".//{*}div[@id='room-stage']//{*}a")
    # The Q&A stays open beside the call or the stream.
    assert [(a.get("href"), a.get("target"), a.get("rel")) for a in links] == [
        ("https://stage.example/w3", "_blank", "noopener noreferrer"),
        ("https://tv.example/w3", "_blank", "noopener noreferrer"),
    ]


async def test_event_page_before_the_summit_everything_is_upcoming(
    database_url: str, summit_spec: ProgrammeSpec
) -> None:
    before = datetime.fromisoformat("2021-12-01T12:00:00+03:00")
    await load(database_url, summit_spec, now=before)

    async with client_for(database_url, before) as client:
        doc = parse((await client.get(EVENT_URL)).text)

    assert statuses(doc) == {
        **dict.fromkeys(SESSION_SLUGS[:5], "Upcoming"),
        **dict.fromkeys(SESSION_SLUGS[5:], "Time to be announced"),
    }


def programme_session(
    starts: str | None, ends: str | None, room_state: str | None
) -> ProgrammeSession:
    session = ProgrammeSession(
        slug="s",
        day=date(2021, 12, 8),
        starts_at=datetime.fromisoformat(starts) if starts else None,
        ends_at=datetime.fromisoformat(ends) if ends else None,
    )
    session.room = Room(state=room_state) if room_state else None
    return session


@pytest.mark.parametrize(
    ("room_state", "now", "status"),
    [
        (None, "2021-12-08T14:59+03:00", "upcoming"),
        (None, "2021-12-08T15:00+03:00", "opens_soon"),
        (None, "2021-12-08T16:00+03:00", "live"),
        (None, "2021-12-08T17:30+03:00", "ended"),
        ("scheduled", "2021-12-08T15:50+03:00", "opens_soon"),
        ("scheduled", "2021-12-08T16:10+03:00", "opens_soon"),
        ("open", "2021-12-01T12:00+03:00", "open"),
        ("live", "2021-12-09T12:00+03:00", "live"),
        ("ended", "2021-12-08T16:10+03:00", "ended"),
        ("archived", "2021-12-01T12:00+03:00", "ended"),
    ],
)
def test_live_status_room_state_wins_over_clock(
    room_state: str | None, now: str, status: str
) -> None:
    session = programme_session("2021-12-08T16:00+03:00", "2021-12-08T17:30+03:00", room_state)

    assert live_status(session, datetime.fromisoformat(now), opens_minutes_before=15) == status


@pytest.mark.parametrize(
    ("room_state", "status"), [(None, "tba"), ("scheduled", "tba"), ("live", "live")]
)
def test_live_status_time_to_be_announced_unless_room_says(
    room_state: str | None, status: str
) -> None:
    session = programme_session(None, None, room_state)

    assert live_status(session, NOW, opens_minutes_before=15) == status


async def test_event_page_groups_people_as_the_programme_does(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    groups = {slug: [heading for heading, _ in people(card)] for slug, card in cards(doc).items()}

    assert groups == {
        "mayors-dialogue": [
            "Welcome and opening",
            "Keynote speeches",
            "Moderator · Mayors Dialogue",
            "Special message · Mayors Dialogue",
        ],
        "interactive-city-dialogue": [
            "Presentation",
            "Introduction Panel",
            "Moderator · Interactive City Dialogue",
        ],
        "workshop-1-building-resilience": [
            "Moderator",
            "Introduction",
            "Panel - Cities Good practices",
            "Discussion",
        ],
        "workshop-2-diversity-equity-inclusion": [
            "Moderator",
            "Introduction",
            "Panel - Cities Good practices",
            "Discussion",
        ],
        "workshop-3-dialogue-solidarity": [
            "Moderator",
            "Introduction",
            "Panel - Cities good practices",
            "Discussion",
        ],
        "plenary-human-rights-democracy": [],
        "high-level-panel-closing-ceremony": [],
    }


async def test_event_page_names_people_with_tbc_marks(client: httpx.AsyncClient) -> None:
    card = cards(parse((await client.get(EVENT_URL)).text))["workshop-1-building-resilience"]

    assert (people(card), [(text(a), a.get("title")) for a in card.iter("abbr")]) == (
        [
            (
                "Moderator",
                [
                    "Ms. Güldem Özdoğan, DPhil (tbc: to be confirmed), Visiting Research Fellow,"
                    " Newcastle University"
                ],
            ),
            (
                "Introduction",
                [
                    "Mr. Sameh Wahba, Global Director, Urban, Disaster Risk Management,"
                    " Resilience and Land Global Practice, World Bank",
                    "Ms. Lina Liakou, Global Director for City Engagement and Knowledge,"
                    " Resilient Cities Network (RCN)",
                ],
            ),
            (
                "Panel - Cities Good practices",
                [
                    "Mayor of Rabat (tbc: to be confirmed), Morocco",
                    "Mayor of Paris (tbc: to be confirmed), France",
                    "Mayor of Namur (tbc: to be confirmed), Belgium",
                    "Mayor of Glasgow (tbc: to be confirmed), United Kingdom",
                ],
            ),
            (
                "Discussion",
                [
                    "Mr. Prof. Dr. Ruşen Keleş (tbc: to be confirmed), Professor of Political"
                    " Science, Ankara University"
                ],
            ),
        ],
        [("tbc", "to be confirmed")] * 6,
    )


async def test_event_page_names_slots_topics_and_tbd(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    found = {slug: people(cards(doc)[slug]) for slug in SESSION_SLUGS[:2]}

    assert found == {
        "mayors-dialogue": [
            (
                "Welcome and opening",
                [
                    "Mr Tunç Soyer, Mayor, Izmir Metropolitan Municipality",
                    "City of Montréal Representative (tbd: to be determined)",
                ],
            ),
            (
                "Keynote speeches",
                [
                    "H. E. Mr. Miguel Angel Moratinos, High Representative, United Nations"
                    " Alliance of Civilizations (UNAOC)",
                    "Ms. Gabriela Ramos (tbc: to be confirmed), Assistant Director-General for"
                    " the Social and Human Sciences, UNESCO",
                ],
            ),
            (
                "Moderator · Mayors Dialogue",
                [
                    "Ayten Alkan, Associate Professor of Social Sciences Institute Public Admin."
                    " and Political Science, Ankara University"
                ],
            ),
            (
                "Special message · Mayors Dialogue",
                [
                    "Cheikh Khaled Bentounes, President of AISA International, initiator of the"
                    " International Day on Living together in Peace — on “International Day on"
                    " Living together in Peace”"
                ],
            ),
        ],
        "interactive-city-dialogue": [
            (
                "Presentation",
                [
                    "Lorenzo Kihlgren Grandi, Director, City Diplomacy Lab, Columbia Global"
                    " Centers | Paris — on “5 years of Living Together”"
                ],
            ),
            (
                "Introduction Panel",
                [
                    "Mr. Armand Roland Pierre Béouindé, Mayor of Ouagadougou",
                    "Other mayors/speakers (tbc: to be confirmed)",
                ],
            ),
            (
                "Moderator · Interactive City Dialogue",
                ["Office of International Relations, Ville de Montréal (tbc: to be confirmed)"],
            ),
        ],
    }


async def test_event_page_links_sessions_rooms_and_calendars(
    client: httpx.AsyncClient, summit: Summit
) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    links = {slug: hrefs(first_classed(card, "actions")) for slug, card in cards(doc).items()}

    def expected(slug: str) -> list[str]:
        session = f"{EVENT_URL}/sessions/{slug}"
        room = [f"{EVENT_URL}/rooms/{summit.rooms[slug]}"] if slug in summit.rooms else []
        return [session, *room, f"{session}.ics"]

    assert (sorted(summit.rooms), links) == (
        sorted(SESSION_SLUGS[:5]),
        {slug: expected(slug) for slug in SESSION_SLUGS},
    )


async def test_event_page_offers_programme_downloads(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    footer = next(doc.iter("footer"))
    help_links = hrefs(first_classed(doc, "programme-help"))

    assert (hrefs(footer), help_links) == (
        [f"{EVENT_URL}/programme.ics", f"{EVENT_URL}/schedule.xml", f"{EVENT_URL}/schedule.json"],
        [f"{EVENT_URL}/programme.ics"],
    )


async def test_event_page_hands_the_clock_to_its_script(client: httpx.AsyncClient) -> None:
    doc = parse((await client.get(EVENT_URL)).text)

    root = next(el for el in doc.iter() if el.get("data-programme") is not None)
    [script] = [s for s in doc.iter("script") if s.get("src")]
    script_response = await client.get(script.get("src"))

    assert (
        root.get("data-now"),
        root.get("data-soon-minutes"),
        root.get("data-programme-url"),
        json.loads(root.get("data-status-labels")),
        script.get("type"),
        script_response.status_code,
        script_response.headers["content-type"],
    ) == (
        "2021-12-08T12:50:00Z",
        "60",
        f"/api/events/{SLUG}/programme",
        {
            "tba": "Time to be announced",
            "upcoming": "Upcoming",
            "opens_soon": "Opens soon",
            "open": "Room open",
            "live": "Live now",
            "ended": "Ended",
        },
        "module",
        200,
        "text/javascript; charset=utf-8",
    )


async def test_event_page_marks_other_dates_in_far_zones(summit: Summit) -> None:
    await load(summit.database_url, parse_programme(FAR_ZONES_PROGRAMME))

    async with client_for(summit.database_url) as client:
        response = await client.get("/events/far-zones")

    doc = parse(response.text)
    assert {slug: zone_rows(card) for slug, card in cards(doc).items()} == {
        "early": [
            ("Izmir", "01:00–02:00 (UTC+3)"),
            ("Montréal", "17:00–18:00 EST (UTC-5) -1 day"),
            ("Tokyo", "07:00–08:00 JST (UTC+9)"),
            ("UTC", "22:00–23:00 (UTC) -1 day"),
        ],
        "late": [
            ("Izmir", "19:15–20:30 (UTC+3)"),
            ("Montréal", "11:15–12:30 EST (UTC-5)"),
            ("Tokyo", "01:15–02:30 JST (UTC+9) +1 day"),
            ("UTC", "16:15–17:30 (UTC)"),
        ],
    }
    assert document_problems(response.text) == []


# ---- Session page -----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SESSION_SLUGS)
async def test_session_page_is_sound_html(client: httpx.AsyncClient, slug: str) -> None:
    response = await client.get(f"{EVENT_URL}/sessions/{slug}")

    assert (response.status_code, document_problems(response.text)) == (200, [])


async def test_session_page_shows_description_and_questions(
    client: httpx.AsyncClient, summit_spec: ProgrammeSpec
) -> None:
    spec = next(s for s in summit_spec.sessions if s.slug == "interactive-city-dialogue")

    doc = parse((await client.get(f"{EVENT_URL}/sessions/{spec.slug}")).text)

    sections = by_attribute(doc, "aria-labelledby")
    assert (
        text(doc.find(".//h1")),
        [text(p) for p in sections["about-title"].iter("p")],
        [text(li) for li in sections["questions-title"].iter("li")],
        [level_title for level_title in headings(doc)],
    ) == (
        spec.title,
        spec.description.split("\n\n"),
        list(spec.guiding_questions),
        [
            (1, spec.title),
            (2, "When"),
            (2, "About this session"),
            (2, "Guiding questions"),
            (2, "People"),
        ],
    )


async def test_session_page_shows_when_status_people_and_links(
    client: httpx.AsyncClient, summit: Summit
) -> None:
    slug = "workshop-1-building-resilience"

    doc = parse((await client.get(f"{EVENT_URL}/sessions/{slug}")).text)

    when = by_attribute(doc, "aria-labelledby")["when-title"]
    assert (
        text(first_classed(doc, "status")),
        text(first_classed(when, "session-date")),
        zone_rows(when),
        hrefs(first_classed(when, "actions")),
        [heading for heading, _ in people(doc)],
        hrefs(first_classed(doc, "breadcrumbs")),
    ) == (
        "Status: Room open",
        "Wednesday 8 December 2021 · 1 h 30 min",
        [
            ("Izmir", "16:00–17:30 (UTC+3)"),
            ("Paris", "14:00–15:30 CET (UTC+1)"),
            ("Montréal", "08:00–09:30 EST (UTC-5)"),
            ("UTC", "13:00–14:30 (UTC)"),
        ],
        [f"{EVENT_URL}/rooms/{summit.rooms[slug]}", f"{EVENT_URL}/sessions/{slug}.ics"],
        ["Moderator", "Introduction", "Panel - Cities Good practices", "Discussion"],
        [EVENT_URL, f"{EVENT_URL}#day-2021-12-08", f"{EVENT_URL}/sessions/{slug}"],
    )


async def test_session_page_tba_session_has_no_room(client: httpx.AsyncClient) -> None:
    slug = "high-level-panel-closing-ceremony"

    doc = parse((await client.get(f"{EVENT_URL}/sessions/{slug}")).text)

    when = by_attribute(doc, "aria-labelledby")["when-title"]
    assert (
        text(first_classed(doc, "status")),
        text(first_classed(when, "times-tba")),
        hrefs(first_classed(when, "actions")),
        [text(p) for p in by_attribute(doc, "aria-labelledby")["about-title"].iter("p")],
    ) == (
        "Status: Time to be announced",
        "Friday 10 December 2021 · Time to be announced",
        [f"{EVENT_URL}/sessions/{slug}.ics"],
        [
            "A high-level meeting of mayors and other urban leaders from around the world who"
            " will thoroughly discuss the challenges and the future of living together and its"
            " organic relationship with human rights in cities. The interdependence of human"
            " rights and living together is a crucial issue for the future of liveable and"
            " harmonious cities in a post-COVID recovery context.",
            "This high-level session will be the closing ceremony of the event.",
        ],
    )


# ---- Errors, headers, escaping ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/events/nope", "no event has the slug 'nope'"),
        (f"{EVENT_URL}/sessions/nope", "no session has the slug 'nope'"),
        ("/nowhere", "There is nothing at this address."),
    ],
)
async def test_unknown_page_gives_404_page(
    client: httpx.AsyncClient, path: str, message: str
) -> None:
    response = await client.get(path)

    doc = parse(response.text)
    assert (
        response.status_code,
        response.headers["content-type"],
        text(doc.find(".//h1")),
        text(first_classed(doc, "error-page")),
        document_problems(response.text),
    ) == (
        404,
        "text/html; charset=utf-8",
        "Not found",
        f"Error 404 Not found {message} Back to the start page",
        [],
    )


async def test_api_unknown_event_gives_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/events/nope")

    assert (response.status_code, response.json()) == (
        404,
        {"error": {"code": "event.not_found", "message": "no event has the slug 'nope'"}},
    )


async def test_every_response_carries_the_csp(client: httpx.AsyncClient) -> None:
    event_page = parse((await client.get(EVENT_URL)).text)
    assets = [el.get("href") for el in event_page.iter("link") if el.get("rel") == "stylesheet"] + [
        el.get("src") for el in event_page.iter("script") if el.get("src")
    ]
    paths = [
        "/",
        EVENT_URL,
        f"{EVENT_URL}/sessions/mayors-dialogue",
        "/events/nope",
        "/api/events/nope",
        f"/api/events/{SLUG}/programme",
        *assets,
    ]

    found = {
        path: (await client.get(path)).headers.get("content-security-policy") for path in paths
    }

    csp = content_security_policy((BASE,))
    assert "connect-src 'self' ws://testserver" in csp
    assert (len(assets), found) == (2, dict.fromkeys(paths, csp))


async def test_pages_escape_user_text(summit: Summit) -> None:
    await load(summit.database_url, parse_programme(HOSTILE_PROGRAMME))

    async with client_for(summit.database_url) as client:
        event_html = (await client.get("/events/hostile")).text
        session_html = (await client.get("/events/hostile/sessions/xss")).text

    event_doc, session_doc = parse(event_html), parse(session_html)
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in event_html,
        HOSTILE in event_html or HOSTILE in session_html,
        text(event_doc.find(".//h1")),
        people(cards(event_doc)["xss"]),
        zone_rows(cards(event_doc)["xss"])[0][0],
        [text(p) for p in by_attribute(session_doc, "aria-labelledby")["about-title"].iter("p")],
        [
            text(li)
            for li in by_attribute(session_doc, "aria-labelledby")["questions-title"].iter("li")
        ],
        document_problems(event_html),
        document_problems(session_html),
    ) == (
        True,
        False,
        f"Hostile {HOSTILE} event",
        [
            (
                "Moderator · <i>Segment</i>",
                [
                    "<img src=x onerror=alert(1)> Mallory (tbc: to be confirmed),"
                    ' "quoted" & <b>bold</b>'
                ],
            )
        ],
        f"Izmir {HOSTILE}",
        [f"First {HOSTILE} paragraph.", "Second <style>body{display:none}</style> paragraph."],
        [f"Why {HOSTILE}?"],
        [],
        [],
    )


def test_document_problems_finds_what_strict_parsing_misses() -> None:
    page = (
        "<!doctype html><html><head><title>x</title><style>p{}</style></head><body>"
        '<main><h1 id="a">A</h1><h3 id="a">B</h3><a href="#b">to b</a><a href="/x"></a>'
        '<p style="color:red" onclick="go()" aria-labelledby="c">'
        '<time datetime="7 Dec">then</time><abbr>tbc</abbr></p></main>'
        "<script>alert(1)</script></body></html>"
    )

    assert document_problems(page) == [
        "<html> has no lang='en'",
        "duplicate id 'a'",
        "inline style on <style>",
        "link to missing #b",
        "link to '/x' has no text",
        "aria-labelledby='c' points nowhere",
        "inline style on <p>",
        "event handler onclick on <p>",
        "<time datetime='7 Dec'> is not a valid value",
        "<abbr>tbc</abbr> has no title",
        "inline <script>",
        "heading h3 follows h1",
    ]


def test_parse_rejects_malformed_html() -> None:
    with pytest.raises(html5lib.html5parser.ParseError):
        parse(
            "<!doctype html><html lang=en><head><title>x</title></head>"
            "<body><p></div></body></html>"
        )
