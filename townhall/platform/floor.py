"""The floor: a room's list of speakers, the turn under way, and airtime per person and city.

A panelist requests the floor as a ``contribution`` (to the end of the queue), a ``reply`` to
whoever is speaking (ahead of contributions, after earlier replies) or a ``point_of_order``
(ahead of everything, after earlier points of order), and may withdraw. Moderators reorder the
queue, grant the floor (to the next request or a given one; a running turn ends first), end a
turn, change its time limit, remove a request and add a panelist themselves. The order is kept
on the server: every event carries the whole public floor (``floor_json``), so every screen
shows the same queue.

Who may see what: the queue and the turn under way are public (the audience and the big screen
show who speaks, from which city, and who is next); who asked, by participant, is not.
Airtime per person and per city is for the moderators (``staff``).

Time: a turn carries ``granted_at`` and ``limit_seconds``, and ``ends_at`` (their sum); clients
count down against the server's clock, so a reconnect or another process shows the same time.

Concurrency: every change first bumps ``rooms.floor_version`` with one ``UPDATE``. Moderators
pass the version they saw (``version``); if the floor changed since, they get a
:class:`Conflict` carrying the floor as it now is. The ``UPDATE`` holds the room row until
commit (PostgreSQL), so two changes of one floor never interleave.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .access import record
from .errors import Conflict, Forbidden, Invalid, InvalidState, NotFound
from .floor_state import KINDS as KINDS
from .floor_state import airtime as airtime
from .floor_state import floor_json as floor_json
from .floor_state import floor_snapshot as floor_snapshot
from .floor_state import (
    get_room,
    open_requests,
    person_keys,
    request_json,
    same_speaker,
    split_requests,
    turn_seconds,
)
from .floor_state import list_speaker_log as list_speaker_log
from .floor_state import own_floor_snapshot as own_floor_snapshot
from .floor_state import shared_floor_snapshot as shared_floor_snapshot
from .models import Appearance, FloorRequest, Person, ProgrammeSession, Room
from .room_log import LoggedEvent, append_event
from .seats import credit_name
from .viewers import Viewer

# Where a new request of each kind goes: after the leading run of requests of these kinds.
AHEAD_OF = {
    "point_of_order": ("point_of_order",),
    "reply": ("point_of_order", "reply"),
    "contribution": KINDS,
}
OPEN_STATES = ("open", "live")
MIN_TURN_SECONDS = 10
MAX_TURN_SECONDS = 4 * 60 * 60


async def _lock(db: AsyncSession, room_id: int, version: int | None) -> Room:
    """Take the floor for this change: bump its version, if it is still ``version``."""
    query = update(Room).where(Room.id == room_id)
    if version is not None:
        query = query.where(Room.floor_version == version)
    changed = await db.execute(
        query.values(floor_version=Room.floor_version + 1).execution_options(
            synchronize_session=False
        )
    )
    room = await get_room(db, room_id)
    await db.refresh(room, ["floor_version", "state", "speaking_time_minutes"])
    if changed.rowcount != 1:
        raise Conflict(
            "another moderator changed the floor first",
            code="floor.conflict",
            floor=await floor_json(db, room),
        )
    return room


async def _floor_as_committed(db: AsyncSession, room: Room) -> dict[str, Any]:
    """The floor for a refusal after :func:`_lock` took it: the change rolls back, so clients
    get the version before the bump (the one their next command must carry), not one that
    never commits."""
    floor = await floor_json(db, room)
    return {**floor, "version": floor["version"] - 1}


class _Log:
    def __init__(self, db: AsyncSession, room: Room, now: datetime) -> None:
        self.db, self.room, self.now = db, room, now
        self.events: list[LoggedEvent] = []

    async def public(self, name: str, **data: Any) -> None:
        """A floor event: the whole public floor as it now is, and the details of the change."""
        await self.db.flush()
        body = {"floor": await floor_json(self.db, self.room), **data}
        self.events.append(
            await append_event(self.db, room_id=self.room.id, name=name, data=body, at=self.now)
        )

    async def airtime(self) -> None:
        self.events.append(
            await append_event(
                self.db,
                room_id=self.room.id,
                name="floor.airtime_changed",
                data={"airtime": await airtime(self.db, room_id=self.room.id)},
                visibility="staff",
                at=self.now,
            )
        )


def _renumber(queue: list[FloorRequest]) -> None:
    for index, request in enumerate(queue):
        request.position = index


def _insert(queue: list[FloorRequest], request: FloorRequest) -> None:
    ahead = AHEAD_OF[request.kind]
    index = 0
    while index < len(queue) and queue[index].kind in ahead:
        index += 1
    queue.insert(index, request)
    _renumber(queue)


def _staff(viewer: Viewer, room_id: int) -> None:
    if not viewer.is_staff(room_id):
        raise Forbidden("only the room's moderators may do that", code="room.forbidden")


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid(
            f"the floor is requested as one of {', '.join(KINDS)}",
            code="floor.invalid_kind",
            kinds=list(KINDS),
        )
    return kind


def limit_seconds(room: Room, seconds: int | None) -> int | None:
    """A turn's limit: ``seconds`` if given (checked), else the room's speaking time."""
    if seconds is None:
        minutes = room.speaking_time_minutes
        return minutes * 60 if minutes else None
    if isinstance(seconds, bool) or not MIN_TURN_SECONDS <= seconds <= MAX_TURN_SECONDS:
        raise Invalid(
            f"a turn lasts {MIN_TURN_SECONDS} to {MAX_TURN_SECONDS} seconds",
            code="floor.invalid_limit",
            minimum=MIN_TURN_SECONDS,
            maximum=MAX_TURN_SECONDS,
        )
    return seconds


async def _audit(
    db: AsyncSession, room: Room, moderator: Viewer, action: str, now: datetime, **data: Any
) -> None:
    session = await db.get(ProgrammeSession, room.session_id)
    assert session is not None
    await record(
        db,
        event_id=session.event_id,
        actor=moderator.display_name or "moderator",
        action=action,
        room_id=room.id,
        target="floor",
        now=now,
        data=data,
    )


async def _panelist(db: AsyncSession, room: Room, key: str) -> Person:
    """A person listed in the room's session other than as its moderator."""
    person = await db.scalar(
        select(Person)
        .join(Appearance, Appearance.person_id == Person.id)
        .where(
            Appearance.session_id == room.session_id,
            Appearance.role != "moderator",
            Person.key == key,
        )
        .limit(1)
    )
    if person is None:
        raise Invalid(f"{key!r} is not on this session's panel", code="floor.unknown_panelist")
    return person


