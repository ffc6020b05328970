"""The pretalx / c3voc ``schedule.json`` importer: a real pretalx export, re-imports, malformed
input, and a round trip of the Summit through Townhall's own export."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform.models import Person, ProgrammeSession
from townhall.platform.pretalx import (
    KINDS_BY_WORD,
    load_schedule_json,
    parse_schedule_json,
    room_format,
    session_kind,
)
from townhall.platform.programme import get_event, import_programme, list_sessions
from townhall.platform.programme_spec import (
    SESSION_KINDS,
    AppearanceSpec,
    EventSpec,
    PersonSpec,
    ProgrammeError,
    ProgrammeSpec,
    SessionSpec,
    ZoneSpec,
)
from townhall.web.exports import render_export
from townhall.web.programme_json import display_name

DEMOCON = (
    Path(__file__).resolve().parents[1] / "data" / "examples" / "pretalx-democon.schedule.json"
)
SOURCE = "democon.json"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def democon() -> dict[str, Any]:
    return json.loads(DEMOCON.read_text())


def first_event(document: dict[str, Any]) -> dict[str, Any]:
    return document["schedule"]["conference"]["days"][0]["rooms"]["Gray Room"][0]


async def count(db: AsyncSession, model: type) -> int:
    return await db.scalar(select(func.count()).select_from(model))


def test_democon_schedule_parses_into_event_sessions_and_people():
    spec = load_schedule_json(DEMOCON)

    assert spec.event == EventSpec(
        slug="democon",
        title="DemoCon",
        timezone="UTC",
        reference_zones=(ZoneSpec(label="UTC", zone="UTC"),),
    )
    assert (len(spec.sessions), len(spec.people)) == (36, 27)
    assert spec.sessions[0] == SessionSpec(
        slug="focused-5thgeneration-hardware",
        title="Focused 5thgeneration hardware",
        kind="presentation",
        format="online",
        day=date(2020, 12, 14),
        starts_at=utc(2020, 12, 14, 8, 0),
        ends_at=utc(2020, 12, 14, 8, 30),
        description=(
            "Brand back-end models!\n\n"
            "Station provide certain mean. Toward region beautiful language blood.\n"
            "Professional economic pattern a. Human plan institution thus."
        ),
        appearances=(AppearanceSpec(person="person-26", role="presenter"),),
    )
    assert spec.people[0] == PersonSpec(key="person-26", name="Brian Robinson")
    assert Counter(s.kind for s in spec.sessions) == {"presentation": 27, "workshop": 9}
    assert Counter(s.format for s in spec.sessions) == {"online": 36}
    assert Counter(s.day for s in spec.sessions) == {
        date(2020, 12, 14): 12,
        date(2020, 12, 15): 12,
        date(2020, 12, 16): 12,
    }
    assert [s.starts_at for s in spec.sessions] == sorted(s.starts_at for s in spec.sessions)


def test_session_kind_maps_pretalx_types_onto_session_kinds():
    types = [
        "Talk",
        "Lightning Talk (5 min)",
        "Hands-On",
        "Panel discussion",
        "Keynote",
        "Lunch break",
        "Meetup",
        "",
        None,
    ]

    assert {t: session_kind(t) for t in types} == {
        "Talk": "presentation",
        "Lightning Talk (5 min)": "presentation",
        "Hands-On": "workshop",
        "Panel discussion": "panel",
        "Keynote": "keynote",
        "Lunch break": "break",
        "Meetup": "other",
        "": "other",
        None: "other",
    }
    assert set(KINDS_BY_WORD.values()) <= set(SESSION_KINDS)


def test_room_format_is_online_unless_the_name_says_otherwise():
    names = [
        "Gray Room",
        "Online",
        "Izmir",
        "Hall A (hybrid)",
        "Main stage - on-site",
        "Onsite lounge",
        "In person workshop room",
    ]

    assert {name: room_format(name) for name in names} == {
        "Gray Room": "online",
        "Online": "online",
        "Izmir": "online",
        "Hall A (hybrid)": "hybrid",
        "Main stage - on-site": "on-site",
        "Onsite lounge": "on-site",
        "In person workshop room": "on-site",
    }


async def test_democon_schedule_imports_into_the_database(db: AsyncSession):
    await import_programme(db, spec=load_schedule_json(DEMOCON))
    await db.commit()

    event = await get_event(db, slug="democon")
    sessions = await list_sessions(db, event_id=event.id)

    assert (len(sessions), await count(db, Person)) == (36, 27)
    assert [
        (s.slug, s.starts_at, s.ends_at, [display_name(a.person) for a in s.appearances])
        for s in sessions
        if s.slug.startswith(("re-engineered", "managed-stable", "networked-modular"))
    ] == [
        (
            "managed-stable-function",
            utc(2020, 12, 14, 8, 0),
            utc(2020, 12, 14, 9, 30),
            ["Jeremy Beck"],
        ),
        (
            "networked-modular-help-desk",
            utc(2020, 12, 14, 14, 0),
            utc(2020, 12, 14, 14, 30),
            ["Maria Williams", "Mariah Estrada"],
        ),
        (
            "re-engineered-bandwidth-monitored-focus-group",
            utc(2020, 12, 16, 8, 30),
            utc(2020, 12, 16, 9, 0),
            ["Stephanie Hudson", "Mariah Estrada", "Kathy Wallace"],
        ),
    ]
    assert all(s.room is not None for s in sessions)


async def test_democon_schedule_imported_twice_updates_in_place(db: AsyncSession):
    spec = load_schedule_json(DEMOCON)
    await import_programme(db, spec=spec)
    await db.commit()
    event = await get_event(db, slug="democon")
    before = {s.slug: s.id for s in await list_sessions(db, event_id=event.id)}

    result = await import_programme(db, spec=load_schedule_json(DEMOCON))
    await db.commit()

    after = {s.slug: s.id for s in await list_sessions(db, event_id=event.id)}
    assert (result.created, sorted(result.updated), result.removed) == ([], sorted(before), [])
    assert after == before
    assert (await count(db, ProgrammeSession), await count(db, Person)) == (36, 27)


def broken(change: Callable[[dict[str, Any]], object]) -> str:
    """The DemoCon export as text, after ``change`` edited it."""
    document = democon()
    change(document)
    return json.dumps(document)


def anonymous_person_without_guid(document: dict[str, Any]) -> None:
    del first_event(document)["guid"]
    del first_event(document)["persons"][0]["public_name"]


FIRST = "schedule.conference.days[0] (2020-12-14).rooms['Gray Room'][0]"
FIRST_GUID = f"{FIRST} (guid '8079583e-8321-506c-95af-fd2903a5f075')"


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        pytest.param(
            '{"schedule": ',
            [f"{SOURCE}: not valid JSON: Expecting value (line 1, column 14)"],
            id="not-json",
        ),
        pytest.param(
            '{"schedule": {"version": "1"}}',
            [f"{SOURCE}: schedule: field 'conference': required"],
            id="no-conference",
        ),
        pytest.param(
            broken(lambda d: d["schedule"]["conference"].update(time_zone_name="Mars/Olympus")),
            [
                f"{SOURCE}: schedule.conference: "
                "field 'time_zone_name': unknown time zone 'Mars/Olympus'"
            ],
            id="unknown-zone",
        ),
        pytest.param(
            broken(lambda d: first_event(d).update(date="2020-12-14T09:00:00")),
            [
                f"{SOURCE}: {FIRST_GUID}: field 'date': expected a date and time with its UTC "
                "offset, such as 2020-12-14T09:00:00+01:00, got '2020-12-14T09:00:00'"
            ],
            id="date-without-offset",
        ),
        pytest.param(
            broken(lambda d: first_event(d).update(duration="30 min", title="")),
            [
                f"{SOURCE}: {FIRST_GUID}: field 'title': required, a non-empty string",
                f"{SOURCE}: {FIRST_GUID}: field 'duration': expected \"HH:MM\", got '30 min'",
            ],
            id="bad-duration-and-title",
        ),
        pytest.param(
            broken(anonymous_person_without_guid),
            [
                f"{SOURCE}: {FIRST} (slug 'democon-25-focused-5thgeneration-hardware')"
                ".persons[0]: field 'public_name' (or 'name'): required, a non-empty string"
            ],
            id="person-without-name",
        ),
        pytest.param(
            broken(lambda d: d["schedule"]["conference"]["days"][1].update(rooms=[])),
            [
                f"{SOURCE}: schedule.conference.days[1] (2020-12-15): "
                "field 'rooms': expected an object"
            ],
            id="rooms-not-an-object",
        ),
    ],
)
def test_schedule_json_malformed_raises_programme_error_naming_the_place(
    text: str, problems: list[str]
):
    with pytest.raises(ProgrammeError) as caught:
        parse_schedule_json(text, source=SOURCE)

    assert caught.value.problems == problems


def test_schedule_json_zero_duration_is_reported_by_the_programme_rules():
    text = broken(lambda d: first_event(d).update(duration="00:00"))

    with pytest.raises(ProgrammeError) as caught:
        parse_schedule_json(text, source=SOURCE)

    assert caught.value.problems == [
        f"{SOURCE}: sessions[0] ('focused-5thgeneration-hardware'): "
        "field 'end': the session ends before it starts"
    ]


def test_schedule_json_duplicate_titles_get_unique_slugs():
    def twins(document: dict[str, Any]) -> None:
        room = document["schedule"]["conference"]["days"][0]["rooms"]["Gray Room"]
        for entry in room[:2]:
            entry.update(slug="", title="Same talk")

    spec = parse_schedule_json(broken(twins), source=SOURCE)

    assert [s.slug for s in spec.sessions[:3]] == [
        "same-talk",
        "managed-stable-function",
        "same-talk-2",
    ]


async def test_summit_round_trips_through_schedule_json(
    db: AsyncSession, summit_spec: ProgrammeSpec
):
    await import_programme(db, spec=summit_spec)
    await db.commit()
    event = await get_event(db, slug=summit_spec.event.slug)
    sessions = await list_sessions(db, event_id=event.id)

    exported = render_export("json", event, sessions, "http://testserver")
    spec = parse_schedule_json(exported.decode(), source="summit.json")

    timed = [s for s in sessions if s.starts_at is not None]
    assert [(s.slug, s.title, s.starts_at, s.ends_at) for s in spec.sessions] == [
        (s.slug, s.title, s.starts_at, s.ends_at) for s in timed
    ]
    assert (spec.event.slug, spec.event.title, spec.event.timezone) == (
        "mayors-summit-2021",
        "3rd Mayors Summit on Living Together",
        "Europe/Istanbul",
    )
    assert [(s.kind, s.format, s.day) for s in spec.sessions] == [
        (s.kind, s.format, s.day) for s in timed
    ]
    names = {p.key: p.name for p in spec.people}
    assert [[names[a.person] for a in s.appearances] for s in spec.sessions] == [
        list(dict.fromkeys(display_name(a.person) for a in s.appearances)) for s in timed
    ]
