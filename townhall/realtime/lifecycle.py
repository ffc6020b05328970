"""Rooms open, go live and end as the programme says, by the event clock.

One loop per process: advance every room whose boundary has passed (a conditional update, so
two processes never log the same change twice), publish what changed, then sleep until the
next boundary of a room in play (at most :data:`MAX_SLEEP`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.platform import floor, rooms
from townhall.platform.clock import Clock
from townhall.platform.room_log import LoggedEvent

MAX_SLEEP = 5.0


class Lifecycle:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        opens_minutes_before: int,
        publish: Callable[[list[LoggedEvent]], Awaitable[None]],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.opens_minutes_before = opens_minutes_before
        self.publish = publish

    async def run(self) -> None:
        while True:
            now = self.clock.now()
            async with self.sessionmaker() as db:
                events = await rooms.advance_rooms(
                    db, now=now, default_minutes=self.opens_minutes_before
                )
                # The floor closes with its room (its turn ends, its queue is cleared).
                events += await floor.close_floors_of_ended_rooms(db, events=events, now=now)
                await db.commit()
                upcoming = [
                    boundary
                    for room in await rooms.list_live_rooms(db)
                    if (
                        boundary := rooms.next_boundary(
                            room.session, now, rooms.opens_before(room, self.opens_minutes_before)
                        )
                    )
                    is not None
                ]
            await self.publish(events)
            wait = MAX_SLEEP
            if upcoming:
                wait = min(wait, max(0.05, (min(upcoming) - now).total_seconds()))
            await asyncio.sleep(wait)
