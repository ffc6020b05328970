"""The hub: one per process, the realtime side's front door for the endpoint, the command
handlers and the web layer.

It owns the set of live connections and hands everything else to services with one job each,
built and wired in ``townhall.app``: :class:`~.feeds.Feeds` (room feeds and delivery),
:class:`~.presence.PresenceService`, :class:`~.lifecycle.Lifecycle`,
:class:`~.access_watch.AccessWatch`, :class:`~.votes.VoteCoalescer`, the
:class:`~.control.Control` channel and :class:`~.viewer_resolution.ViewerResolution`. The hub
routes what the broker brings to them, runs their loops (each restarted on failure), and keeps
a connection's presence in step with its room memberships.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.metrics import DATABASE_ERRORS
from townhall.platform.clock import Clock
from townhall.platform.outage import database_unavailable, describe
from townhall.platform.room_log import LoggedEvent
from townhall.platform.viewers import Viewer
from townhall.settings import Settings

from .broker import Broker
from .channels import Channels
from .connection import Connection
from .control import Control
from .feeds import Feeds
from .messages import CLOSE_GOING_AWAY, Since
from .presence import PresenceService
from .viewer_resolution import ViewerResolution

log = logging.getLogger(__name__)

OUTAGE_LOG_EVERY = 60.0
Loop = Callable[[], Awaitable[None]]


@dataclass
class Hub:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    broker: Broker
    clock: Clock
    channels: Channels
    process_id: str
    control: Control
    feeds: Feeds
    presence: PresenceService
    viewers: ViewerResolution
    services: dict[str, Any] = field(default_factory=dict)  # votes, access (by name)
    connections: set[Connection] = field(default_factory=set)
    # Stopping (SIGTERM): new WebSockets are refused with HTTP 503, so a proxy passes them on
    # to another process instead of to one about to close them (townhall/shutdown.py).
    draining: bool = False
    reset_listeners: list[Callable[[], Any]] = field(default_factory=list)
    _loops: list[tuple[Loop, str]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def add_loop(self, loop: Loop, name: str) -> None:
        """A background task (restarted on failure) to run between start() and stop()."""
        self._loops.append((loop, name))

    # ---- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        await self.broker.start(self._on_message, self._on_reset)
        await self.broker.subscribe(self.channels.control)
        self._tasks = [
            asyncio.create_task(self._forever(loop, name), name=f"hub-{name}")
            for loop, name in self._loops
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
        await self.feeds.close_all()
        with suppress(Exception):
            await self.presence.withdraw()
        for connection in list(self.connections):
            await connection.stop()
        await self.broker.stop()

    async def _forever(self, loop: Loop, name: str) -> None:
        # An outage (database or broker) is a line a minute per cause, without a traceback.
        logged = {"database": -OUTAGE_LOG_EVERY, "broker": -OUTAGE_LOG_EVERY}
        while True:
            try:
                await loop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The broker first: its errors carry the OSError they wrap, which would
                # otherwise read as the database's.
                cause = (
                    "broker"
                    if self.broker.unavailable(exc)
                    else "database"
                    if database_unavailable(exc)
                    else None
                )
                if cause is None:
                    log.exception("hub task %s failed; restarting it", name)
                else:
                    if cause == "database":
                        DATABASE_ERRORS.inc(1, "background")
                    if time.monotonic() - logged[cause] >= OUTAGE_LOG_EVERY:
                        logged[cause] = time.monotonic()
                        log.warning("hub task %s: %s unavailable (%s)", name, cause, describe(exc))
                await asyncio.sleep(1.0)

    def health(self) -> dict[str, Any]:
        figures: dict[str, Any] = {
            "process": self.process_id,
            "connections": len(self.connections),
            "direct_connections": sum(c.direct for c in self.connections),
            **self.feeds.health(),
            **self.broker.health(),
        }
        for service in self.services.values():
            if callable(getattr(service, "health", None)):
                figures.update(service.health())
        return figures

    # ---- publishing ------------------------------------------------------------------
    async def publish(self, events: list[LoggedEvent]) -> None:
        """Call after commit: local sockets at once, other processes through the broker."""
        await self.feeds.publish(events)

    async def publish_control(self, kind: str, **body: Any) -> None:
        await self.control.publish(kind, **body)

    def _on_message(self, channel: str, data: bytes) -> None:
        try:
            body = json.loads(data)
        except ValueError:
            log.warning("undecodable message on %s", channel)
            return
        if channel == self.channels.control:
            self.control.received(body)
            return
        room_id = self.channels.room_id_of(channel)
        if room_id is not None:
            self.feeds.from_broker(room_id, body)

    async def _on_reset(self) -> None:
        """The broker (re)subscribed: anything may have been missed meanwhile."""
        self.feeds.repair_all()
        self.presence.after_reset()
        self.viewers.forget()
        for listener in self.reset_listeners:
            listener()

    # ---- connections and rooms -------------------------------------------------------
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
        if previous is not None and was_listed:
            self.presence.remove(room_id, previous, connection)
        await self.feeds.join(connection, room_id, viewer, since)
        if listed:
            connection.unlisted.discard(room_id)
            self.presence.add(room_id, viewer, connection)
        else:
            connection.unlisted.add(room_id)
        self.presence.greet(room_id, connection)

    async def leave(self, connection: Connection, room_id: int) -> None:
        viewer = connection.viewers.get(room_id)
        if viewer is None:
            return
        if room_id not in connection.unlisted:
            self.presence.remove(room_id, viewer, connection)
        connection.unlisted.discard(room_id)
        await self.feeds.leave(connection, room_id)

    def connections_where(self, test: Callable[[Connection], bool]) -> list[Connection]:
        return [c for c in self.connections if test(c)]
