"""Permissions are re-checked while a connection lives, on every process.

When an organizer revokes an invitation (or edits the programme), the web layer announces
``access.changed`` on the control channel; every process re-resolves the viewers of its
connections in that event at once. A periodic pass catches expiries. A connection whose role
in a room changed gets an ``access.changed`` notice and a fresh snapshot for its new role; one
left with no identity in the event is closed with 1008.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select

from townhall.platform.models import ProgrammeSession, Room

from .connection import Connection
from .hub import Hub
from .identity import resolve_viewer
from .messages import CLOSE_POLICY

log = logging.getLogger(__name__)

RECHECK_EVERY = 30.0


class AccessWatch:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._pending: set[int | None] = set()  # event ids to re-check (None: all)
        self._wake = asyncio.Event()

    def changed(self, event_id: int | None) -> None:
        self._pending.add(event_id)
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=RECHECK_EVERY)
            except TimeoutError:
                self._pending.add(None)
            self._wake.clear()
            pending, self._pending = self._pending, set()
            await self.recheck(None if None in pending else pending)

    async def recheck(self, event_ids: set[int | None] | None) -> None:
        room_ids = {room_id for c in self.hub.connections for room_id in c.viewers}
        if not room_ids:
            return
        async with self.hub.sessionmaker() as db:
            rows = await db.execute(
                select(Room.id, ProgrammeSession.event_id)
                .join(ProgrammeSession, ProgrammeSession.id == Room.session_id)
                .where(Room.id.in_(room_ids))
            )
            event_of = dict(rows.all())
            now = self.hub.clock.now()
            for connection in list(self.hub.connections):
                for room_id, viewer in list(connection.viewers.items()):
                    event_id = event_of.get(room_id)
                    if event_id is None or (event_ids is not None and event_id not in event_ids):
                        continue
                    fresh = await resolve_viewer(
                        db, connection.identity, event_id=event_id, now=now
                    )
                    if fresh == viewer:
                        continue
                    await self._apply(connection, room_id, fresh)

    async def _apply(self, connection: Connection, room_id: int, fresh: Any) -> None:
        if fresh is None or fresh.banned:
            connection.send(
                {
                    "type": "error",
                    "ref": None,
                    "code": "access.revoked",
                    "message": "your access to this event has ended",
                }
            )
            connection.close(CLOSE_POLICY, "access revoked")
            return
        connection.send(
            {
                "type": "access.changed",
                "room": room_id,
                "tier": fresh.tier(room_id),
                "identity": fresh.public_identity(),
            }
        )
        await self.hub.join(connection, room_id, fresh, None)


def install(hub: Hub) -> AccessWatch:
    watch = AccessWatch(hub)
    hub.extensions["access"] = watch
    hub.add_loop(watch.run, "access")
    hub.control_listeners["access.changed"] = lambda body: watch.changed(body.get("event"))
    return watch
