"""Live rooms: their lifecycle (scheduled → open → live → ended → archived) and settings.

The programme drives the lifecycle: a room opens its lobby a number of minutes before the
session, goes live at the start, ends at the end and is archived a day later. A moderator may
override it at any moment; the override holds until the next programme boundary, after which
the clock takes over again. Automatic transitions only move forward, and only one process
makes each: the state change is a conditional ``UPDATE`` on the state it saw.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from .audit import record
from .errors import Conflict, Invalid, InvalidState, NotFound
from .models import ProgrammeSession, Room
from .room_log import LoggedEvent, append_event

STATES = ("scheduled", "open", "live", "ended", "archived")
RANK = {state: rank for rank, state in enumerate(STATES)}
ARCHIVE_AFTER = timedelta(hours=24)
DEFAULT_OPENS_MINUTES_BEFORE = 15

# Moderator actions: the states each may start from, and where it leads.
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "open": (("scheduled",), "open"),
    "go_live": (("scheduled", "open", "ended"), "live"),
    "end": (("open", "live"), "ended"),
    "reopen": (("ended", "archived"), "open"),
    "archive": (("ended",), "archived"),
}
URL_SCHEMES = ("https://", "http://")
AUDITED_SETTINGS = ("stage_url", "stream_url", "premoderation")  # what room.update changes
MAX_URL = 1000


def opens_before(room: Room, default_minutes: int) -> timedelta:
    minutes = room.opens_minutes_before
    return timedelta(minutes=default_minutes if minutes is None else minutes)


def boundaries(session: ProgrammeSession, lead: timedelta) -> list[tuple[datetime, str]]:
    """Each instant at which the programme moves the room, and the state it moves it to."""
    if session.starts_at is None or session.ends_at is None:
        return []
    return [
        (session.starts_at - lead, "open"),
        (session.starts_at, "live"),
        (session.ends_at, "ended"),
        (session.ends_at + ARCHIVE_AFTER, "archived"),
    ]


def scheduled_state(session: ProgrammeSession, now: datetime, lead: timedelta) -> str:
    """The state the programme says the room is in at ``now`` (TBA sessions: scheduled)."""
    state = "scheduled"
    for at, target in boundaries(session, lead):
        if now >= at:
            state = target
    return state


def next_boundary(session: ProgrammeSession, now: datetime, lead: timedelta) -> datetime | None:
    return next((at for at, _ in boundaries(session, lead) if at > now), None)


def room_json(room: Room, session: ProgrammeSession, default_minutes: int) -> dict[str, Any]:
    lead = opens_before(room, default_minutes)
    return {
        "id": room.id,
        "state": room.state,
        "state_since": _iso(room.state_since),
        "follows_schedule": room.manual_until is None,
        "manual_until": _iso(room.manual_until),
        "opens_at": _iso(session.starts_at - lead) if session.starts_at else None,
        "session": {
            "slug": session.slug,
            "title": session.title,
            "kind": session.kind,
            "format": session.format,
            "starts_at": _iso(session.starts_at),
            "ends_at": _iso(session.ends_at),
        },
        "stage_url": room.stage_url,
        "stream_url": room.stream_url,
        "premoderation": room.premoderation,
        "speaking_time_minutes": room.speaking_time_minutes,
        "question_min_length": room.question_min_length,
        "question_max_length": room.question_max_length,
    }


def room_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The room object's top-level fields that differ: what a room event carries (a delta
    of a few dozen bytes, where the whole object is some 700)."""
    return {key: value for key, value in after.items() if before.get(key) != value}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


async def get_room(db: AsyncSession, *, room_id: int) -> Room:
    room = await db.scalar(
        select(Room).where(Room.id == room_id).options(selectinload(Room.session))
    )
    if room is None:
        raise NotFound(f"room {room_id} does not exist", code="room.not_found")
    return room


async def list_live_rooms(db: AsyncSession, *, room_id: int | None = None) -> list[Room]:
    """Rooms the clock may still move (not archived), with their sessions."""
    query = select(Room).where(Room.state != "archived").options(selectinload(Room.session))
    if room_id is not None:
        query = query.where(Room.id == room_id)
    return list((await db.scalars(query)).all())


