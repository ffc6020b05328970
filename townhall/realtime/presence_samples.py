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
        process_id: str,
        interval: int,
        rooms: Callable[[], Iterable[int]],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.broker = broker
        self.channels = channels
        self.clock = clock
        self.process_id = process_id  # how this process's presence entries are named
        self.interval = interval
        self.rooms = rooms  # the rooms this process has people in
        self.state_changes: list[tuple[int, int, datetime]] = []  # room, seq, at
        self.last_bucket: int | None = None
        self.due: set[int] = set()  # rooms still to sample in this interval
        self.sampled: set[int] = set()  # rooms with people at the last interval's start
        self.outage = False  # the database was away at the last try

    def on_event(self, event: LoggedEvent) -> None:
        """A feed listener: a change of a room's state is sampled at once. Stamped with the
        event clock now, not ``event.at``: an event that came through the broker carries no
        instant of its own (its ``at`` would be this process's wall clock)."""
        if event.name == "room.state_changed":
            self.state_changes.append((event.room_id, event.seq, self.clock.now()))

    async def headcount(self, room_id: int, *, ours: bool) -> Headcount | None:
        """The room's presence summed over processes; None while this process has people
        there (``ours``) but its own entry has not reached the broker yet (a first joiner's
        entry is written within a presence tick): such a sample would miss them."""
        entries = await self.broker.presence_read(self.channels.presence(room_id))
        if ours and self.process_id not in entries:
            return None
        presence = aggregate(room_id, entries)
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
        if bucket != self.last_bucket:
            self.last_bucket = bucket
            rooms = set(self.rooms())
            self.due = rooms | self.sampled  # a room just emptied gets its zero sample
            self.sampled = rooms
        if not self.due and not self.state_changes:
            return 0
        try:
            written = await self._write(now)
        except Exception as error:
            if not database_unavailable(error):
                raise
            if not self.outage:
                log.warning("presence samples wait for the database: %s", describe(error))
            self.outage = True
            return 0  # what was due stays due: tried again at the next tick
        self.outage = False
        return written

    async def _write(self, now: datetime) -> int:
        """One transaction for everything due; what cannot be sampled yet stays due."""
        ours = set(self.rooms())
        wanted = [(room_id, 0, now) for room_id in sorted(self.due)] + self.state_changes
        done: list[tuple[int, int, datetime]] = []
        written = 0
        async with self.sessionmaker() as db:
            for room_id, seq, at in wanted:
                headcount = await self.headcount(room_id, ours=room_id in ours)
                if headcount is None:
                    continue
                written += await record_presence_sample(
                    db,
                    room_id=room_id,
                    at=at,
                    interval_seconds=self.interval,
                    headcount=headcount,
                    state_seq=seq,
                )
                done.append((room_id, seq, at))
            await db.commit()
        self.due -= {room_id for room_id, seq, _ in done if seq == 0}
        self.state_changes = [change for change in self.state_changes if change not in done]
        return written

    async def run(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            if not self.broker.health().get("connected", True):
                continue  # the aggregate is unknown while Redis is away: no sample
            await self.sample()
