"""Presence samples: who was in a room when, kept for the session report.

The realtime layer reads each room's presence summed over every server process and calls
:func:`record_presence_sample`; every process may try to write the same (room, interval) or
(room, state change) row, and the unique key keeps the first one only (an insert that ignores
conflicts, on SQLite and PostgreSQL alike). So a room has at most one row per interval
however many processes serve it, and a process that dies leaves no gap as long as another
serves the room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from .models import PresenceSample


@dataclass(frozen=True)
class Headcount:
    audience: int
    panel: int
    staff: int


def bucket_of(moment: datetime, interval_seconds: int) -> int:
    """The sampling interval ``moment`` falls in (intervals start at the Unix epoch)."""
    return int(moment.timestamp()) // interval_seconds


async def record_presence_sample(
    db: AsyncSession,
    *,
    room_id: int,
    at: datetime,
    interval_seconds: int,
    headcount: Headcount,
    state_seq: int = 0,
) -> bool:
    """Write the room's sample for ``at``'s interval (or for the state change ``state_seq``)
    unless some process already did; True if this call wrote it. A state change's row is
    named by its seq alone (its ``bucket`` is 0): processes that see the change either side of
    an interval's end still try the same row."""
    values: dict[str, Any] = {
        "room_id": room_id,
        "bucket": 0 if state_seq else bucket_of(at, interval_seconds),
        "state_seq": state_seq,
        "at": at,
        "audience": headcount.audience,
        "panel": headcount.panel,
        "staff": headcount.staff,
    }
    dialect = postgresql if db.bind.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(PresenceSample)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["room_id", "bucket", "state_seq"])
    )
    result = await db.execute(statement)
    return bool(result.rowcount)


async def list_presence_samples(db: AsyncSession, *, room_id: int) -> list[PresenceSample]:
    """Every sample of the room, oldest first."""
    rows = await db.scalars(
        select(PresenceSample)
        .where(PresenceSample.room_id == room_id)
        .order_by(PresenceSample.at, PresenceSample.state_seq, PresenceSample.id)
    )
    return list(rows.all())