async def _enqueue(
    db: AsyncSession,
    room: Room,
    log: _Log,
    *,
    kind: str,
    person: Person | None,
    participant_id: str | None,
    name: str,
    added_by: str | None,
) -> FloorRequest:
    if room.state not in OPEN_STATES:
        raise InvalidState(
            f"the floor opens with the room; it is {room.state}", code="floor.room_closed"
        )
    queue, speaking = split_requests(await open_requests(db, room.id))
    person_id = person.id if person else None
    if any(same_speaker(r, person_id, participant_id) for r in queue):
        raise Conflict(
            f"{name} already asked for the floor",
            code="floor.duplicate",
            floor=await _floor_as_committed(db, room),
        )
    reply_to = None
    if kind == "reply":
        if speaking is None:
            raise InvalidState("nobody is speaking to reply to", code="floor.nobody_speaking")
        if same_speaker(speaking, person_id, participant_id):
            raise Invalid("you cannot reply to yourself", code="floor.reply_to_self")
        reply_to = speaking.id
    request = FloorRequest(
        room_id=room.id,
        person_id=person_id,
        participant_id=participant_id,
        name=name,
        city=person.city if person else None,
        kind=kind,
        reply_to=reply_to,
        status="queued",
        added_by=added_by,
        requested_at=log.now,
    )
    db.add(request)
    _insert(queue, request)
    await db.flush()
    return request


async def request_floor(
    db: AsyncSession, *, room_id: int, viewer: Viewer, kind: str, now: datetime
) -> tuple[FloorRequest, list[LoggedEvent]]:
    """A panelist of the room asks for the floor; returns the request and the events."""
    _kind(kind)
    if viewer.tier(room_id) != "panel":
        code = "floor.moderators_add" if viewer.is_staff(room_id) else "floor.panel_only"
        raise Forbidden("only the session's panelists request the floor", code=code)
    room = await _lock(db, room_id, None)
    person = await db.get(Person, viewer.person_id) if viewer.person_id else None
    name = (credit_name(person) if person else None) or viewer.display_name or "Panelist"
    log = _Log(db, room, now)
    request = await _enqueue(
        db,
        room,
        log,
        kind=kind,
        person=person,
        participant_id=viewer.participant_id,
        name=name,
        added_by=None,
    )
    await log.public("floor.requested", request=request_json(request, await person_keys(db, room)))
    return request, log.events


