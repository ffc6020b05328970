"""Permissions of live connections follow changes as they happen, on every process.

Nothing here polls the audience. What can change a connection's rights reaches it as a
notice: an organizer's revocation or programme edit publishes ``access.changed`` for the event
(its connections holding invitations are resolved again), a ban publishes
``participant.banned`` (see :mod:`.qa`), and after the broker reconnects, when notices may
have been lost, every connection is checked again (the audience against the event's ban list,
read once). Invitations expire by the clock: connections holding one — staff and panel, a few
dozen — are checked every :data:`STAFF_RECHECK_EVERY` seconds. A connection whose role in a
room changed gets ``access.changed`` and a fresh snapshot for its new role; one left with no
identity in the event is closed with 1008.
"""

from __future__ import annotations

import asyncio
import logging

from townhall.platform.viewers import Viewer

from .connection import Connection
from .hub import Hub
from .messages import CLOSE_BANNED, CLOSE_POLICY, AccessChanged, error
from .qa import BANNED_MESSAGE

log = logging.getLogger(__name__)

STAFF_RECHECK_EVERY = 30.0


class AccessWatch:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._pending: set[int | None] = set()  # event ids to re-check (None: everyone)
        self._wake = asyncio.Event()

    def changed(self, event_id: int | None) -> None:
        self._pending.add(event_id)
        self._wake.set()

    def everyone(self) -> None:
        self.changed(None)

    async def run(self) -> None:
        while True:
            staff_only = False
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=STAFF_RECHECK_EVERY)
            except TimeoutError:
                staff_only = True
            self._wake.clear()
            pending, self._pending = self._pending, set()
            if staff_only:
                await self.recheck(None, staff_only=True)
            else:
                await self.recheck(None if None in pending else pending, staff_only=False)

    async def recheck(self, event_ids: set[int | None] | None, *, staff_only: bool) -> None:
        """Resolve the viewers of the concerned connections again; one resolution per
        identity and event, however many rooms and sockets it has."""
        now = self.hub.clock.now()
        resolved: dict[tuple[object, ...], Viewer | None] = {}
        for connection in list(self.hub.connections):
            everyone = not staff_only and event_ids is None
            if not everyone and not connection.identity.invitations:
                continue  # notices about invitations do not concern audience-only identities
            for room_id, viewer in list(connection.viewers.items()):
                event_id = viewer.event_id
                if event_id is None or (event_ids is not None and event_id not in event_ids):
                    continue
                identity = connection.identity
                key = (tuple(sorted(identity.participants.items())), identity.invitations, event_id)
                if key not in resolved:
                    resolved[key] = await self.hub.viewers.viewer(
                        connection.identity, event_id=event_id, now=now
                    )
                fresh = resolved[key]
                if fresh == viewer or (fresh is None and viewer == Viewer(event_id=event_id)):
                    continue  # unchanged, or a visitor (no identity in the event) still one
                await self._apply(connection, room_id, fresh)

    async def _apply(self, connection: Connection, room_id: int, fresh: Viewer | None) -> None:
        if fresh is not None and fresh.banned:
            # A ban whose notice was lost (Redis away): closed as the notice would have.
            connection.send(error(None, "participant.banned", BANNED_MESSAGE))
            connection.close(CLOSE_BANNED, "banned")
            return
        if fresh is None:
            connection.send(error(None, "access.revoked", "your access to this event has ended"))
            connection.close(CLOSE_POLICY, "access revoked")
            return
        if connection.viewers.get(room_id) is None:
            return  # left meanwhile
        connection.send(
            AccessChanged(room=room_id, tier=fresh.tier(room_id), identity=fresh.public_identity())
        )
        await self.hub.join(connection, room_id, fresh, None)


def install(hub: Hub) -> AccessWatch:
    watch = AccessWatch(hub)
    hub.services["access"] = watch
    hub.add_loop(watch.run, "access")
    hub.control.listen("access.changed", lambda body: watch.changed(body.get("event")))
    hub.reset_listeners.append(watch.everyone)
    return watch
