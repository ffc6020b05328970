"""The hub: one per process. Publishes committed events, feeds rooms, keeps presence, drives
the programme clock.

Background tasks, each restarted on failure: the broker's subscriber (inside the broker), a
sweep that compares every open feed with the log (so a message Redis dropped is noticed even
when no later message reveals the gap), the room lifecycle driven by the event clock, and
presence.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.platform import rooms
from townhall.platform.clock import Clock
from townhall.platform.models import Room
from townhall.platform.room_log import LoggedEvent
from townhall.platform.viewers import Viewer
from townhall.settings import Settings

from .broker import Broker
from .channels import Channels
from .connection import Connection
from .feed import RoomFeed, envelope
from .messages import CLOSE_GOING_AWAY, Since, encoder
from .presence import PUSH_EVERY, LocalPresence, aggregate

log = logging.getLogger(__name__)

SWEEP_EVERY = 2.0
LIFECYCLE_MAX_SLEEP = 5.0

SnapshotPart = Callable[[AsyncSession, int, Viewer, dict[str, Any]], Awaitable[None]]


class Hub:
    def __init__(
        self,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        broker: Broker,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.broker = broker
        self.clock = clock
        self.channels = Channels(settings.redis_prefix)
        self.process_id = settings.process_name or (
            f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        )
        self.feeds: dict[int, RoomFeed] = {}
        self._feed_locks: dict[int, asyncio.Lock] = {}
        self.connections: set[Connection] = set()
        self.presence: dict[int, LocalPresence] = {}
        self._presence_dirty: set[int] = set()
        self._presence_stale: set[int] = set()
        self._presence_pushed: dict[int, dict[str, Any]] = {}
        self.snapshot_parts: list[SnapshotPart] = []
        self.event_listeners: list[Callable[[LoggedEvent], None]] = []
        self.control_listeners: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.extensions: dict[str, Any] = {}
        self._loops: list[tuple[Callable[[], Awaitable[None]], str]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.started_at = time.monotonic()

    def add_loop(self, loop: Callable[[], Awaitable[None]], name: str) -> None:
        """A background task (restarted on failure) to run between start() and stop()."""
        self._loops.append((loop, name))

    # ---- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        await self.broker.start(self._on_message, self._on_reset)
        await self.broker.subscribe(self.channels.control)
        self._tasks = [
            asyncio.create_task(self._forever(self._sweep, "sweep")),
            asyncio.create_task(self._forever(self._drive_lifecycle, "lifecycle")),
            asyncio.create_task(self._forever(self._presence_loop, "presence")),
            *(asyncio.create_task(self._forever(loop, name)) for loop, name in self._loops),
        ]

    async def stop(self) -> None:
        for connection in list(self.connections):
            connection.close(CLOSE_GOING_AWAY, "server restarting: reconnect")
        await asyncio.sleep(0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        for feed in list(self.feeds.values()):
            await feed.close()
        for room_id, local in self.presence.items():
            if not local.empty:
                with suppress(Exception):
                    await self.broker.presence_remove(
                        self.channels.presence(room_id), self.process_id
                    )
        for connection in list(self.connections):
            await connection.stop()
        await self.broker.stop()

    async def _forever(self, loop: Callable[[], Awaitable[None]], name: str) -> None:
        while True:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub task %s failed; restarting it", name)
                await asyncio.sleep(1.0)

    def health(self) -> dict[str, Any]:
        return {
            "process": self.process_id,
            "connections": len(self.connections),
            "rooms": len(self.feeds),
            **self.broker.health(),
        }

    # ---- publishing ------------------------------------------------------------------
    async def publish(self, events: list[LoggedEvent]) -> None:
        """Call after commit. Local sockets get the event at once; other processes via the
        broker. If the broker is down the log still has it and every sweep repairs from it."""
        for event in events:
            feed = self.feeds.get(event.room_id)
            if feed is not None:
                feed.offer(envelope(event, with_content=True))
            payload = encoder.encode(envelope(event, with_content=False))
            try:
                await self.broker.publish(self.channels.room(event.room_id), payload)
            except Exception as exc:
                log.warning("publish of room %s seq %s failed: %s", event.room_id, event.seq, exc)

    async def publish_control(self, kind: str, **body: Any) -> None:
        payload = encoder.encode({"kind": kind, "from": self.process_id, **body})
        if kind in self.control_listeners:
            self.control_listeners[kind]({"kind": kind, "from": self.process_id, **body})
        try:
            await self.broker.publish(self.channels.control, payload)
        except Exception as exc:
            log.warning("control message %s not published: %s", kind, exc)

    def after_event(self, event: LoggedEvent) -> None:
        for listener in self.event_listeners:
            listener(event)

    def _on_message(self, channel: str, data: bytes) -> None:
        try:
            body = json.loads(data)
        except ValueError:
            log.warning("undecodable message on %s", channel)
            return
        if channel == self.channels.control:
            self._on_control(body)
            return
        room_id = self.channels.room_id_of(channel)
        feed = self.feeds.get(room_id) if room_id is not None else None
        if feed is not None:
            feed.offer(body)

    def _on_control(self, body: dict[str, Any]) -> None:
        kind = body.get("kind")
        if kind == "presence":
            self._presence_stale.add(body["room"])
            return
        if body.get("from") == self.process_id:
            return  # already handled locally in publish_control
        listener = self.control_listeners.get(kind or "")
        if listener is not None:
            listener(body)

    async def _on_reset(self) -> None:
        for feed in list(self.feeds.values()):
            feed.request_repair()
        self._presence_dirty.update(self.presence)

    # ---- rooms -----------------------------------------------------------------------
    def register(self, connection: Connection) -> None:
        self.connections.add(connection)

    async def unregister(self, connection: Connection) -> None:
        for room_id in list(connection.viewers):
            await self.leave(connection, room_id)
        self.connections.discard(connection)

    async def join(
        self,
        connection: Connection,
        room_id: int,
        viewer: Viewer,
        since: Since | None,
        *,
        listed: bool | None = None,
    ) -> None:
        """``listed``: whether the connection counts in presence (None: as before, or yes)."""
        previous = connection.viewers.get(room_id)
        was_listed = room_id not in connection.unlisted
        listed = was_listed if listed is None else listed
        feed = await self._feed(room_id)
        try:
            if previous is not None and was_listed:
                self._presence_of(room_id).remove(previous, room_id, connection.id)
            await feed.join(connection, viewer, since)
        finally:
            feed.pending -= 1
        if listed:
            connection.unlisted.discard(room_id)
            self._presence_of(room_id).add(viewer, room_id, connection.id)
        else:
            connection.unlisted.add(room_id)
        self._presence_dirty.add(room_id)
        pushed = self._presence_pushed.get(room_id)
        if pushed is not None:
            connection.send(pushed)

    async def leave(self, connection: Connection, room_id: int) -> None:
        feed = self.feeds.get(room_id)
        viewer = connection.viewers.get(room_id)
        if feed is None or viewer is None:
            return
        feed.leave(connection)
        if room_id not in connection.unlisted:
            self._presence_of(room_id).remove(viewer, room_id, connection.id)
        connection.unlisted.discard(room_id)
        self._presence_dirty.add(room_id)
        if not feed.members:
            async with self._feed_locks.setdefault(room_id, asyncio.Lock()):
                # A join between _feed() and feed.join() counts as pending: keep the feed.
                if not feed.members and not feed.pending and self.feeds.get(room_id) is feed:
                    del self.feeds[room_id]
                    await feed.close()

    async def _feed(self, room_id: int) -> RoomFeed:
        async with self._feed_locks.setdefault(room_id, asyncio.Lock()):
            feed = self.feeds.get(room_id)
            if feed is None:
                feed = RoomFeed(self, room_id)
                await feed.open()
                self.feeds[room_id] = feed
            feed.pending += 1  # released by join() once the connection is a member
            return feed

    async def snapshot(self, room_id: int, viewer: Viewer) -> dict[str, Any]:
        """Everything ``viewer`` may see of the room, consistent with its ``seq``."""
        async with self.sessionmaker() as db:
            if db.bind.dialect.name == "postgresql":
                await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            else:
                # pysqlite starts no transaction for reads; one read transaction makes every
                # query below see the same committed state (WAL snapshot).
                await (await db.connection()).exec_driver_sql("BEGIN")
            state = await rooms.room_snapshot(
                db, room_id=room_id, default_minutes=self.settings.room_opens_minutes_before
            )
            for part in self.snapshot_parts:
                await part(db, room_id, viewer, state)
        epoch, seq = state.pop("epoch"), state.pop("seq")
        return {
            "type": "room.snapshot",
            "room": room_id,
            "epoch": epoch,
            "seq": seq,
            "state": state,
        }

    def connections_where(self, test: Callable[[Connection], bool]) -> list[Connection]:
        return [c for c in self.connections if test(c)]

    # ---- background loops ------------------------------------------------------------
    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            if not self.feeds:
                continue
            async with self.sessionmaker() as db:
                rows = (
                    await db.execute(
                        select(Room.id, Room.seq, Room.epoch).where(Room.id.in_(list(self.feeds)))
                    )
                ).all()
            for room_id, seq, epoch in rows:
                feed = self.feeds.get(room_id)
                if feed is not None and (seq > feed.last_seq or epoch != feed.epoch):
                    feed.request_repair()

    async def _drive_lifecycle(self) -> None:
        while True:
            now = self.clock.now()
            async with self.sessionmaker() as db:
                events = await rooms.advance_rooms(
                    db, now=now, default_minutes=self.settings.room_opens_minutes_before
                )
                await db.commit()
                upcoming = [
                    b
                    for room in await rooms.list_live_rooms(db)
                    if (
                        b := rooms.next_boundary(
                            room.session,
                            now,
                            rooms.opens_before(room, self.settings.room_opens_minutes_before),
                        )
                    )
                    is not None
                ]
            await self.publish(events)
            wait = LIFECYCLE_MAX_SLEEP
            if upcoming:
                wait = min(wait, max(0.05, (min(upcoming) - now).total_seconds()))
            await asyncio.sleep(wait)

    def _presence_of(self, room_id: int) -> LocalPresence:
        return self.presence.setdefault(room_id, LocalPresence())

    async def _presence_loop(self) -> None:
        ttl = float(self.settings.presence_ttl_seconds)
        last_refresh = 0.0
        while True:
            await asyncio.sleep(PUSH_EVERY)
            if time.monotonic() - last_refresh > ttl / 3:
                last_refresh = time.monotonic()
                self._presence_dirty.update(r for r, p in self.presence.items() if not p.empty)
                self._presence_stale.update(self.feeds)  # notice other processes' expiries
            if not self.broker.health().get("connected", True):
                continue  # Redis away: entries are rewritten after it returns (_on_reset)
            dirty, self._presence_dirty = self._presence_dirty, set()
            for room_id in dirty:
                local = self.presence.get(room_id)
                key = self.channels.presence(room_id)
                if local is None or local.empty:
                    await self.broker.presence_remove(key, self.process_id)
                    self.presence.pop(room_id, None)
                else:
                    await self.broker.presence_write(key, self.process_id, local.entry(ttl), ttl)
                self._presence_stale.add(room_id)
                await self.publish_control("presence", room=room_id)
            stale, self._presence_stale = self._presence_stale, set()
            for room_id in stale:
                feed = self.feeds.get(room_id)
                if feed is None:
                    self._presence_pushed.pop(room_id, None)
                    continue
                message = aggregate(
                    room_id, await self.broker.presence_read(self.channels.presence(room_id))
                )
                if message != self._presence_pushed.get(room_id):
                    self._presence_pushed[room_id] = message
                    frame = encoder.encode(message).decode()
                    for connection in list(feed.members):
                        connection.send(frame)
