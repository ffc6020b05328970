"""A room's event log: every state change is a row numbered by the room's sequence.

:func:`append_event` takes the room's next ``seq`` with one ``UPDATE … RETURNING`` inside the
caller's transaction. On PostgreSQL the row lock it takes is held until commit, so a later
``seq`` of the same room can never commit before an earlier one: a process that sees ``seq`` N
published knows every ``seq`` below N is already readable.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import NotFound
from .models import Room, RoomEvent, utcnow

VISIBILITIES = ("public", "panel", "staff", "participant", "backstage", "backstage_to")
# Visibilities that name one participant (``participant_id``) besides the staff.
PERSONAL = ("participant", "backstage_to")


@dataclass(frozen=True)
class LoggedEvent:
    """A committed (or about to be committed) room event, as the realtime layer publishes it."""

    room_id: int
    epoch: str
    seq: int
    name: str
    data: dict[str, Any]
    visibility: str = "public"
    participant_id: str | None = None
    at: datetime = field(default_factory=utcnow)


def new_epoch() -> str:
    return secrets.token_hex(6)


async def append_event(
    db: AsyncSession,
    *,
    room_id: int,
    name: str,
    data: dict[str, Any],
    visibility: str = "public",
    participant_id: str | None = None,
    at: datetime | None = None,
) -> LoggedEvent:
    if visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {visibility!r}")
    if (visibility in PERSONAL) != (participant_id is not None):
        raise ValueError(f"{visibility} visibility needs exactly one participant id")
    row = (
        await db.execute(
            update(Room)
            .where(Room.id == room_id)
            .values(seq=Room.seq + 1)
            .returning(Room.seq, Room.epoch)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"room {room_id} does not exist", code="room.not_found")
    seq, epoch = row
    at = at or utcnow()
    db.add(
        RoomEvent(
            room_id=room_id,
            seq=seq,
            name=name,
            data=data,
            visibility=visibility,
            participant_id=participant_id,
            created_at=at,
        )
    )
    return LoggedEvent(room_id, epoch, seq, name, data, visibility, participant_id, at)


async def list_events_after(
    db: AsyncSession, *, room_id: int, after: int, until: int | None = None, limit: int = 10_000
) -> list[LoggedEvent]:
    """Events with ``after < seq <= until``, in order."""
    room = await db.get(Room, room_id)
    if room is None:
        raise NotFound(f"room {room_id} does not exist", code="room.not_found")
    query = (
        select(RoomEvent)
        .where(RoomEvent.room_id == room_id, RoomEvent.seq > after)
        .order_by(RoomEvent.seq)
        .limit(limit)
    )
    if until is not None:
        query = query.where(RoomEvent.seq <= until)
    rows = (await db.scalars(query)).all()
    return [
        LoggedEvent(
            r.room_id,
            room.epoch,
            r.seq,
            r.name,
            r.data,
            r.visibility,
            r.participant_id,
            r.created_at,
        )
        for r in rows
    ]


async def reset_log(db: AsyncSession, *, room_id: int) -> str:
    """Start a new epoch: clients resuming across it are given a fresh snapshot."""
    epoch = new_epoch()
    await db.execute(update(Room).where(Room.id == room_id).values(epoch=epoch))
    return epoch