async def add_to_floor(
    db: AsyncSession,
    *,
    room_id: int,
    moderator: Viewer,
    person: str,
    kind: str,
    now: datetime,
    version: int | None = None,
) -> tuple[FloorRequest, list[LoggedEvent]]:
    """A moderator puts a panelist (a person or slot key of the session) on the list."""
    _staff(moderator, room_id)
    _kind(kind)
    room = await _lock(db, room_id, version)
    panelist = await _panelist(db, room, person)
    log = _Log(db, room, now)
    request = await _enqueue(
        db,
        room,
        log,
        kind=kind,
        person=panelist,
        participant_id=None,
        name=credit_name(panelist),
        added_by=moderator.display_name or "moderator",
    )
    await log.public("floor.requested", request=request_json(request, await person_keys(db, room)))
    await _audit(db, room, moderator, "floor.added", now, person=person, kind=kind)
    return request, log.events


async def _queued(db: AsyncSession, room: Room, request_id: int) -> FloorRequest:
    request = await db.get(FloorRequest, request_id, populate_existing=True)
    if request is None or request.room_id != room.id:
        raise NotFound(f"request {request_id} is not in this room", code="floor.not_found")
    if request.status != "queued":
        raise InvalidState(
            f"that request is {request.status}, no longer in the queue",
            code=f"floor.{request.status}",
            floor=await _floor_as_committed(db, room),
        )
    return request


async def _take_out(db: AsyncSession, room: Room, request: FloorRequest, status: str) -> None:
    request.status, request.position = status, None
    queue, _ = split_requests(await open_requests(db, room.id))
    _renumber([r for r in queue if r.id != request.id])


async def withdraw_floor(
    db: AsyncSession, *, room_id: int, viewer: Viewer, request_id: int, now: datetime
) -> list[LoggedEvent]:
    """A panelist takes back their own request."""
    if viewer.tier(room_id) == "audience":
        raise Forbidden("only the session's panelists use the floor", code="floor.panel_only")
    room = await _lock(db, room_id, None)
    request = await _queued(db, room, request_id)
    mine = viewer.participant_id is not None and request.participant_id == viewer.participant_id
    if not (mine or (viewer.person_id and request.person_id == viewer.person_id)):
        raise Forbidden("you can only withdraw your own request", code="floor.not_yours")
    log = _Log(db, room, now)
    await _take_out(db, room, request, "withdrawn")
    await log.public("floor.withdrawn", request=request.id)
    return log.events


async def remove_from_floor(
    db: AsyncSession,
    *,
    room_id: int,
    moderator: Viewer,
    request_id: int,
    now: datetime,
    version: int | None = None,
) -> list[LoggedEvent]:
    _staff(moderator, room_id)
    room = await _lock(db, room_id, version)
    request = await _queued(db, room, request_id)
    log = _Log(db, room, now)
    await _take_out(db, room, request, "removed")
    await log.public("floor.removed", request=request.id)
    await _audit(db, room, moderator, "floor.removed", now, request=request.id, name=request.name)
    return log.events


async def reorder_floor(
    db: AsyncSession,
    *,
    room_id: int,
    moderator: Viewer,
    order: list[int],
    now: datetime,
    version: int | None = None,
) -> list[LoggedEvent]:
    """Put the queue in ``order`` (every queued request id, once each)."""
    _staff(moderator, room_id)
    room = await _lock(db, room_id, version)
    queue, _ = split_requests(await open_requests(db, room.id))
    by_id = {r.id: r for r in queue}
    if sorted(order) != sorted(by_id) or len(set(order)) != len(order):
        raise Invalid(
            "give every request of the queue once, in the new order",
            code="floor.bad_order",
            floor=await _floor_as_committed(db, room),
        )
    _renumber([by_id[i] for i in order])
    log = _Log(db, room, now)
    await log.public("floor.reordered")
    await _audit(db, room, moderator, "floor.reordered", now, order=order)
    return log.events


async def _end(db: AsyncSession, log: _Log, speaking: FloorRequest) -> None:
    speaking.status, speaking.ended_at = "spoke", log.now
    assert speaking.granted_at is not None
    seconds = turn_seconds(speaking.granted_at, log.now)
    await log.public("floor.turn_ended", turn={"request": speaking.id, "seconds": seconds})
    await log.airtime()


