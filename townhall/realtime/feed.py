"""A room's feed in one process: its events, in ``seq`` order, to the local sockets in it.

Envelopes arrive from the broker (possibly late, twice, out of order, or not at all) and from
this process's own commits. The feed keeps the last ``seq`` it delivered; anything at or below
it is a duplicate, anything beyond the next is a gap repaired from the event log before
delivery. Each event is encoded once and written to every entitled socket in one pass:
members are kept by tier (and by participant, for events meant for one person), so the pass
touches only the sockets that get the event.

Joins never take the delivery lock. A joiner gets a snapshot shared by its tier (see
:mod:`.snapshots`), taken at some ``seq``; the events between that ``seq`` and the feed's come
from the ring of recent events the feed keeps, and the joiner becomes a member in the same
step, with no ``await`` in between, so it gets exactly the events after its snapshot. A
snapshot ahead of the feed (the feed is catching up) marks the member as *ahead* until the
feed passes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.metrics import EVENTS_DELIVERED, FANOUT_LATENCY, RESUMES
from townhall.platform import room_log, rooms
from townhall.platform.clock import Clock
from townhall.platform.room_log import LoggedEvent
from townhall.platform.viewers import Viewer

from .broker import Broker
from .connection import Connection
from .frames import Outbound
from .messages import Event, RoomResumed, RoomSnapshot, Since, encoder, wire_time
from .snapshots import Shared, Snapshots

log = logging.getLogger(__name__)

RING = 1024  # recent events kept per feed, for joiners and resumes


def event_message(event: LoggedEvent) -> Outbound:
    return Outbound(
        encoder.encode(
            Event(
                room=event.room_id,
                epoch=event.epoch,
                seq=event.seq,
                name=event.name,
                data=event.data,
            )
        )
    )


def envelope(event: LoggedEvent, *, with_content: bool) -> dict[str, Any]:
    """What travels between processes: full for public events, a marker for the rest."""
    body: dict[str, Any] = {
        "room": event.room_id,
        "epoch": event.epoch,
        "seq": event.seq,
        "visibility": event.visibility,
        "participant": event.participant_id,
    }
    if with_content or event.visibility == "public":
        body["name"] = event.name
        body["data"] = event.data
    return body


def from_envelope(body: dict[str, Any]) -> LoggedEvent | None:
    if "name" not in body:
        return None
    return LoggedEvent(
        body["room"],
        body["epoch"],
        body["seq"],
        body["name"],
        body["data"],
        body["visibility"],
        body.get("participant"),
    )


@dataclass(frozen=True)
class FeedConfig:
    sessionmaker: async_sessionmaker[AsyncSession]
    broker: Broker
    channel: Callable[[int], str]
    snapshots: Snapshots
    replay_window: int
    on_event: Callable[[LoggedEvent], None]
    clock: Clock  # the event clock: snapshots carry its ``now``


class RoomFeed:
    def __init__(self, config: FeedConfig, room_id: int) -> None:
        self.config = config
        self.room_id = room_id
        self.epoch = ""
        self.last_seq = 0
        self.members: dict[Connection, str] = {}  # connection -> its tier in this room
        self.tiers: dict[str, set[Connection]] = {"staff": set(), "panel": set(), "audience": set()}
        self.by_participant: dict[str, set[Connection]] = {}
        self.ahead: dict[Connection, int] = {}  # members whose snapshot is past last_seq
        self.recent: deque[tuple[LoggedEvent, Outbound]] = deque(maxlen=RING)
        self.lock = asyncio.Lock()  # delivery and repairs; never joins
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.advanced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.repairs = 0
        self.pending = 0  # joins under way (see Feeds.join)

    # ---- opening and closing -----------------------------------------------------------
    async def open(self) -> None:
        """Subscribe first, then read where the log stands: nothing can fall in between."""
        await self.config.broker.subscribe(self.config.channel(self.room_id))
        async with self.config.sessionmaker() as db:
            room = await rooms.get_room(db, room_id=self.room_id)
            self.epoch, self.last_seq = room.epoch, room.seq
        self._task = asyncio.create_task(self._consume(), name=f"feed-{self.room_id}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        with suppress(Exception):
            await self.config.broker.unsubscribe(self.config.channel(self.room_id))

    # ---- input ---------------------------------------------------------------------------
    def offer(self, body: dict[str, Any]) -> None:
        self.inbox.put_nowait(body)

    def request_repair(self) -> None:
        self.inbox.put_nowait({"repair": True})

    async def _consume(self) -> None:
        while True:
            body = await self.inbox.get()
            try:
                async with self.lock:
                    if body.get("repair"):
                        await self._repair()
                    else:
                        await self._apply(body)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The log still has everything: the next sweep repairs from it.
                log.exception("feed %s failed to apply an envelope", self.room_id)

    async def _apply(self, body: dict[str, Any]) -> None:
        if body["epoch"] != self.epoch:
            await self._repair()
            return
        seq = body["seq"]
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            self.repairs += 1
            await self._repair(until=seq - 1)
            if seq != self.last_seq + 1:
                return
        event = from_envelope(body)
        if event is None:
            if self._anyone_may_see(body["visibility"], body.get("participant")):
                await self._repair(until=seq)
                return
            self._advance(seq)
            return
        self._deliver(event)
        published = body.get("t")
        if isinstance(published, float):
            FANOUT_LATENCY.observe(max(0.0, time.time() - published))

    async def _repair(self, until: int | None = None) -> None:
        async with self.config.sessionmaker() as db:
            room = await rooms.get_room(db, room_id=self.room_id)
            if room.epoch != self.epoch:
                await self._resync(room.epoch, room.seq)
                return
            target = room.seq if until is None else until
            if target - self.last_seq > self.config.replay_window:
                # Too much was missed to replay: everyone here starts again from a snapshot.
                await self._resync(room.epoch, target)
                return
            events = await room_log.list_events_after(
                db, room_id=self.room_id, after=self.last_seq, until=until
            )
        for event in events:
            self._deliver(event)

    async def _resync(self, epoch: str, seq: int) -> None:
        """The log was reset or too much was missed: every member starts again from a
        snapshot (one shared build per tier)."""
        self.epoch, self.last_seq = epoch, seq
        self.recent.clear()
        self.ahead.clear()
        self.config.snapshots.forget(self.room_id)
        members = [(c, c.viewers.get(self.room_id)) for c in self.members]
        for connection, _ in members:
            self._remove(connection)
        await asyncio.gather(
            *(self.attach(c, v, None, reason=None) for c, v in members if v is not None),
            return_exceptions=True,
        )
        self._signal()

    # ---- delivery ------------------------------------------------------------------------
    def _entitled(self, visibility: str, participant: str | None) -> list[Connection]:
        """The members who may see a non-public event: only staff, panel and the named
        participant's own connections can (the audience sees public events alone), so the
        check runs over those few, not over the room."""
        candidates = {
            *self.tiers["staff"],
            *self.tiers["panel"],
            *self.by_participant.get(participant or "", ()),
        }
        room_id = self.room_id
        return [
            c
            for c in candidates
            if (viewer := c.viewers.get(room_id)) is not None
            and viewer.can_see(room_id, visibility, participant)
        ]

    def _anyone_may_see(self, visibility: str, participant: str | None) -> bool:
        if visibility == "public":
            return bool(self.members)
        return bool(self._entitled(visibility, participant))

    def _recipients(self, event: LoggedEvent) -> Any:
        if event.visibility == "public":
            return self.members
        return self._entitled(event.visibility, event.participant_id)

    def _advance(self, seq: int) -> None:
        self.last_seq = seq
        if self.ahead:
            for connection in [c for c, s in self.ahead.items() if s <= seq]:
                del self.ahead[connection]
        self._signal()

    def _signal(self) -> None:
        self.advanced.set()
        self.advanced = asyncio.Event()

    def _deliver(self, event: LoggedEvent) -> None:
        if event.seq <= self.last_seq:
            return
        message = event_message(event)
        self.recent.append((event, message))
        ahead = self.ahead
        count = 0
        if ahead:
            for connection in list(self._recipients(event)):
                if ahead.get(connection, 0) < event.seq:
                    count += connection.send(message)
        else:
            for connection in list(self._recipients(event)):
                count += connection.send(message)
        self.delivered += count
        EVENTS_DELIVERED.inc(count)
        self._advance(event.seq)
        self.config.on_event(event)

    # ---- joining -------------------------------------------------------------------------
    def _recent_after(self, seq: int) -> list[tuple[LoggedEvent, Outbound]] | None:
        """The events after ``seq`` up to ``last_seq`` from the ring, or None if it lacks some."""
        if seq >= self.last_seq:
            return []
        if not self.recent or self.recent[0][0].seq > seq + 1:
            return None
        start = seq + 1 - self.recent[0][0].seq
        return [self.recent[i] for i in range(start, len(self.recent))]

    def _add(self, connection: Connection, viewer: Viewer, seq: int) -> None:
        tier = viewer.tier(self.room_id)
        connection.viewers[self.room_id] = viewer
        self.members[connection] = tier
        self.tiers[tier].add(connection)
        if viewer.participant_id:
            self.by_participant.setdefault(viewer.participant_id, set()).add(connection)
        if seq > self.last_seq:
            self.ahead[connection] = seq

    def _remove(self, connection: Connection) -> None:
        tier = self.members.pop(connection, None)
        if tier is None:
            return
        self.tiers[tier].discard(connection)
        self.ahead.pop(connection, None)
        viewer = connection.viewers.get(self.room_id)
        if viewer is not None and viewer.participant_id:
            own = self.by_participant.get(viewer.participant_id)
            if own is not None:
                own.discard(connection)
                if not own:
                    del self.by_participant[viewer.participant_id]

    async def _reach(self, seq: int, within: float = 2.0) -> None:
        """Wait (a little) until the feed has delivered ``seq``: a client may come from a
        process that is ahead of this one."""
        if seq <= self.last_seq:
            return
        self.request_repair()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.last_seq < seq and (left := deadline - loop.time()) > 0:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.advanced.wait(), left)

    async def attach(
        self, connection: Connection, viewer: Viewer, since: Since | None, *, reason: str | None
    ) -> None:
        """Make ``connection`` a member: resumed from ``since`` if the feed can replay what it
        missed within the window and the connection's budget, else from a snapshot."""
        self._remove(connection)
        if since is not None and since.epoch == self.epoch:
            await self._reach(since.seq)
            if await self._resume(connection, viewer, since):
                RESUMES.inc(1, "resumed", "")
                return
            reason = "window"
        elif since is not None:
            reason = "epoch"
        if since is not None:
            RESUMES.inc(1, "snapshot", reason or "")
        await self._from_snapshot(connection, viewer, reason)

    async def _resume(self, connection: Connection, viewer: Viewer, since: Since) -> bool:
        if since.epoch != self.epoch or since.seq > self.last_seq:
            return False
        if self.last_seq - since.seq > self.config.replay_window:
            return False
        missed = self._recent_after(since.seq)
        if missed is None:
            # Older than the ring: read the log, then take what came meanwhile from the ring.
            async with self.config.sessionmaker() as db:
                logged = await room_log.list_events_after(
                    db,
                    room_id=self.room_id,
                    after=since.seq,
                    until=self.last_seq,
                    limit=self.config.replay_window,
                )
            if since.epoch != self.epoch:
                return False
            upto = logged[-1].seq if logged else since.seq
            tail = self._recent_after(upto)
            if tail is None:
                return False
            missed = [(e, event_message(e)) for e in logged] + tail
        visible = [
            m for e, m in missed if viewer.can_see(self.room_id, e.visibility, e.participant_id)
        ]
        size = sum(len(m) for m in visible)
        if connection.pending() + size > connection.budget:
            return False  # more than the connection's budget takes: a snapshot is smaller
        connection.send(
            RoomResumed(
                room=self.room_id,
                epoch=self.epoch,
                from_=since.seq,
                seq=self.last_seq,
                missed=len(visible),
            )
        )
        for message in visible:
            connection.send(message)
        self._add(connection, viewer, self.last_seq)
        return True

    async def _from_snapshot(
        self, connection: Connection, viewer: Viewer, reason: str | None
    ) -> None:
        tier = viewer.tier(self.room_id)
        snapshots = self.config.snapshots

        arrived_at = self.last_seq

        def usable(shared: Shared) -> bool:
            # Everything up to the joiner's arrival is in it; what came since is in the ring.
            return (
                shared.epoch == self.epoch
                and shared.seq >= arrived_at
                and self._recent_after(shared.seq) is not None
            )

        own_task: asyncio.Future[dict[str, Any]] | None = None
        try:
            for _ in range(5):
                shared = await snapshots.shared(self.room_id, tier, usable)
                # The own part is read after the shared part: what is the viewer's own up to
                # the shared part's seq is then in it (and what came later is in it too, or in
                # the events that follow, merged by id). Read before, it could miss a message
                # to one panelist logged in between, which no event would bring back.
                own_task = asyncio.ensure_future(snapshots.own(self.room_id, viewer))
                own = await asyncio.shield(own_task)
                if shared.epoch != self.epoch:
                    # The log was reset: let the feed learn the new epoch first.
                    self.request_repair()
                    await asyncio.sleep(0.2)
                    continue
                # From here to _add: no await, so no event can slip between.
                catch_up = self._recent_after(shared.seq)
                if catch_up is None:
                    continue
                connection.send(
                    RoomSnapshot(
                        room=self.room_id,
                        epoch=shared.epoch,
                        seq=shared.seq,
                        state=shared.state,
                        now=wire_time(self.config.clock.now()),
                        mine=own,
                        reason=reason,
                    )
                )
                for event, message in catch_up:
                    if viewer.can_see(self.room_id, event.visibility, event.participant_id):
                        connection.send(message)
                self._add(connection, viewer, shared.seq)
                return
            raise RuntimeError(f"room {self.room_id}: no snapshot matched the feed")
        finally:
            if own_task is not None and not own_task.done():
                own_task.cancel()

    def leave(self, connection: Connection) -> None:
        self._remove(connection)
        connection.viewers.pop(self.room_id, None)
