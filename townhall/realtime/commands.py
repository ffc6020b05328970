"""What each client command does. One database session per command; commit, then publish.

Handlers return the reply's ``data`` or raise a :class:`DomainError`, which the endpoint
turns into a typed error; either way the connection carries on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from townhall.platform import rooms
from townhall.platform.errors import Forbidden, NotFound
from townhall.platform.models import ProgrammeSession, Room
from townhall.platform.viewers import Viewer

from .connection import Connection
from .hub import Hub
from .identity import resolve_viewer
from .messages import CLOSE_BANNED, Command, Ping, RoomJoin, RoomLeave, RoomSetState, RoomUpdate
from .qa import QA_HANDLERS

Handler = Callable[[Hub, Connection, Any], Awaitable[Any]]
NO_REPLY = object()  # the handler sent its own answer


def joined_viewer(connection: Connection, room_id: int) -> Viewer:
    viewer = connection.viewers.get(room_id)
    if viewer is None:
        raise Forbidden("join the room first", code="room.not_joined")
    return viewer


def require_staff(connection: Connection, room_id: int) -> Viewer:
    viewer = joined_viewer(connection, room_id)
    if not viewer.is_staff(room_id):
        raise Forbidden("only the room's moderators may do that", code="room.forbidden")
    return viewer


async def room_join(hub: Hub, connection: Connection, command: RoomJoin) -> Any:
    async with hub.sessionmaker() as db:
        room = await db.get(Room, command.room)
        if room is None:
            raise NotFound(f"room {command.room} does not exist", code="room.not_found")
        session = await db.get(ProgrammeSession, room.session_id)
        assert session is not None
        viewer = await resolve_viewer(
            db, connection.identity, event_id=session.event_id, now=hub.clock.now()
        )
    if viewer is None:
        raise Forbidden(
            "join the event first: POST /api/events/{slug}/participants",
            code="auth.required",
            event=session.event_id,
        )
    if viewer.banned:
        connection.send(
            {
                "type": "error",
                "ref": command.ref,
                "code": "participant.banned",
                "message": "you have been removed from this event",
            }
        )
        connection.close(CLOSE_BANNED, "banned")
        return NO_REPLY
    listed = command.presence or not viewer.is_staff(command.room)
    await hub.join(connection, command.room, viewer, command.since, listed=listed)
    return {"room": command.room, "tier": viewer.tier(command.room)}


async def room_leave(hub: Hub, connection: Connection, command: RoomLeave) -> Any:
    joined_viewer(connection, command.room)
    await hub.leave(connection, command.room)
    return {"room": command.room}


async def ping(hub: Hub, connection: Connection, command: Ping) -> Any:
    connection.send({"type": "pong", "ref": command.ref})
    return NO_REPLY


async def room_set_state(hub: Hub, connection: Connection, command: RoomSetState) -> Any:
    require_staff(connection, command.room)
    async with hub.sessionmaker() as db:
        events = await rooms.set_room_state(
            db,
            room_id=command.room,
            action=command.action,
            now=hub.clock.now(),
            default_minutes=hub.settings.room_opens_minutes_before,
        )
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
}


async def dispatch(hub: Hub, connection: Connection, command: Command) -> Any:
    return await HANDLERS[type(command)](hub, connection, command)
