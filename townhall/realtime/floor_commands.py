"""The floor and backstage over the wire: their commands, and their parts of room snapshots.

Panelists act as themselves (their joined viewer carries ``person_id`` and ``panelist_in``);
moderators act on the floor with the ``version`` they saw, and the domain refuses a stale one
with ``floor.conflict`` carrying the fresh floor. One database session per command; commit,
then publish. What the floor and backstage decide (who may, in which state, in what order) is
the domain's: :mod:`townhall.platform.floor` and :mod:`townhall.platform.backstage`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform import backstage, floor
from townhall.platform.room_log import LoggedEvent

from .connection import Connection
from .guards import joined_viewer, require_staff
from .hub import Hub
from .messages import (
    BackstageSend,
    FloorAdd,
    FloorEndTurn,
    FloorGrant,
    FloorRemove,
    FloorReorder,
    FloorRequestCommand,
    FloorSetLimit,
    FloorWithdraw,
)
from .snapshots import Snapshots

Verb = Callable[..., Awaitable[Any]]


async def _run(hub: Hub, verb: Verb, **args: Any) -> Any:
    """One session: the verb at the hub's clock, commit, then publish what it logged."""
    async with hub.sessionmaker() as db:
        result = await verb(db, now=hub.clock.now(), **args)
        await db.commit()
    events: list[LoggedEvent] = result[1] if isinstance(result, tuple) else result
    await hub.publish(events)
    return result


def _seq(events: list[LoggedEvent]) -> int | None:
    return events[-1].seq if events else None


async def request(hub: Hub, c: Connection, cmd: FloorRequestCommand) -> Any:
    viewer = joined_viewer(c, cmd.room)
    made, events = await _run(
        hub, floor.request_floor, room_id=cmd.room, viewer=viewer, kind=cmd.kind
    )
    return {"request": made.id, "seq": _seq(events)}


async def withdraw(hub: Hub, c: Connection, cmd: FloorWithdraw) -> Any:
    viewer = joined_viewer(c, cmd.room)
    events = await _run(
        hub, floor.withdraw_floor, room_id=cmd.room, viewer=viewer, request_id=cmd.request
    )
    return {"seq": _seq(events)}


async def add(hub: Hub, c: Connection, cmd: FloorAdd) -> Any:
    moderator = require_staff(c, cmd.room)
    made, events = await _run(
        hub,
        floor.add_to_floor,
        room_id=cmd.room,
        moderator=moderator,
        person=cmd.person,
        kind=cmd.kind,
        version=cmd.version,
    )
    return {"request": made.id, "seq": _seq(events)}


async def remove(hub: Hub, c: Connection, cmd: FloorRemove) -> Any:
    moderator = require_staff(c, cmd.room)
    events = await _run(
        hub,
        floor.remove_from_floor,
        room_id=cmd.room,
        moderator=moderator,
        request_id=cmd.request,
        version=cmd.version,
    )
    return {"seq": _seq(events)}


async def reorder(hub: Hub, c: Connection, cmd: FloorReorder) -> Any:
    moderator = require_staff(c, cmd.room)
    events = await _run(
        hub,
        floor.reorder_floor,
        room_id=cmd.room,
        moderator=moderator,
        order=list(cmd.order),
        version=cmd.version,
    )
    return {"seq": _seq(events)}


async def grant(hub: Hub, c: Connection, cmd: FloorGrant) -> Any:
    moderator = require_staff(c, cmd.room)
    events = await _run(
        hub,
        floor.grant_floor,
        room_id=cmd.room,
        moderator=moderator,
        request_id=cmd.request,
        limit=cmd.limit,
        version=cmd.version,
    )
    return {"seq": _seq(events)}


async def end_turn(hub: Hub, c: Connection, cmd: FloorEndTurn) -> Any:
    # A moderator, or the speaker yielding the floor: the domain tells them apart.
    viewer = joined_viewer(c, cmd.room)
    events = await _run(hub, floor.end_turn, room_id=cmd.room, viewer=viewer, version=cmd.version)
    return {"seq": _seq(events)}


async def set_limit(hub: Hub, c: Connection, cmd: FloorSetLimit) -> Any:
    moderator = require_staff(c, cmd.room)
    events = await _run(
        hub,
        floor.set_turn_limit,
        room_id=cmd.room,
        moderator=moderator,
        seconds=cmd.seconds,
        version=cmd.version,
    )
    return {"seq": _seq(events)}


async def send_backstage(hub: Hub, c: Connection, cmd: BackstageSend) -> Any:
    sender = joined_viewer(c, cmd.room)
    events = await _run(
        hub,
        backstage.send_backstage,
        room_id=cmd.room,
        sender=sender,
        text=cmd.text,
        to=cmd.to,
        question_id=cmd.question,
    )
    return {"message": events[0].data["message"]["id"], "seq": _seq(events)}


FLOOR_HANDLERS: dict[type, Any] = {
    FloorRequestCommand: request,
    FloorWithdraw: withdraw,
    FloorAdd: add,
    FloorRemove: remove,
    FloorReorder: reorder,
    FloorGrant: grant,
    FloorEndTurn: end_turn,
    FloorSetLimit: set_limit,
    BackstageSend: send_backstage,
}


# ---- snapshot parts -----------------------------------------------------------------------
async def _shared(db: AsyncSession, room_id: int, tier: str, state: dict[str, Any]) -> None:
    state.update(await floor.shared_floor_snapshot(db, room_id=room_id, tier=tier))
    state.update(await backstage.shared_backstage_snapshot(db, room_id=room_id, tier=tier))


async def _own(
    db: AsyncSession, room_id: int, participants: list[str], own: dict[str, dict[str, Any]]
) -> None:
    for read in (floor.own_floor_snapshot, backstage.own_backstage_snapshot):
        found = await read(db, room_id=room_id, participant_ids=participants)
        for participant, part in found.items():
            own.setdefault(participant, {}).update(part)


def install(hub: Hub) -> None:
    """The floor (every tier; airtime for staff) and backstage (staff and panel; messages to
    one panelist in that panelist's own part) in every room snapshot."""
    snapshots: Snapshots = hub.feeds.snapshots
    snapshots.shared_parts.append(_shared)
    snapshots.own_parts.append(_own)
