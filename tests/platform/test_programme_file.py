"""Bad programme files are refused whole, with problems naming the file, the entry and the field;
imports are all-or-nothing; a session whose time moves tells its room."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.cli_programme import import_file
from townhall.platform.models import Appearance, Event, Person, ProgrammeSession, Room, RoomEvent
from townhall.platform.programme import get_event, import_programme
from townhall.platform.programme_file import load_programme_file, parse_programme
from townhall.platform.programme_spec import ProgrammeError, ProgrammeSpec
from townhall.settings import Settings

SOURCE = "programmes/demo.toml"
VALID = """\
format_version = 1

[event]
slug = "demo"
title = "Demo"
timezone = "Europe/Istanbul"

[[people]]
key = "ayse"
name = "Ayşe Yılmaz"

[[sessions]]
slug = "opening"
title = "Opening"
kind = "opening"
format = "online"
date = 2021-12-07
start = "16:00"
end = "17:00"

[[sessions.people]]
role = "moderator"
person = "ayse"
"""
SECOND_SESSION = """
[[sessions]]
slug = "opening"
title = "Opening again"
kind = "opening"
format = "online"
date = 2021-12-08
"""
WORKSHOP_1 = "workshop-1-building-resilience"


def edit(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


def problems_of(text: str) -> list[str]:
    with pytest.raises(ProgrammeError) as caught:
        parse_programme(text, source=SOURCE)
    return caught.value.problems


def test_parse_programme_valid_file_gives_utc_times() -> None:
    spec = parse_programme(VALID, source=SOURCE)

    session = spec.sessions[0]
    assert (session.slug, session.starts_at.isoformat(), session.ends_at.isoformat()) == (
        "opening",
        "2021-12-07T13:00:00+00:00",
        "2021-12-07T14:00:00+00:00",
    )


def test_parse_programme_malformed_toml_names_file_and_line() -> None:
    assert problems_of(edit('title = "Demo"', 'title = "Demo')) == [
        "programmes/demo.toml: not valid TOML: Illegal character '\\n' (at line 5, column 14)"
    ]


def test_parse_programme_unknown_time_zone_names_the_field() -> None:
    assert problems_of(edit('"Europe/Istanbul"', '"Europe/Izmir"')) == [
        "programmes/demo.toml: event: field 'timezone': unknown time zone 'Europe/Izmir'"
    ]


def test_parse_programme_language_is_a_tag_in_conventional_case() -> None:
    said = parse_programme(
        edit('timezone = "Europe/Istanbul"\n', 'timezone = "Europe/Istanbul"\nlanguage = "fr-ca"\n')
    )
    unsaid = parse_programme(VALID)

    assert (said.event.language, unsaid.event.language) == ("fr-CA", None)
    assert problems_of(
        edit(
            'timezone = "Europe/Istanbul"\n', 'timezone = "Europe/Istanbul"\nlanguage = "French"\n'
        )
    ) == [
        "programmes/demo.toml: event: field 'language': 'French' is not a language tag such as en "
        "or fr"
    ]


def test_parse_programme_unknown_reference_zone_names_the_entry() -> None:
    text = edit(
        'timezone = "Europe/Istanbul"\n',
        'timezone = "Europe/Istanbul"\n\n'
        '[[event.reference_zones]]\nlabel = "Olympus"\nzone = "Mars/Olympus"\n',
    )

    assert problems_of(text) == [
        "programmes/demo.toml: event.reference_zones[0] ('Olympus'): field 'zone':"
        " unknown time zone 'Mars/Olympus'"
    ]


def test_parse_programme_end_before_start_names_the_session() -> None:
    assert problems_of(edit('end = "17:00"', 'end = "15:30"')) == [
        "programmes/demo.toml: sessions[0] ('opening'): field 'end':"
        " the session ends before it starts"
    ]


def test_parse_programme_duplicate_slug_names_the_second_session() -> None:
    assert problems_of(VALID + SECOND_SESSION) == [
        "programmes/demo.toml: sessions[1] ('opening'): field 'slug':"
        " duplicate session slug 'opening'"
    ]


def test_parse_programme_unknown_field_lists_the_allowed_ones() -> None:
    assert problems_of(
        edit('name = "Ayşe Yılmaz"', 'name = "Ayşe Yılmaz"\norganization = "X"')
    ) == [
        "programmes/demo.toml: people[0] ('ayse'): unknown field 'organization' (allowed: city,"
        " country, honorific, key, label, name, organisation, position, postnominals)"
    ]


def test_parse_programme_person_without_key_names_the_field() -> None:
    assert problems_of(edit('key = "ayse"\n', "")) == [
        "programmes/demo.toml: people[0] (None): field 'key': required"
    ]


def test_parse_programme_unknown_person_key_names_the_appearance() -> None:
    assert problems_of(edit('person = "ayse"', 'person = "ayse-yilmaz"')) == [
        "programmes/demo.toml: sessions[0] ('opening').people[0]: field 'person':"
        " no person has the key 'ayse-yilmaz'"
    ]


def test_parse_programme_reports_every_problem_at_once() -> None:
    text = edit('end = "17:00"', 'end = "5pm"\nroom = "A"')

    assert problems_of(text) == [
        "programmes/demo.toml: sessions[0] ('opening'): unknown field 'room' (allowed: date,"
        " description, end, end_date, format, guiding_questions, kind, part, people, slug,"
        " start, title)",
        "programmes/demo.toml: sessions[0] ('opening'): field 'end': expected a time"
        " \"HH:MM\", got '5pm'",
    ]


def test_load_programme_file_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    with pytest.raises(ProgrammeError) as caught:
        load_programme_file(path)

    assert caught.value.problems == [f"{path}: cannot read the file: No such file or directory"]


async def row_counts(db: AsyncSession) -> dict[str, int]:
    counts = {}
    for model in (Event, Person, ProgrammeSession, Appearance, Room, RoomEvent):
        counts[model.__tablename__] = await db.scalar(select(func.count()).select_from(model))
    return counts


async def test_import_file_invalid_file_changes_nothing(
    database_url: str,
    db: AsyncSession,
    summit_spec: ProgrammeSpec,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await import_programme(db, spec=summit_spec)
    await db.commit()
    before = await row_counts(db)
    path = tmp_path / "demo.toml"
    path.write_text(edit('end = "17:00"', 'end = "15:30"'), encoding="utf-8")

    status = await import_file(Settings(database_url=database_url), path)

    assert (status, capsys.readouterr().err, await row_counts(db)) == (
        1,
        f"{path}: sessions[0] ('opening'): field 'end': the session ends before it starts\n"
        f"{path}: not imported (1 problem(s))\n",
        before,
    )


async def test_import_programme_failing_midway_rolls_back_whole(
    db: AsyncSession, summit_spec: ProgrammeSpec
) -> None:
    await import_programme(db, spec=summit_spec)
    await db.commit()
    before = await row_counts(db)
    # Built past the checks on purpose: the second "opening" breaks a unique constraint
    # after the event, its people and the first session were already written.
    valid = parse_programme(VALID.replace('slug = "demo"', 'slug = "mayors-summit-2021"'))
    broken = dataclasses.replace(
        valid,
        sessions=(valid.sessions[0], dataclasses.replace(valid.sessions[0], title="Twice")),
    )

    with pytest.raises(IntegrityError):
        await import_programme(db, spec=broken)
    await db.rollback()

    event = await get_event(db, slug="mayors-summit-2021")
    assert (await row_counts(db), event.title) == (
        before,
        "3rd Mayors Summit on Living Together",
    )


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def new_times(data: dict[str, object]) -> tuple[datetime, datetime]:
    """The new span a ``room.schedule_changed`` event announces (its other fields aside)."""
    return at(str(data["starts_at"])), at(str(data["ends_at"]))


def moved(spec: ProgrammeSpec, slug: str, by: timedelta) -> ProgrammeSpec:
    sessions = tuple(
        dataclasses.replace(s, starts_at=s.starts_at + by, ends_at=s.ends_at + by)
        if s.slug == slug
        else s
        for s in spec.sessions
    )
    return dataclasses.replace(spec, sessions=sessions)


async def test_import_programme_moved_session_logs_schedule_change(
    db: AsyncSession, summit_spec: ProgrammeSpec
) -> None:
    await import_programme(db, spec=summit_spec)
    await db.commit()
    room_id = await db.scalar(
        select(Room.id).join(ProgrammeSession).where(ProgrammeSession.slug == WORKSHOP_1)
    )

    result = await import_programme(db, spec=moved(summit_spec, WORKSHOP_1, timedelta(minutes=30)))
    await db.commit()

    logged = (
        await db.execute(select(RoomEvent.room_id, RoomEvent.seq, RoomEvent.name, RoomEvent.data))
    ).all()
    expected = (
        room_id,
        1,
        "room.schedule_changed",
        (at("2021-12-08T13:30:00Z"), at("2021-12-08T15:00:00Z")),
    )
    assert (
        [(e.room_id, e.seq, e.name, new_times(e.data)) for e in result.events],
        [(r.room_id, r.seq, r.name, new_times(r.data)) for r in logged],
    ) == ([expected], [expected])


async def test_import_programme_moved_session_keeps_its_new_time(
    db: AsyncSession, summit_spec: ProgrammeSpec
) -> None:
    await import_programme(db, spec=summit_spec)
    await db.commit()

    await import_programme(db, spec=moved(summit_spec, WORKSHOP_1, timedelta(minutes=30)))
    await db.commit()

    session = await db.scalar(select(ProgrammeSession).where(ProgrammeSession.slug == WORKSHOP_1))
    assert (session.starts_at, session.ends_at) == (
        at("2021-12-08T13:30:00Z"),
        at("2021-12-08T15:00:00Z"),
    )
