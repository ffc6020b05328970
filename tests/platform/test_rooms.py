"""Room lifecycle: the programme clock drives it, moderators override it, one process wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from townhall.platform import programme, room_log, rooms
from townhall.platform.errors import InvalidState
from townhall.platform.models import Room, RoomEvent

WORKSHOP_1 = "workshop-1-building-resilience"
START = datetime(2021, 12, 8, 13, 0, tzinfo=UTC)  # 16:00 in Izmir
END = datetime(2021, 12, 8, 14, 30, tzinfo=UTC)


@pytest.fixture
async def room_id(db, summit_spec) -> int:
    await programme.import_programme(db, spec=summit_spec)
    await db.commit()
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    assert session.room is not None
    return session.room.id


async def _state(db, room_id: int) -> str:
    db.expire_all()
    return (await rooms.get_room(db, room_id=room_id)).state


async def _transitions(db, room_id: int) -> list[tuple[str, str, str]]:
    events = await room_log.list_events_after(db, room_id=room_id, after=0)
    return [
        (e.data["previous"], e.data["changes"]["state"], e.data["by"])
        for e in events
        if e.name == "room.state_changed"
    ]


async def test_rooms_follow_the_programme_clock(db, room_id: int) -> None:
    moments = [
        (START - timedelta(minutes=16), "scheduled"),
        (START - timedelta(minutes=15), "open"),
        (START, "live"),
        (END - timedelta(seconds=1), "live"),
        (END, "ended"),
        (END + timedelta(hours=24), "archived"),
    ]
    seen = []
    for now, _ in moments:
        await rooms.advance_rooms(db, now=now, default_minutes=15)
        await db.commit()
        seen.append(await _state(db, room_id))
    assert seen == [state for _, state in moments]
    assert await _transitions(db, room_id) == [
        ("scheduled", "open", "schedule"),
        ("open", "live", "schedule"),
        ("live", "ended", "schedule"),
        ("ended", "archived", "schedule"),
    ]


async def test_rooms_of_sessions_without_times_stay_scheduled(db, summit_spec) -> None:
    await programme.import_programme(db, spec=summit_spec)
    await db.commit()
    # The Dec 10 sessions are on-site with times to be announced: no room at all.
    count = await db.scalar(select(func.count()).select_from(Room))
    assert count == 5
    events = await rooms.advance_rooms(db, now=datetime(2030, 1, 1, tzinfo=UTC))
    await db.commit()
    assert {e.data["changes"]["state"] for e in events} == {"archived"}


async def test_moderator_override_holds_until_the_next_boundary(db, room_id: int) -> None:
    early = START - timedelta(minutes=5)
    await rooms.advance_rooms(db, now=early, default_minutes=15)
    await rooms.set_room_state(db, room_id=room_id, action="end", now=early)
    await db.commit()
    # The clock would make it live at START, but the override holds until then...
    await rooms.advance_rooms(db, now=START - timedelta(seconds=1), default_minutes=15)
    assert await _state(db, room_id) == "ended"
    # ...and afterwards the room is already further along than "live": forward only.
    await rooms.advance_rooms(db, now=START + timedelta(minutes=1), default_minutes=15)
    await db.commit()
    room = await rooms.get_room(db, room_id=room_id)
    assert (room.state, room.manual_until) == ("ended", None)


async def test_override_then_follow_schedule_hands_back_to_the_clock(db, room_id: int) -> None:
    now = START + timedelta(minutes=10)
    await rooms.set_room_state(
        db, room_id=room_id, action="go_live", now=now - timedelta(minutes=30)
    )
    await rooms.set_room_state(db, room_id=room_id, action="end", now=now)
    await rooms.set_room_state(db, room_id=room_id, action="reopen", now=now)
    events = await rooms.set_room_state(db, room_id=room_id, action="follow_schedule", now=now)
    await db.commit()
    assert [e.name for e in events] == ["room.updated", "room.state_changed"]
    assert await _state(db, room_id) == "live"


async def test_invalid_transition_is_refused_with_the_current_state(db, room_id: int) -> None:
    with pytest.raises(InvalidState) as caught:
        await rooms.set_room_state(db, room_id=room_id, action="end", now=START)
    assert (caught.value.code, caught.value.details) == (
        "room.invalid_transition",
        {"state": "scheduled"},
    )


async def test_two_processes_advancing_at_once_log_one_transition(
    sessionmaker, room_id: int
) -> None:
    now = START - timedelta(minutes=1)
    async with sessionmaker() as first, sessionmaker() as second:
        # Both read the room as "scheduled" before either writes.
        await rooms.list_live_rooms(first)
        await rooms.list_live_rooms(second)
        events_first = await rooms.advance_rooms(first, now=now, default_minutes=15)
        await first.commit()
        events_second = await rooms.advance_rooms(second, now=now, default_minutes=15)
        await second.commit()
    assert [len(events_first), len(events_second)] == [len(events_first), 0]
    async with sessionmaker() as db:
        rows = await db.scalar(
            select(func.count()).where(
                RoomEvent.room_id == room_id, RoomEvent.name == "room.state_changed"
            )
        )
    assert rows == 1


async def test_event_log_numbers_each_room_without_gaps(db, room_id: int) -> None:
    for action in ("open", "go_live", "end", "reopen"):
        await rooms.set_room_state(db, room_id=room_id, action=action, now=START)
    await db.commit()
    events = await room_log.list_events_after(db, room_id=room_id, after=0)
    room = await rooms.get_room(db, room_id=room_id)
    assert [e.seq for e in events] == list(range(1, room.seq + 1))
    assert [
        e.seq for e in await room_log.list_events_after(db, room_id=room_id, after=2, until=3)
    ] == [3]


async def test_room_settings_are_validated_and_logged(db, room_id: int) -> None:
    events = await rooms.update_room(
        db,
        room_id=room_id,
        changes={"stage_url": " https://meet.example/w1 ", "premoderation": False},
        now=START,
    )
    assert (
        events[0].name,
        events[0].data["changes"]["stage_url"],
        events[0].data["changes"]["premoderation"],
    ) == (
        "room.updated",
        "https://meet.example/w1",
        False,
    )
    with pytest.raises(Exception) as caught:
        await rooms.update_room(
            db, room_id=room_id, changes={"stream_url": "javascript:alert(1)"}, now=START
        )
    assert getattr(caught.value, "code", None) == "room.invalid_url"
