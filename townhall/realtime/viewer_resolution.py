"""Who a connection is in a room, without a query per join where the cookie says enough.

A room never changes event, so the room → event map is read once per room and kept. An
identity with only a participant cookie (the whole audience) is that participant: the cookie
is signed, so what is left to know is whether the participant still exists (a database
restored from before they joined) and is not banned. Both are read once per participant and
process, in batches (one query for everyone joining at the same moment), and kept: bans by
the notices every process receives, and read again after a broker reconnect.
Identities holding invitations (staff, panel: a few dozen) are resolved from the database,
since what an invitation allows follows the programme and its expiry.

A connection with no identity in the event is a visitor: it may follow the public Q&A of an
event open to anyone (no access code), read afresh on each visitor's join, in batches.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.platform.errors import NotFound
from townhall.platform.models import Event, Participant, ProgrammeSession, Room
from townhall.platform.viewers import Viewer

from .batching import Batched
from .identity import Identity, resolve_viewer


class ViewerResolution:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._event_of_room: dict[int, int] = {}
        # participant -> (event id, banned), for participants seen by this process
        self._participants: dict[str, tuple[int, bool]] = {}
        self._lookup: Batched[str, tuple[int, bool] | None] = Batched(self._read, None)
        self._open_events: Batched[int, bool] = Batched(self._read_open, False)

    async def event_of(self, room_id: int) -> int:
        event_id = self._event_of_room.get(room_id)
        if event_id is None:
            async with self.sessionmaker() as db:
                event_id = await db.scalar(
                    select(ProgrammeSession.event_id)
                    .join(Room, Room.session_id == ProgrammeSession.id)
                    .where(Room.id == room_id)
                )
            if event_id is None:
                raise NotFound(f"room {room_id} does not exist", code="room.not_found")
            self._event_of_room[room_id] = event_id
        return event_id

    async def _read_open(self, ids: list[int]) -> dict[int, bool]:
        async with self.sessionmaker() as db:
            rows = await db.execute(select(Event.id, Event.access_code).where(Event.id.in_(ids)))
            return {event_id: code is None for event_id, code in rows}

    async def open_to_visitors(self, event_id: int) -> bool:
        """Whether anyone may follow the event's public Q&A without joining (no access code)."""
        return await self._open_events.get(event_id)

    async def _read(self, ids: list[str]) -> dict[str, tuple[int, bool] | None]:
        async with self.sessionmaker() as db:
            rows = await db.execute(
                select(Participant.id, Participant.event_id, Participant.banned_at).where(
                    Participant.id.in_(ids)
                )
            )
            return {pid: (event_id, banned_at is not None) for pid, event_id, banned_at in rows}

    async def _participant(self, participant: str) -> tuple[int, bool] | None:
        known = self._participants.get(participant)
        if known is None:
            known = await self._lookup.get(participant)
            if known is not None:
                self._participants[participant] = known
        return known

    async def viewer(self, identity: Identity, *, event_id: int, now: datetime) -> Viewer | None:
        participant = identity.participants.get(event_id)
        if participant is not None and not identity.invitations:
            known = await self._participant(participant)
            if known is None or known[0] != event_id:
                return None
            return Viewer(participant_id=participant, event_id=event_id, banned=known[1])
        if not identity.known:
            return None
        async with self.sessionmaker() as db:
            return await resolve_viewer(db, identity, event_id=event_id, now=now)

    async def fresh_viewer(
        self, identity: Identity, *, event_id: int, now: datetime
    ) -> Viewer | None:
        """From the database, with the display name: for acts that record who did them."""
        async with self.sessionmaker() as db:
            viewer = await resolve_viewer(db, identity, event_id=event_id, now=now)
        if viewer is not None and viewer.banned and viewer.participant_id:
            self.note_banned(viewer.participant_id)
        return viewer

    def note_banned(self, participant: str) -> None:
        known = self._participants.get(participant)
        if known is not None:
            self._participants[participant] = (known[0], True)

    def forget(self) -> None:
        """After a broker reconnect: ban notices may have been missed; read again."""
        self._participants.clear()
