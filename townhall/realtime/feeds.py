"""This process's open room feeds: opened on the first join, closed after the last leave.

Also where committed events enter: :meth:`Feeds.publish` gives them to the local feed at once
and to the other processes through the broker (a marker with no content for non-public
events). If the broker is down the log still has them, and the sweep, which compares every
open feed with the log every :data:`SWEEP_EVERY` seconds, repairs from it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.metrics import EVENTS_PUBLISHED
from townhall.platform.clock import Clock
from townhall.platform.models import Room
from townhall.platform.room_log import LoggedEvent
from townhall.platform.viewers import Viewer

from .broker import Broker
from .channels import Channels
from .connection import Connection
from .feed import FeedConfig, RoomFeed, envelope
from .messages import Since, encoder
from .snapshots import Snapshots

log = logging.getLogger(__name__)

SWEEP_EVERY = 2.0


class Feeds:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        broker: Broker,
        channels: Channels,
        snapshots: Snapshots,
        replay_window: int,
        clock: Clock,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.broker = broker
        self.channels = channels
        self.snapshots = snapshots
        self.event_listeners: list[Callable[[LoggedEvent], None]] = []
        self.config = FeedConfig(
            sessionmaker=sessionmaker,
            broker=broker,
            channel=channels.room,
            snapshots=snapshots,
            replay_window=replay_window,
            on_event=self._after_event,
            clock=clock,
        )
        self.open: dict[int, RoomFeed] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _after_event(self, event: LoggedEvent) -> None:
        for listener in self.event_listeners:
            listener(event)

    def members(self, room_id: int) -> list[Connection]:
        feed = self.open.get(room_id)
        return list(feed.members) if feed is not None else []

    # ---- membership ----------------------------------------------------------------------
    async def join(
        self, connection: Connection, room_id: int, viewer: Viewer, since: Since | None
    ) -> None:
        feed = await self._feed(room_id)
        try:
            await feed.attach(connection, viewer, since, reason=None)
        finally:
            feed.pending -= 1

    async def leave(self, connection: Connection, room_id: int) -> None:
        feed = self.open.get(room_id)
        if feed is None:
            return
        feed.leave(connection)
        if not feed.members:
            async with self._locks.setdefault(room_id, asyncio.Lock()):
                # A join between _feed() and attach() counts as pending: keep the feed.
                if not feed.members and not feed.pending and self.open.get(room_id) is feed:
                    del self.open[room_id]
                    self.snapshots.forget(room_id)
                    await feed.close()

    async def _feed(self, room_id: int) -> RoomFeed:
        async with self._locks.setdefault(room_id, asyncio.Lock()):
            feed = self.open.get(room_id)
            if feed is None:
                feed = RoomFeed(self.config, room_id)
                await feed.open()
                self.open[room_id] = feed
            feed.pending += 1  # released by join() once the connection is a member
            return feed

    async def close_all(self) -> None:
        for feed in list(self.open.values()):
            await feed.close()

    # ---- events in -----------------------------------------------------------------------
    async def publish(self, events: list[LoggedEvent]) -> None:
        """Call after commit."""
        for event in events:
            EVENTS_PUBLISHED.inc()
            published = time.time()  # for the fan-out latency (wall clock: across processes)
            feed = self.open.get(event.room_id)
            if feed is not None:
                feed.offer({**envelope(event, with_content=True), "t": published})
            payload = encoder.encode({**envelope(event, with_content=False), "t": published})
            try:
                await self.broker.publish(self.channels.room(event.room_id), payload)
            except Exception as exc:
                log.warning("publish of room %s seq %s failed: %s", event.room_id, event.seq, exc)

    def from_broker(self, room_id: int, body: dict[str, Any]) -> None:
        feed = self.open.get(room_id)
        if feed is not None:
            feed.offer(body)

    def repair_all(self) -> None:
        for feed in list(self.open.values()):
            feed.request_repair()

    async def sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            if not self.open:
                continue
            async with self.sessionmaker() as db:
                rows = (
                    await db.execute(
                        select(Room.id, Room.seq, Room.epoch).where(Room.id.in_(list(self.open)))
                    )
                ).all()
            for room_id, seq, epoch in rows:
                feed = self.open.get(room_id)
                if feed is not None and (seq > feed.last_seq or epoch != feed.epoch):
                    feed.request_repair()

    def health(self) -> dict[str, int]:
        return {
            "rooms": len(self.open),
            "delivered": sum(f.delivered for f in self.open.values()),
            "snapshot_builds": self.snapshots.builds,
        }
