"""Who a connection is in a room, without a query per join where the cookie says enough.

A room never changes event, so the room → event map is read once per room and kept. An
identity with only a participant cookie (the whole audience) is that participant: the cookie
is signed, so the one thing left to know is whether they are banned, which a per-event set
read once (and kept fresh by ban notices, and read again after a broker reconnect) answers.
Identities holding invitations (staff, panel: a few dozen) are resolved from the database,
since what an invitation allows follows the programme and its expiry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.platform.errors import NotFound
from townhall.platform.models import Participant, ProgrammeSession, Room
from townhall.platform.viewers import Viewer

from .identity import Identity, resolve_viewer


class ViewerResolution:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._event_of_room: dict[int, int] = {}
        self._banned: dict[int, set[str]] = {}

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

    async def _banned_in(self, event_id: int) -> set[str]:
        banned = self._banned.get(event_id)
        if banned is None:
            async with self.sessionmaker() as db:
                banned = set(
                    await db.scalars(
                        select(Participant.id).where(
                            Participant.event_id == event_id, Participant.banned_at.is_not(None)
                        )
                    )
                )
            self._banned[event_id] = banned
        return banned

    async def viewer(self, identity: Identity, *, event_id: int, now: datetime) -> Viewer | None:
        participant = identity.participants.get(event_id)
        if participant is not None and not identity.invitations:
            banned = participant in await self._banned_in(event_id)
            return Viewer(participant_id=participant, event_id=event_id, banned=banned)
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
        # Participant ids are unique across events: adding to every loaded set is exact.
        for banned in self._banned.values():
            banned.add(participant)

    def forget(self) -> None:
        """After a broker reconnect: ban notices may have been missed; read again."""
        self._banned.clear()