async def grant_floor(
    db: AsyncSession,
    *,
    room_id: int,
    moderator: Viewer,
    now: datetime,
    request_id: int | None = None,
    limit: int | None = None,
    version: int | None = None,
) -> list[LoggedEvent]:
    """Give the floor to ``request_id`` (default: the head of the queue) for ``limit``
    seconds (default: the room's speaking time); a turn under way ends first."""
    _staff(moderator, room_id)
    room = await _lock(db, room_id, version)
    seconds = limit_seconds(room, limit)
    queue, speaking = split_requests(await open_requests(db, room.id))
    if request_id is None:
        if not queue:
            raise InvalidState("nobody is waiting for the floor", code="floor.queue_empty")
        request = queue[0]
    else:
        request = await _queued(db, room, request_id)
    log = _Log(db, room, now)
    if speaking is not None:
        await _end(db, log, speaking)
    request.status, request.position = "speaking", None
    request.granted_at, request.limit_seconds = now, seconds
    _renumber([r for r in queue if r.id != request.id])
    await log.public("floor.granted", request=request.id)
    await _audit(db, room, moderator, "floor.granted", now, request=request.id, name=request.name)
    return log.events


async def end_turn(
    db: AsyncSession,
    *,
    room_id: int,
    viewer: Viewer,
    now: datetime,
    version: int | None = None,
) -> list[LoggedEvent]:
    """End the turn under way: a moderator, or the speaker yielding the floor."""
    if viewer.tier(room_id) == "audience":
        raise Forbidden("only the room's moderators may do that", code="room.forbidden")
    room = await _lock(db, room_id, version)
    _, speaking = split_requests(await open_requests(db, room.id))
    if speaking is None:
        raise InvalidState("nobody has the floor", code="floor.nobody_speaking")
    if not viewer.is_staff(room_id) and not same_speaker(
        speaking, viewer.person_id, viewer.participant_id
    ):
        raise Forbidden("only the moderators or the speaker end a turn", code="room.forbidden")
    log = _Log(db, room, now)
    await _end(db, log, speaking)
    if viewer.is_staff(room_id):
        await _audit(db, room, viewer, "floor.turn_ended", now, request=speaking.id)
    return log.events


async def set_turn_limit(
    db: AsyncSession,
    *,
    room_id: int,
    moderator: Viewer,
    seconds: int | None,
    now: datetime,
    version: int | None = None,
) -> list[LoggedEvent]:
    """Change the time limit of the turn under way (counted from when it was granted);
    ``None`` gives it the room's speaking time again."""
    _staff(moderator, room_id)
    room = await _lock(db, room_id, version)
    checked = limit_seconds(room, seconds)
    _, speaking = split_requests(await open_requests(db, room.id))
    if speaking is None:
        raise InvalidState("nobody has the floor", code="floor.nobody_speaking")
    speaking.limit_seconds = checked
    log = _Log(db, room, now)
    await log.public("floor.limit_changed", request=speaking.id)
    await _audit(db, room, moderator, "floor.limit_changed", now, seconds=checked)
    return log.events


async def close_floor(db: AsyncSession, *, room_id: int, now: datetime) -> list[LoggedEvent]:
    """When the room ends: the turn under way ends and the queue is cleared (``closed``).
    Nothing to do (no events) if the floor is already empty."""
    requests = await open_requests(db, room_id)
    if not requests:
        return []
    room = await _lock(db, room_id, None)
    queue, speaking = split_requests(await open_requests(db, room_id))
    log = _Log(db, room, now)
    if speaking is not None:
        await _end(db, log, speaking)
    if queue:
        for request in queue:
            request.status, request.position = "closed", None
        await log.public("floor.closed", requests=[r.id for r in queue])
    return log.events


async def close_floors_of_ended_rooms(
    db: AsyncSession, *, events: list[LoggedEvent], now: datetime
) -> list[LoggedEvent]:
    """The floor closes with its room: for each room that ``events`` (the room changes of one
    transaction) ended or archived, :func:`close_floor`. Call it wherever rooms change state
    (the programme clock, a moderator's override), in the same transaction."""
    closed: list[LoggedEvent] = []
    for event in events:
        if event.name == "room.state_changed" and event.data["changes"].get("state") in (
            "ended",
            "archived",
        ):
            closed += await close_floor(db, room_id=event.room_id, now=now)
    return closed
