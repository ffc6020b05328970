"""The Summit programme in a test database, and what tests do to that database behind the
servers' backs: invitations, commits that are never published, programme changes.

Writes here commit but publish nothing, exactly like a message Redis dropped (or the
``townhall programme import`` command): only the hubs' sweeps can bring them to clients.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from townhall.platform import access, participants, programme, rooms, seats
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import ClockAnchor, Person, Room, RoomEvent
from townhall.platform.programme_file import load_programme_file
from townhall.platform.room_log import LoggedEvent
from townhall.realtime.identity import (
    PARTICIPANT_COOKIE,
    Identity,
    identity_cookie,
    invitation_token,
)

ROOT = Path(__file__).resolve().parents[2]
SUMMIT_FILE = ROOT / "programmes" / "mayors-summit-2021.toml"
EVENT = "mayors-summit-2021"
WORKSHOP_1 = "workshop-1-building-resilience"
# 12:00 in Izmir on 8 December 2021: the first day's rooms have ended, the workshops are ahead.
MORNING = "2021-12-08T12:00:00+03:00"
MORNING_UTC = datetime(2021, 12, 8, 9, 0, tzinfo=UTC)  # the same instant, for direct writes
# Workshop 1 starts at 16:00 in Izmir; its lobby opens 15 minutes before, at 15:45:00. A
# rehearsal clock started here leaves the servers time to start and the clients to join
# before that boundary passes.
BEFORE_OPENING = "2021-12-08T15:44:54+03:00"
OPENING_UTC = datetime(2021, 12, 8, 12, 45, tzinfo=UTC)


class SummitDatabase:
    """One engine on a migrated test database; ``load`` puts the Summit in it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = make_sessionmaker(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    async def load(self) -> None:
        async with self.sessionmaker() as db:
            await programme.import_programme(db, spec=load_programme_file(SUMMIT_FILE))
            await db.commit()

    async def invitation_token(
        self,
        secret_key: str,
        *,
        role: str,
        session: str | None = None,
        label: str | None = None,
        person: str | None = None,
    ) -> str:
        """A signed token for ``/invitations/{token}``; ``person``: a programme person's (or
        slot's) key the invitation is for."""
        async with self.sessionmaker() as db:
            event = await programme.get_event(db, slug=EVENT)
            session_id = person_id = None
            if session is not None:
                session_id = (await programme.get_session(db, event_id=event.id, slug=session)).id
            if person is not None:
                person_id = await db.scalar(
                    select(Person.id).where(Person.event_id == event.id, Person.key == person)
                )
                assert person_id is not None, f"no person {person!r} in the Summit"
            invitation = await access.create_invitation(
                db,
                event_id=event.id,
                role=role,
                now=datetime.now(UTC),
                session_id=session_id,
                person_id=person_id,
                label=label,
                valid_for=timedelta(days=365),
            )
            await db.commit()
            return invitation_token(invitation.id, invitation.nonce, secret_key)

    async def audience_cookies(self, secret_key: str, count: int, *, now: datetime) -> list[str]:
        """``count`` new audience participants, made directly (many at once: the join route
        is rate limited per address); a signed ``Cookie`` header for each."""
        async with self.sessionmaker() as db:
            event = await programme.get_event(db, slug=EVENT)
            made = [
                await participants.create_participant(
                    db, event_id=event.id, display_name=f"Bench {n}", now=now
                )
                for n in range(count)
            ]
            await db.commit()
        return [
            f"{PARTICIPANT_COOKIE}={identity_cookie(Identity({event.id: p.id}), secret_key)}"
            for p in made
        ]

    async def set_room_state(
        self, room_id: int, action: str, *, now: datetime
    ) -> list[LoggedEvent]:
        """A moderator's override, committed and never published."""
        async with self.sessionmaker() as db:
            events = await rooms.set_room_state(db, room_id=room_id, action=action, now=now)
            await db.commit()
        return events

    async def set_speaking_time(self, room_id: int, minutes: int | None) -> None:
        """The room's *Speaking time per speaker* (an organizer sets it in the console): the
        floor's default turn limit."""
        async with self.sessionmaker() as db:
            await db.execute(
                update(Room).where(Room.id == room_id).values(speaking_time_minutes=minutes)
            )
            await db.commit()

    async def update_room(
        self, room_id: int, *, now: datetime, **changes: Any
    ) -> list[LoggedEvent]:
        """``room.updated``, committed and never published."""
        async with self.sessionmaker() as db:
            events = await rooms.update_room(db, room_id=room_id, changes=changes, now=now)
            await db.commit()
        return events

    async def update_room_many(
        self, room_id: int, count: int, *, now: datetime
    ) -> list[LoggedEvent]:
        """``count`` ``room.updated`` events (new stage URLs) in one transaction, never
        published."""
        events: list[LoggedEvent] = []
        async with self.sessionmaker() as db:
            for n in range(count):
                changes = {"stage_url": f"https://stage.example/batch/{n}"}
                events += await rooms.update_room(db, room_id=room_id, changes=changes, now=now)
            await db.commit()
        return events

    async def move_session(
        self, slug: str, *, starts_at: datetime, ends_at: datetime
    ) -> list[LoggedEvent]:
        """Re-import the Summit with one session moved (``room.schedule_changed``), as the
        ``townhall programme import`` command does: committed, never published."""
        spec = load_programme_file(SUMMIT_FILE)
        sessions = tuple(
            dataclasses.replace(s, starts_at=starts_at, ends_at=ends_at) if s.slug == slug else s
            for s in spec.sessions
        )
        async with self.sessionmaker() as db:
            result = await programme.import_programme(
                db, spec=dataclasses.replace(spec, sessions=sessions)
            )
            await db.commit()
        return result.events

    async def seat(self, slug: str, slot: str, person: seats.SeatedPerson) -> list[LoggedEvent]:
        """Seat ``person`` in a slot of session ``slug``, as ``townhall seat`` does: committed,
        never published (``room.people_changed``)."""
        async with self.sessionmaker() as db:
            event = await programme.get_event(db, slug=EVENT)
            session = await programme.get_session(db, event_id=event.id, slug=slug)
            found = await seats.find_slot(db, session_id=session.id, slot=slot)
            events = await seats.seat_person(
                db, slot_id=found.person.id, person=person, confirmed=True, now=MORNING_UTC
            )
            await db.commit()
        return events

    async def wall_time_of(self, instant: datetime) -> datetime:
        """When (wall clock, UTC) the servers' shared rehearsal clock shows ``instant``."""
        async with self.sessionmaker() as db:
            anchor = await db.scalar(select(ClockAnchor).order_by(ClockAnchor.anchored_at.desc()))
        assert anchor is not None, "no rehearsal clock: start the servers with now=…"
        return anchor.anchored_at + (instant - anchor.requested_now)

    async def room_position(self, room_id: int) -> tuple[str, int]:
        """The room's (epoch, seq) as committed."""
        async with self.sessionmaker() as db:
            room = await db.get(Room, room_id)
            assert room is not None
            return room.epoch, room.seq

    async def logged(self, room_id: int, name: str | None = None) -> list[tuple[int, str, dict]]:
        """The room's event log: (seq, name, data), in order."""
        query = select(RoomEvent).where(RoomEvent.room_id == room_id).order_by(RoomEvent.seq)
        if name is not None:
            query = query.where(RoomEvent.name == name)
        async with self.sessionmaker() as db:
            return [(e.seq, e.name, e.data) for e in (await db.scalars(query)).all()]
