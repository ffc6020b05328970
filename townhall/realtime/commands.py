"""What each client command does. One database session per command; commit, then publish.

Handlers return the reply's ``data`` or raise a :class:`DomainError`, which the endpoint
turns into a typed error; either way the connection carries on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from townhall.platform import floor, rooms
from townhall.platform.errors import Forbidden, RateLimited
from townhall.platform.viewers import Viewer

from .connection import Connection
from .floor_commands import FLOOR_HANDLERS
from .guards import joined_viewer, require_staff
from .hub import Hub
from .messages import (
    CLOSE_BANNED,
    Command,
    Ping,
    Pong,
    RoomJoin,
    RoomLeave,
    RoomSetState,
    RoomUpdate,
    error,
)
from .qa import BANNED_MESSAGE, QA_HANDLERS

Handler = Callable[[Hub, Connection, Any], Awaitable[Any]]
NO_REPLY = object()  # the handler sent its own answer


async def room_join(hub: Hub, connection: Connection, command: RoomJoin) -> Any:
    event_id = await hub.viewers.event_of(command.room)
    viewer = await hub.viewers.viewer(connection.identity, event_id=event_id, now=hub.clock.now())
    # A visitor has no identity in the event; a cookie naming a participant the server no
    # longer knows is told to join afresh instead.
    visitor = viewer is None and event_id not in connection.identity.participants
    if viewer is None:
        if not visitor or not await hub.viewers.open_to_visitors(event_id):
            raise Forbidden(
                "join the event first: POST /api/events/{slug}/participants",
                code="auth.required",
                event=event_id,
            )
        # A visitor follows the public Q&A before giving a name; asking or voting needs one.
        viewer = Viewer(event_id=event_id)
    if viewer.banned:
        connection.send(error(command.ref, "participant.banned", BANNED_MESSAGE))
        connection.close(CLOSE_BANNED, "banned")
        return NO_REPLY
    if connection.pending() * 2 > connection.budget:
        raise RateLimited(
            "the previous room state is still on its way; try again shortly",
            retry_after=1.0,
            code="room.busy",
        )
    # Nobody counts a visitor as present: it has not joined the event.
    listed = not visitor and (command.presence or not viewer.is_staff(command.room))
    await hub.join(connection, command.room, viewer, command.since, listed=listed)
    return {"room": command.room, "tier": viewer.tier(command.room)}


async def room_leave(hub: Hub, connection: Connection, command: RoomLeave) -> Any:
    joined_viewer(connection, command.room)
    await hub.leave(connection, command.room)
    return {"room": command.room}


async def ping(hub: Hub, connection: Connection, command: Ping) -> Any:
    connection.send(Pong(ref=command.ref))
    return NO_REPLY


async def room_set_state(hub: Hub, connection: Connection, command: RoomSetState) -> Any:
    require_staff(connection, command.room)
    now = hub.clock.now()
    async with hub.sessionmaker() as db:
        events = await rooms.set_room_state(
            db,
            room_id=command.room,
            action=command.action,
            now=now,
            default_minutes=hub.settings.room_opens_minutes_before,
        )
        events += await floor.close_floors_of_ended_rooms(db, events=events, now=now)
        await db.commit()
    await hub.publish(events)
    return {"seq": events[-1].seq if events else None}


async def room_update(hub: Hub, connection: Connection, command: RoomUpdate) -> Any:
    require_staff(connection, command.room)
    changes = {
        name: getattr(command, name)
        for name in ("stage_url", "stream_url", "premoderation")
        if getattr(command, name) is not None
    }
    async with hub.sessionmaker() as db:
        events = await rooms.update_room(
            db,
            room_id=command.room,
            changes=changes,
            now=hub.clock.now(),
            default_minutes=hub.settings.room_opens_minutes_before,
        )
        await db.commit()
    await hub.publish(events)
    return {"seq": events[-1].seq}


HANDLERS: dict[type, Handler] = {
    RoomJoin: room_join,
    RoomLeave: room_leave,
    Ping: ping,
    RoomSetState: room_set_state,
    RoomUpdate: room_update,
    **QA_HANDLERS,
    **FLOOR_HANDLERS,
}


async def dispatch(hub: Hub, connection: Connection, command: Command) -> Any:
    return await HANDLERS[type(command)](hub, connection, command)
