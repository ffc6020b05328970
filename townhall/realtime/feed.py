"""A room's feed in one process: its events, in ``seq`` order, to the local sockets in it.

Envelopes arrive from the broker (possibly late, twice, out of order, or not at all) and from
this process's own commits. The feed keeps the last ``seq`` it delivered; anything at or below
it is a duplicate, anything beyond the next is a gap repaired from the event log before
delivery. Joins take the same lock as delivery, so a joining socket gets its snapshot (or its
missed events) and then exactly the events after them.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from townhall.platform import room_log
from townhall.platform.room_log import LoggedEvent
from townhall.platform.viewers import Viewer

from .connection import Connection
from .messages import Since, encoder

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger(__name__)


def event_frame(event: LoggedEvent) -> str:
    return encoder.encode(
        {
            "type": "event",
            "room": event.room_id,
            "epoch": event.epoch,
            "seq": event.seq,
            "name": event.name,
            "data": event.data,
        }
    ).decode()


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


class RoomFeed:
    def __init__(self, hub: Hub, room_id: int) -> None:
        self.hub = hub
        self.room_id = room_id
        self.epoch = ""
        self.last_seq = 0
        self.members: dict[Connection, int] = {}  # connection -> last seq it has been given
        self.lock = asyncio.Lock()
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.repairs = 0
        self.pending = 0  # joins under way (see Hub.join)

    async def open(self) -> None:
        """Subscribe first, then read where the log stands: nothing can fall in between."""
        await self.hub.broker.subscribe(self.hub.channels.room(self.room_id))
        async with self.hub.sessionmaker() as db:
            from townhall.platform.rooms import get_room

            room = await get_room(db, room_id=self.room_id)
            self.epoch, self.last_seq = room.epoch, room.seq
        self._task = asyncio.create_task(self._consume(), name=f"feed-{self.room_id}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        with suppress(Exception):
            await self.hub.broker.unsubscribe(self.hub.channels.room(self.room_id))

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
            self.last_seq = seq
            for connection in self.members:
                self.members[connection] = max(self.members[connection], seq)
            return
        self._deliver(event)

    async def _repair(self, until: int | None = None) -> None:
        async with self.hub.sessionmaker() as db:
            from townhall.platform.rooms import get_room

            room = await get_room(db, room_id=self.room_id)
            if room.epoch != self.epoch:
                await self._new_epoch(room.epoch, room.seq)
                return
            target = room.seq if until is None else until
            if target - self.last_seq > self.hub.settings.replay_window:
                # Too much was missed to replay: everyone here starts again from a snapshot.
                await self._resync(room.epoch, target)
                return
            events = await room_log.list_events_after(
                db, room_id=self.room_id, after=self.last_seq, until=until
            )
        for event in events:
            self._deliver(event, burst=len(events) > 1)

    async def _new_epoch(self, epoch: str, seq: int) -> None:
        """The log was reset: every member starts again from a snapshot."""
        await self._resync(epoch, seq)

    async def _resync(self, epoch: str, seq: int) -> None:
        self.epoch, self.last_seq = epoch, seq
        for connection in list(self.members):
            viewer = connection.viewers.get(self.room_id)
            if viewer is not None:
                snapshot = await self.hub.snapshot(self.room_id, viewer)
                connection.send(snapshot, burst=True)
                self.members[connection] = snapshot["seq"]

    def _anyone_may_see(self, visibility: str, participant: str | None) -> bool:
        return any(
            c.viewers.get(self.room_id, Viewer()).can_see(self.room_id, visibility, participant)
            for c in self.members
        )

    def _deliver(self, event: LoggedEvent, *, burst: bool = False) -> None:
        if event.seq <= self.last_seq:
            return
        self.last_seq = event.seq
        frame: str | None = None
        for connection, given in list(self.members.items()):
            if event.seq <= given:
                continue
            self.members[connection] = event.seq
            viewer = connection.viewers.get(self.room_id)
            if viewer is None or not viewer.can_see(
                self.room_id, event.visibility, event.participant_id
            ):
                continue
            frame = frame or event_frame(event)
            connection.send(frame, burst=burst)
            self.delivered += 1
        self.hub.after_event(event)

    async def join(self, connection: Connection, viewer: Viewer, since: Since | None) -> None:
        async with self.lock:
            connection.viewers[self.room_id] = viewer
            if since is not None and since.epoch == self.epoch and since.seq > self.last_seq:
                await self._repair()  # this process may be behind the client's last one
            resumable = (
                since is not None
                and since.epoch == self.epoch
                and since.seq <= self.last_seq
                and self.last_seq - since.seq <= self.hub.settings.replay_window
            )
            if resumable:
                assert since is not None
                async with self.hub.sessionmaker() as db:
                    events = await room_log.list_events_after(
                        db,
                        room_id=self.room_id,
                        after=since.seq,
                        until=self.last_seq,
                        limit=self.last_seq - since.seq,
                    )
                visible = [
                    e
                    for e in events
                    if viewer.can_see(self.room_id, e.visibility, e.participant_id)
                ]
                connection.send(
                    {
                        "type": "room.resumed",
                        "room": self.room_id,
                        "epoch": self.epoch,
                        "from": since.seq,
                        "seq": self.last_seq,
                        "missed": len(visible),
                    },
                    burst=True,
                )
                for event in visible:
                    connection.send(event_frame(event), burst=True)
                self.members[connection] = self.last_seq
            else:
                snapshot = await self.hub.snapshot(self.room_id, viewer)
                if since is not None:
                    snapshot["reason"] = "epoch" if since.epoch != self.epoch else "window"
                connection.send(snapshot)
                self.members[connection] = snapshot["seq"]

    def leave(self, connection: Connection) -> None:
        self.members.pop(connection, None)
        connection.viewers.pop(self.room_id, None)
