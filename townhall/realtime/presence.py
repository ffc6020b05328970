"""Who is in each room, across every process.

Each process writes one entry per room it has sockets in (its distinct audience members and
the named staff and panelists), with an expiry that a heartbeat keeps pushing forward: a
crashed process's entries vanish within the TTL. Changes are announced on the control
channel. What sockets receive is coalesced per room: at most one ``presence`` message per
room every :func:`push_interval` seconds, an interval that grows with the room's size, so a
join storm costs a few messages per socket, not one per joiner. A joiner gets the last one at
once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from townhall.platform.viewers import Viewer

from .broker import Broker
from .channels import Channels
from .connection import Connection, outbound
from .frames import Outbound
from .messages import Presence

log = logging.getLogger(__name__)

TICK = 0.25


@dataclass
class LocalPresence:
    """This process's view of one room: how many sockets per participant, and who is staff."""

    audience: Counter[str] = field(default_factory=Counter)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    people_count: Counter[str] = field(default_factory=Counter)

    def add(self, viewer: Viewer, room_id: int, connection_id: str) -> None:
        key = viewer.participant_id or connection_id
        tier = viewer.tier(room_id)
        if tier == "audience":
            self.audience[key] += 1
        else:
            self.people_count[key] += 1
            self.people[key] = {
                "participant": viewer.participant_id,
                "name": viewer.display_name,
                "role": "moderator" if tier == "staff" else "panelist",
            }

    def remove(self, viewer: Viewer, room_id: int, connection_id: str) -> None:
        key = viewer.participant_id or connection_id
        counter = self.audience if viewer.tier(room_id) == "audience" else self.people_count
        counter[key] -= 1
        if counter[key] <= 0:
            del counter[key]
            if counter is self.people_count:
                self.people.pop(key, None)

    @property
    def empty(self) -> bool:
        return not self.audience and not self.people_count

    def entry(self, ttl: float) -> bytes:
        # The audience's keys travel too (participant ids, or a socket's id for a viewer with
        # none), so the sum across processes counts a participant on two processes once.
        return json.dumps(
            {
                "audience": len(self.audience),
                "ids": sorted(self.audience),
                "people": sorted(self.people.values(), key=lambda p: (p["role"], p["name"] or "")),
                "expires": time.time() + ttl,
            }
        ).encode()


def aggregate(room_id: int, entries: dict[str, bytes]) -> Presence:
    """Every live process's entry together: the message sockets receive. The audience is the
    distinct participants across processes (an entry without ids, from an older process
    during a rolling deploy, adds its count)."""
    now = time.time()
    counted = 0
    distinct: set[str] = set()
    people: dict[str, dict[str, Any]] = {}
    for raw in entries.values():
        entry = json.loads(raw)
        if entry.get("expires", 0) < now:
            continue
        if "ids" in entry:
            distinct.update(entry["ids"])
        else:
            counted += entry["audience"]
        for person in entry["people"]:
            people[person["participant"] or person["name"] or ""] = person
    return Presence(
        room=room_id,
        audience=counted + len(distinct),
        people=sorted(people.values(), key=lambda p: (p["role"], p["name"] or "")),
    )


def push_interval(members: int) -> float:
    """Seconds between two pushes to a room's sockets: 0.5 s for a small room, one second per
    1,000 sockets here beyond that, at most 10 s. A push is a write to every socket, so a room's
    presence costs at most about 1,000 socket writes a second, whatever its size and however
    fast people join (a counter may lag; the wire must not grow with the join rate)."""
    return max(0.5, min(10.0, members / 1000))


