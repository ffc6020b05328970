"""Presence samples for the record: each room's headcount every interval and at each change
of its state, written to the database from the presence summed across processes.

Every process that serves a room samples it from the same aggregate (the entries every process
keeps in the broker, :func:`.presence.aggregate`) and tries to write the same row: the
interval is the event clock's instant divided by ``interval`` seconds, a state change is known
by its ``seq``, and the database keeps the first write only
(:func:`townhall.platform.attendance.record_presence_sample`). One short transaction per
process and interval, whatever the number of sockets. A room whose last member left gets one
more sample (zeros) so the record shows it emptied.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.platform.attendance import Headcount, bucket_of, record_presence_sample
from townhall.platform.clock import Clock
from townhall.platform.outage import database_unavailable, describe
from townhall.platform.room_log import LoggedEvent

from .broker import Broker
from .channels import Channels
from .presence import aggregate

log = logging.getLogger(__name__)

TICK = 1.0


class PresenceSamples:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        broker: Broker,
        channels: Channels,
        clock: Clock,
        interval: int,
        rooms: Callable[[], Iterable[int]],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.broker = broker
        self.channels = channels
        self.clock = clock
        self.interval = interval
        self.rooms = rooms  # the rooms this process has people in
        self.state_changes: list[tuple[int, int, datetime]] = []  # room, seq, at
        self.last_bucket: int | None = None
        self.sampled: set[int] = set()  # rooms with people at the last interval sample
        self.outage = False  # the database was away at the last try

    def on_event(self, event: LoggedEvent) -> None:
        """A feed listener: a change of a room's state is sampled at once. Stamped with the
        event clock now, not ``event.at``: an event that came through the broker carries no
        instant of its own (its ``at`` would be this process's wall clock)."""
        if event.name == "room.state_changed":
            self.state_changes.append((event.room_id, event.seq, self.clock.now()))

    async def headcount(self, room_id: int) -> Headcount:
        presence = aggregate(
            room_id, await self.broker.presence_read(self.channels.presence(room_id))
        )
        roles = [person["role"] for person in presence.people]
        return Headcount(
            audience=presence.audience,
            panel=roles.count("panelist"),
            staff=roles.count("moderator"),
        )

    async def sample(self) -> int:
        """Write what is due now; the number of rows this process wrote."""
        now = self.clock.now()
        bucket = bucket_of(now, self.interval)
        due: list[tuple[int, int, datetime]] = []
        if bucket != self.last_bucket:
            self.last_bucket = bucket
            rooms = set(self.rooms())
            due += [(room_id, 0, now) for room_id in sorted(rooms | self.sampled)]
            self.sampled = rooms
        changes, self.state_changes = self.state_changes, []
        due += changes
        if not due:
            return 0
        try:
            written = await self._write(due)
        except Exception as error:
            if not database_unavailable(error):
                raise
            # Retried at the next tick: the state changes wait, the interval is sampled again.
            self.state_changes[:0] = changes
            self.last_bucket = None
            if not self.outage:
                log.warning("presence samples wait for the database: %s", describe(error))
            self.outage = True
            return 0
        self.outage = False
        return written

    async def _write(self, due: list[tuple[int, int, datetime]]) -> int:
        written = 0
        async with self.sessionmaker() as db:
            for room_id, seq, at in due:
                written += await record_presence_sample(
                    db,
                    room_id=room_id,
                    at=at,
                    interval_seconds=self.interval,
                    headcount=await self.headcount(room_id),
                    state_seq=seq,
                )
            await db.commit()
        return written

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            if not self.broker.health().get("connected", True):
                continue  # the aggregate is unknown while Redis is away: no sample
            await self.sample()