async def _transition(
    db: AsyncSession,
    room: Room,
    *,
    target: str,
    now: datetime,
    manual_until: datetime | None,
    by: str,
    default_minutes: int,
) -> LoggedEvent | None:
    previous = room.state
    before = room_json(room, room.session, default_minutes)
    changed = await db.execute(
        update(Room)
        .where(Room.id == room.id, Room.state == previous)
        .values(state=target, state_since=now, manual_until=manual_until)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return None
    room.state, room.state_since, room.manual_until = target, now, manual_until
    return await append_event(
        db,
        room_id=room.id,
        name="room.state_changed",
        data={
            "changes": room_changes(before, room_json(room, room.session, default_minutes)),
            "previous": previous,
            "by": by,
        },
        at=now,
    )


async def _hand_back_to_schedule(
    db: AsyncSession, room: Room, now: datetime, default_minutes: int
) -> list[LoggedEvent]:
    """An override that has run its course: the clock drives the room again.

    A conditional update, so exactly one process logs it."""
    seen = room.manual_until
    before = room_json(room, room.session, default_minutes)
    changed = await db.execute(
        update(Room)
        .where(Room.id == room.id, Room.manual_until == seen)
        .values(manual_until=None)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return []
    room.manual_until = None
    after = room_json(room, room.session, default_minutes)
    return [
        await append_event(
            db,
            room_id=room.id,
            name="room.updated",
            data={"changes": room_changes(before, after)},
            at=now,
        )
    ]


async def advance_rooms(
    db: AsyncSession,
    *,
    now: datetime,
    default_minutes: int = DEFAULT_OPENS_MINUTES_BEFORE,
    room_id: int | None = None,
) -> list[LoggedEvent]:
    """Move every room (or one) the programme says should have moved on (forward only)."""
    events = []
    for room in await list_live_rooms(db, room_id=room_id):
        if room.manual_until is not None and room.manual_until > now:
            continue
        target = scheduled_state(room.session, now, opens_before(room, default_minutes))
        if RANK[target] <= RANK[room.state]:
            if room.manual_until is not None:
                events.extend(await _hand_back_to_schedule(db, room, now, default_minutes))
            continue
        event = await _transition(
            db,
            room,
            target=target,
            now=now,
            manual_until=None,
            by="schedule",
            default_minutes=default_minutes,
        )
        if event is not None:
            events.append(event)
    return events


async def set_room_state(
    db: AsyncSession,
    *,
    room_id: int,
    action: str,
    now: datetime,
    default_minutes: int = DEFAULT_OPENS_MINUTES_BEFORE,
    actor: str | None = None,
) -> list[LoggedEvent]:
    """A moderator's override; ``follow_schedule`` hands the room back to the clock. With
    ``actor``, a change is written to the audit log in their name."""
    events = await _set_room_state(
        db, room_id=room_id, action=action, now=now, default_minutes=default_minutes
    )
    if events and actor is not None:
        room = await get_room(db, room_id=room_id)
        await _audit(db, room, actor, "room.state_changed", now, {"action": action})
    return events


async def _audit(
    db: AsyncSession, room: Room, actor: str, action: str, now: datetime, data: dict[str, Any]
) -> None:
    await record(
        db,
        event_id=room.session.event_id,
        actor=actor,
        action=action,
        room_id=room.id,
        target=room.session.title,
        now=now,
        data=data,
    )


async def _set_room_state(
    db: AsyncSession, *, room_id: int, action: str, now: datetime, default_minutes: int
) -> list[LoggedEvent]:
    room = await get_room(db, room_id=room_id)
    lead = opens_before(room, default_minutes)
    if action == "follow_schedule":
        if room.manual_until is None:
            return []
        before = room_json(room, room.session, default_minutes)
        room.manual_until = None
        await db.flush()
        event = await append_event(
            db,
            room_id=room.id,
            name="room.updated",
            data={"changes": room_changes(before, room_json(room, room.session, default_minutes))},
            at=now,
        )
        later = await advance_rooms(db, now=now, default_minutes=default_minutes, room_id=room.id)
        return [event, *later]
    if action not in ACTIONS:
        raise Invalid(
            f"unknown action {action!r} (known: {', '.join([*ACTIONS, 'follow_schedule'])})",
            code="room.unknown_action",
        )
    sources, target = ACTIONS[action]
    if room.state not in sources:
        raise InvalidState(
            f"cannot {action.replace('_', ' ')} a room that is {room.state}",
            code="room.invalid_transition",
            state=room.state,
        )
    # Hold the override until the programme's next boundary; TBA rooms are always manual.
    hold = next_boundary(room.session, now, lead) or (now + timedelta(days=3650))
    event = await _transition(
        db,
        room,
        target=target,
        now=now,
        manual_until=hold,
        by="moderator",
        default_minutes=default_minutes,
    )
    if event is None:
        raise Conflict("someone else changed the room's state first", code="room.conflict")
    return [event]


async def update_room(
    db: AsyncSession,
    *,
    room_id: int,
    changes: dict[str, Any],
    now: datetime,
    default_minutes: int = DEFAULT_OPENS_MINUTES_BEFORE,
    before: dict[str, Any] | None = None,
    actor: str | None = None,
) -> list[LoggedEvent]:
    """Change a room's settings (stage and stream URLs, pre-moderation). ``before``: the room
    object as clients last heard of it, when other settings changed earlier in the same
    transaction (the event carries every field that differs from it). With ``actor``, the
    change is written to the audit log in their name (as the console writes its own)."""
    room = await get_room(db, room_id=room_id)
    if before is None:
        before = room_json(room, room.session, default_minutes)
    was = {name: getattr(room, name) for name in AUDITED_SETTINGS}
    for name in ("stage_url", "stream_url"):
        if name in changes:
            value = (changes[name] or "").strip() or None
            if value is not None and (not value.startswith(URL_SCHEMES) or len(value) > MAX_URL):
                raise Invalid(
                    f"{name} must be an http(s) URL of at most {MAX_URL} characters",
                    code="room.invalid_url",
                    field=name,
                )
            setattr(room, name, value)
    if "premoderation" in changes and changes["premoderation"] is not None:
        room.premoderation = bool(changes["premoderation"])
    await db.flush()
    changed = {
        name: [was[name], getattr(room, name)]
        for name in AUDITED_SETTINGS
        if was[name] != getattr(room, name)
    }
    if changed and actor is not None:
        await _audit(db, room, actor, "room.settings_changed", now, {"changed": changed})
    return [
        await append_event(
            db,
            room_id=room.id,
            name="room.updated",
            data={"changes": room_changes(before, room_json(room, room.session, default_minutes))},
            at=now,
        )
    ]


async def room_snapshot(
    db: AsyncSession, *, room_id: int, default_minutes: int = DEFAULT_OPENS_MINUTES_BEFORE
) -> dict[str, Any]:
    """The room's public state with the ``epoch`` and ``seq`` it is consistent with."""
    room = await get_room(db, room_id=room_id)
    return {
        "epoch": room.epoch,
        "seq": room.seq,
        "room": room_json(room, room.session, default_minutes),
    }