class PresenceService:
    def __init__(
        self,
        *,
        broker: Broker,
        channels: Channels,
        process_id: str,
        ttl: float,
        members: Callable[[int], Iterable[Connection]],
        announce: Callable[[int], Any],
    ) -> None:
        self.broker = broker
        self.channels = channels
        self.process_id = process_id
        self.ttl = ttl
        self.members = members  # the local sockets in a room
        self.announce = announce  # tells the other processes a room's entry changed
        self.local: dict[int, LocalPresence] = {}
        self.dirty: set[int] = set()  # our entry changed: write it
        self.stale: set[int] = set()  # someone's entry changed: read and push
        self.pushed: dict[int, tuple[Presence, Outbound]] = {}
        self._next_push: dict[int, float] = {}

    def add(self, room_id: int, viewer: Viewer, connection: Connection) -> None:
        self.local.setdefault(room_id, LocalPresence()).add(viewer, room_id, connection.id)
        self.dirty.add(room_id)

    def remove(self, room_id: int, viewer: Viewer, connection: Connection) -> None:
        local = self.local.get(room_id)
        if local is not None:
            local.remove(viewer, room_id, connection.id)
            self.dirty.add(room_id)

    def rooms_with_people(self) -> list[int]:
        """The rooms this process has listed sockets in."""
        return [room_id for room_id, local in self.local.items() if not local.empty]

    async def is_present(self, participant_id: str, room_ids: Iterable[int]) -> bool:
        """Whether the participant is in one of ``room_ids`` now, on any process (this process's
        own sockets when Redis is away)."""
        for room_id in room_ids:
            local = self.local.get(room_id)
            if local is not None and participant_id in local.audience:
                return True
        if not self.broker.health().get("connected", True):
            return False
        for room_id in room_ids:
            entries = await self.broker.presence_read(self.channels.presence(room_id))
            if any(participant_id in json.loads(raw).get("ids", ()) for raw in entries.values()):
                return True
        return False

    def greet(self, room_id: int, connection: Connection) -> None:
        """A joiner gets the room's last presence at once, or the next push soon."""
        pushed = self.pushed.get(room_id)
        if pushed is not None:
            connection.send(pushed[1])
        else:
            self.stale.add(room_id)

    def changed_elsewhere(self, room_id: int) -> None:
        self.stale.add(room_id)

    def after_reset(self) -> None:
        self.dirty.update(self.local)

    async def withdraw(self) -> None:
        """On shutdown: take this process's entries away at once."""
        for room_id, local in self.local.items():
            if not local.empty:
                await self.broker.presence_remove(self.channels.presence(room_id), self.process_id)

    async def run(self) -> None:
        last_refresh = 0.0
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            if now - last_refresh > self.ttl / 3:
                last_refresh = now
                self.dirty.update(r for r, p in self.local.items() if not p.empty)
                self.stale.update(self.local)  # notice other processes' expiries
            if not self.broker.health().get("connected", True):
                continue  # Redis away: entries are rewritten after it returns (after_reset)
            await self._write()
            await self._push(now)

    async def _write(self) -> None:
        dirty, self.dirty = self.dirty, set()
        for room_id in dirty:
            local = self.local.get(room_id)
            key = self.channels.presence(room_id)
            if local is None or local.empty:
                await self.broker.presence_remove(key, self.process_id)
                self.local.pop(room_id, None)
            else:
                await self.broker.presence_write(
                    key, self.process_id, local.entry(self.ttl), self.ttl
                )
            self.stale.add(room_id)
            await self.announce(room_id)

    async def _push(self, now: float) -> None:
        for room_id in list(self.stale):
            if self._next_push.get(room_id, 0.0) > now:
                continue  # coalesced: pushed again when its interval is up
            self.stale.discard(room_id)
            members = list(self.members(room_id))
            if not members:
                self.pushed.pop(room_id, None)
                self._next_push.pop(room_id, None)
                continue
            message = aggregate(
                room_id, await self.broker.presence_read(self.channels.presence(room_id))
            )
            previous = self.pushed.get(room_id)
            if previous is not None and previous[0] == message:
                continue
            frame = outbound(message)
            self.pushed[room_id] = (message, frame)
            self._next_push[room_id] = now + push_interval(len(members))
            for connection in members:
                connection.send(frame)
