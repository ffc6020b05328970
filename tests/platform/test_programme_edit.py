"""Editing the programme in place: the importer's rules, the importer's effects, and the
programme file written back."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform import access, programme
from townhall.platform.errors import Conflict, InvalidState
from townhall.platform.invitation_links import resend_invitation
from townhall.platform.models import Room, RoomEvent
from townhall.platform.programme_edit import (
    add_person,
    add_session,
    export_programme_file,
    new_person_key,
    remove_session,
    session_version,
    set_appearance_status,
    set_moderator,
    spec_from_db,
    update_room_timing,
    update_session,
)
from townhall.platform.programme_file import parse_programme
from townhall.platform.programme_spec import (
    AppearanceSpec,
    PersonSpec,
    ProgrammeError,
    ProgrammeSpec,
    SessionSpec,
)
from townhall.platform.room_log import LoggedEvent
from townhall.platform.rooms import set_room_state

NOW = datetime(2021, 12, 8, 9, 0, tzinfo=UTC)
WORKSHOP_1 = "workshop-1-building-resilience"
WORKSHOP_3 = "workshop-3-dialogue-solidarity"
PLENARY = "plenary-human-rights-democracy"


@pytest.fixture
async def event_id(db: AsyncSession, summit_spec: ProgrammeSpec) -> int:
    await programme.import_programme(db, spec=summit_spec)
    await db.commit()
    return (await programme.get_event(db, slug=summit_spec.event.slug)).id


async def room_of(db: AsyncSession, event_id: int, slug: str) -> Room | None:
    session = await programme.get_session(db, event_id=event_id, slug=slug)
    return await db.scalar(select(Room).where(Room.session_id == session.id))


async def room_of_id(db: AsyncSession, room_id: int) -> Room | None:
    return await db.scalar(
        select(Room).where(Room.id == room_id).execution_options(populate_existing=True)
    )


def schedule_change(event: LoggedEvent) -> tuple[int, str, datetime | None, datetime | None]:
    """A logged event as (room, name, new start, new end)."""

    def instant(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

    return (
        event.room_id,
        event.name,
        instant(event.data["starts_at"]),
        instant(event.data["ends_at"]),
    )


def session_of(spec: ProgrammeSpec, slug: str) -> SessionSpec:
    return next(s for s in spec.sessions if s.slug == slug)


async def test_spec_from_db_equals_the_imported_file(
    db: AsyncSession, event_id: int, summit_spec: ProgrammeSpec
) -> None:
    assert await spec_from_db(db, event_id) == summit_spec


def test_export_programme_file_round_trips_the_summit(summit_spec: ProgrammeSpec) -> None:
    text = export_programme_file(summit_spec)

    assert parse_programme(text, source="export") == summit_spec
    assert export_programme_file(parse_programme(text)) == text


def test_export_programme_file_round_trips_awkward_texts(summit_spec: ProgrammeSpec) -> None:
    awkward = 'Quotes "x" and """three""", a back\\slash\\, tabs\tand ünïcödé — end\\'
    session = dataclasses.replace(
        summit_spec.sessions[0],
        title=awkward,
        description='First paragraph "quoted".\n\nSecond\\ paragraph ends with a quote"',
        guiding_questions=(awkward, "Line\nbreak?"),
    )
    spec = dataclasses.replace(summit_spec, sessions=(session, *summit_spec.sessions[1:]))

    assert parse_programme(export_programme_file(spec)) == spec


def test_export_programme_file_writes_slots_inline(summit_spec: ProgrammeSpec) -> None:
    text = export_programme_file(summit_spec)

    assert 'key = "mayors-dialogue.2"' not in text
    assert 'label = "City of Montréal Representative"' in text
    assert 'start = "16:00"' in text  # Izmir wall clock, not UTC


async def test_update_session_end_before_start_is_refused_naming_the_field(
    db: AsyncSession, event_id: int
) -> None:
    with pytest.raises(ProgrammeError) as caught:
        await update_session(
            db,
            event_id=event_id,
            slug=WORKSHOP_1,
            changes={"start": time(17, 0), "end": time(16, 0)},
            now=NOW,
        )

    assert caught.value.problems == [
        "programme: sessions[2] ('workshop-1-building-resilience'): "
        "field 'end': the session ends before it starts"
    ]


async def test_update_session_collects_every_problem_like_the_importer(
    db: AsyncSession, event_id: int
) -> None:
    bad = AppearanceSpec(person="nobody", role="juggler", status="maybe")

    with pytest.raises(ProgrammeError) as caught:
        await update_session(
            db,
            event_id=event_id,
            slug=WORKSHOP_1,
            changes={
                "title": " ",
                "kind": "party",
                "start": time(16, 0),
                "end": None,
                "appearances": (bad,),
            },
            now=NOW,
        )

    where = "programme: sessions[2] ('workshop-1-building-resilience')"
    assert caught.value.problems == [
        f"{where}: field 'title': must not be empty",
        f"{where}: field 'kind': expected one of opening, keynote, dialogue, workshop, panel, "
        "plenary, presentation, ceremony, break, other",
        f"{where}: give both 'start' and 'end', or neither (time to be announced)",
        f"{where}.people[0]: field 'person': no person has the key 'nobody'",
        f"{where}.people[0]: field 'role': expected one of welcome, keynote, moderator, "
        "introduction, panelist, discussant, special_message, presenter",
        f"{where}.people[0]: field 'status': expected one of confirmed, tbc, tbd",
    ]


async def test_update_session_moved_logs_schedule_changed(db: AsyncSession, event_id: int) -> None:
    room = await room_of(db, event_id, WORKSHOP_1)
    assert room is not None

    events = await update_session(
        db,
        event_id=event_id,
        slug=WORKSHOP_1,
        changes={"start": time(16, 30), "end": time(18, 0)},
        now=NOW,
    )
    await db.commit()

    assert [schedule_change(e) for e in events] == [
        (
            room.id,
            "room.schedule_changed",
            datetime(2021, 12, 8, 13, 30, tzinfo=UTC),
            datetime(2021, 12, 8, 15, 0, tzinfo=UTC),
        )
    ]
    logged = await db.scalars(select(RoomEvent.name).where(RoomEvent.room_id == room.id))
    assert list(logged) == ["room.schedule_changed"]


async def test_update_session_new_day_keeps_wall_clock_times(
    db: AsyncSession, event_id: int
) -> None:
    await update_session(
        db, event_id=event_id, slug=WORKSHOP_1, changes={"day": date(2021, 12, 9)}, now=NOW
    )
    await db.commit()

    session = session_of(await spec_from_db(db, event_id), WORKSHOP_1)
    assert (session.day, session.starts_at, session.ends_at) == (
        date(2021, 12, 9),
        datetime(2021, 12, 9, 13, 0, tzinfo=UTC),
        datetime(2021, 12, 9, 14, 30, tzinfo=UTC),
    )


async def test_update_session_without_times_is_time_to_be_announced(
    db: AsyncSession, event_id: int
) -> None:
    events = await update_session(
        db, event_id=event_id, slug=WORKSHOP_1, changes={"start": None, "end": None}, now=NOW
    )
    await db.commit()

    assert [schedule_change(e)[1:] for e in events] == [("room.schedule_changed", None, None)]
    session = await programme.get_session(db, event_id=event_id, slug=WORKSHOP_1)
    assert session.time_to_be_announced


async def test_update_session_on_site_made_hybrid_gets_a_room(
    db: AsyncSession, event_id: int
) -> None:
    assert await room_of(db, event_id, PLENARY) is None

    events = await update_session(
        db,
        event_id=event_id,
        slug=PLENARY,
        changes={"format": "hybrid", "start": time(10, 0), "end": time(12, 0)},
        now=NOW,
    )
    await db.commit()

    room = await room_of(db, event_id, PLENARY)
    assert room is not None and room.state == "scheduled"
    assert [schedule_change(e) for e in events] == [
        (
            room.id,
            "room.schedule_changed",
            datetime(2021, 12, 10, 7, 0, tzinfo=UTC),
            datetime(2021, 12, 10, 9, 0, tzinfo=UTC),
        )
    ]


async def test_update_session_texts_are_trimmed_as_the_file_reader_trims_them(
    db: AsyncSession, event_id: int
) -> None:
    await update_session(
        db,
        event_id=event_id,
        slug=WORKSHOP_1,
        changes={
            "title": "  New title ",
            "description": "\n Text \n",
            "guiding_questions": (" First? ", "", "  ", "Second?"),
        },
        now=NOW,
    )
    await db.commit()

    session = session_of(await spec_from_db(db, event_id), WORKSHOP_1)
    assert (session.title, session.description, session.guiding_questions) == (
        "New title",
        "Text",
        ("First?", "Second?"),
    )


async def test_update_session_stale_version_is_a_conflict(db: AsyncSession, event_id: int) -> None:
    version = session_version(await spec_from_db(db, event_id), WORKSHOP_1)
    await update_session(
        db,
        event_id=event_id,
        slug=WORKSHOP_1,
        changes={"title": "First"},
        now=NOW,
        expected_version=version,
    )

    with pytest.raises(Conflict) as caught:
        await update_session(
            db,
            event_id=event_id,
            slug=WORKSHOP_1,
            changes={"title": "Second"},
            now=NOW,
            expected_version=version,
        )

    assert caught.value.code == "session.conflict"


async def test_update_session_moderator_changed_changes_who_moderates_the_room(
    db: AsyncSession, event_id: int
) -> None:
    room = await room_of(db, event_id, WORKSHOP_3)
    assert room is not None
    begum = await access.find_person(db, event_id=event_id, name="Begüm Özden Fırat")
    ayten = await access.find_person(db, event_id=event_id, name="Ayten Alkan")
    invitations = [
        await access.create_invitation(
            db, event_id=event_id, role="moderator", person_id=person.id, now=NOW
        )
        for person in (begum, ayten)
    ]
    await db.commit()

    async def moderates(invitation: access.Invitation) -> frozenset[int]:
        grants, _ = await access.grants_of(
            db, event_id=event_id, invitation_ids=[invitation.id], now=NOW
        )
        return grants.moderates

    assert room.id in await moderates(invitations[0])
    assert room.id not in await moderates(invitations[1])

    await set_moderator(db, event_id=event_id, slug=WORKSHOP_3, person=ayten.key, now=NOW)
    await db.commit()

    assert room.id not in await moderates(invitations[0])
    assert room.id in await moderates(invitations[1])


async def test_set_appearance_status_confirms_a_person(db: AsyncSession, event_id: int) -> None:
    await set_appearance_status(
        db, event_id=event_id, slug=WORKSHOP_1, position=0, status="confirmed", now=NOW
    )
    await db.commit()

    session = session_of(await spec_from_db(db, event_id), WORKSHOP_1)
    assert (session.appearances[0].person, session.appearances[0].status) == (
        "guldem-ozdogan",
        "confirmed",
    )


async def test_add_session_with_new_person_gets_a_room(db: AsyncSession, event_id: int) -> None:
    person = PersonSpec(key="ada-lovelace", name="Ada Lovelace")
    session = SessionSpec(
        slug="extra-session",
        title="Extra session",
        kind="panel",
        format="online",
        day=date(2021, 12, 8),
        starts_at=datetime(2021, 12, 8, 18, tzinfo=UTC),
        ends_at=datetime(2021, 12, 8, 19, tzinfo=UTC),
        appearances=(AppearanceSpec(person="ada-lovelace", role="moderator"),),
    )

    await add_session(db, event_id=event_id, session=session, new_people=[person], now=NOW)
    await db.commit()

    spec = await spec_from_db(db, event_id)
    assert (spec.sessions[-1], spec.people[-1]) == (session, person)
    assert await room_of(db, event_id, "extra-session") is not None


async def test_add_session_duplicate_slug_is_refused(db: AsyncSession, event_id: int) -> None:
    spec = await spec_from_db(db, event_id)

    with pytest.raises(ProgrammeError) as caught:
        await add_session(db, event_id=event_id, session=spec.sessions[0], now=NOW)

    assert caught.value.problems == [
        "programme: sessions[7] ('mayors-dialogue'): field 'slug': "
        "duplicate session slug 'mayors-dialogue'"
    ]


async def test_remove_session_takes_its_room_away(db: AsyncSession, event_id: int) -> None:
    room = await room_of(db, event_id, WORKSHOP_1)
    assert room is not None

    await remove_session(db, event_id=event_id, slug=WORKSHOP_1, now=NOW)
    await db.commit()

    slugs = [s.slug for s in (await spec_from_db(db, event_id)).sessions]
    assert WORKSHOP_1 not in slugs and len(slugs) == 6
    assert await room_of_id(db, room.id) is None


async def test_remove_session_with_live_room_is_refused(db: AsyncSession, event_id: int) -> None:
    room = await room_of(db, event_id, WORKSHOP_1)
    assert room is not None
    await set_room_state(db, room_id=room.id, action="go_live", now=NOW)
    await db.commit()

    with pytest.raises(InvalidState) as caught:
        await remove_session(db, event_id=event_id, slug=WORKSHOP_1, now=NOW)

    assert caught.value.code == "session.room_in_use"


async def test_add_person_without_key_gets_one_from_the_name(
    db: AsyncSession, event_id: int
) -> None:
    await add_person(
        db, event_id=event_id, person=PersonSpec(key="", name=" Ruşen Keleş "), now=NOW
    )
    await db.commit()

    assert (await spec_from_db(db, event_id)).people[-1] == PersonSpec(
        key="rusen-keles-2", name="Ruşen Keleş"
    )


def test_new_person_key_transliterates_and_avoids_taken_keys() -> None:
    assert [
        new_person_key("Begüm Özden Fırat", set()),
        new_person_key("Zoë Øster-Łukasz", set()),
        new_person_key("Tunç Soyer", {"tunc-soyer", "tunc-soyer-2"}),
        new_person_key("東京", set()),
    ] == ["begum-ozden-firat", "zoe-oster-lukasz", "tunc-soyer-3", "person"]


async def test_update_room_timing_out_of_range_names_the_field(
    db: AsyncSession, event_id: int
) -> None:
    room = await room_of(db, event_id, WORKSHOP_1)
    assert room is not None

    updated = await update_room_timing(
        db, room_id=room.id, opens_minutes_before=30, speaking_time_minutes=5
    )
    with pytest.raises(Exception) as caught:
        await update_room_timing(
            db, room_id=room.id, opens_minutes_before=None, speaking_time_minutes=0
        )

    assert (updated.opens_minutes_before, updated.speaking_time_minutes) == (30, 5)
    assert (caught.value.code, caught.value.details) == (  # type: ignore[attr-defined]
        "room.invalid_timing",
        {"field": "speaking_time_minutes"},
    )


async def test_resend_invitation_changes_the_link_and_renews_an_expired_one(
    db: AsyncSession, event_id: int
) -> None:
    invitation = await access.create_invitation(
        db, event_id=event_id, role="organizer", now=NOW, valid_for=timedelta(days=2)
    )
    old_nonce = invitation.nonce
    later = NOW + timedelta(days=3)
    assert access.invitation_state(invitation, later) == "expired"

    await resend_invitation(db, invitation_id=invitation.id, now=later)

    assert invitation.nonce != old_nonce
    assert (access.invitation_state(invitation, later), invitation.expires_at) == (
        "pending",
        later + timedelta(days=2),
    )


async def test_resend_invitation_revoked_is_refused(db: AsyncSession, event_id: int) -> None:
    invitation = await access.create_invitation(db, event_id=event_id, role="organizer", now=NOW)
    await access.revoke_invitation(db, invitation_id=invitation.id, now=NOW)

    with pytest.raises(InvalidState) as caught:
        await resend_invitation(db, invitation_id=invitation.id, now=NOW)

    assert caught.value.code == "invitation.revoked"
