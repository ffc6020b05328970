"""The programme: events, their sessions and people, written from a spec and read back.

:func:`import_programme` writes a whole :class:`ProgrammeSpec` in the caller's transaction,
updating in place by slug and key, so re-importing a file never duplicates anything. Online and
hybrid sessions get a live room; a session whose times move logs ``room.schedule_changed``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from .errors import NotFound
from .models import Appearance, Event, Person, ProgrammeSession, Room, utcnow
from .programme_spec import (
    ONLINE_FORMATS,
    PERSON_TEXT_FIELDS,
    PersonSpec,
    ProgrammeSpec,
    SessionSpec,
)
from .room_log import LoggedEvent, append_event, new_epoch
from .rooms import DEFAULT_OPENS_MINUTES_BEFORE, room_json


@dataclass
class ImportResult:
    event_slug: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    events: list[LoggedEvent] = field(default_factory=list)


async def import_programme(
    db: AsyncSession,
    *,
    spec: ProgrammeSpec,
    remove_missing: bool = True,
    opens_minutes_before: int = DEFAULT_OPENS_MINUTES_BEFORE,
) -> ImportResult:
    """Create or update the event of ``spec``; sessions not in ``spec`` are removed.

    New rooms open their lobby ``opens_minutes_before`` the start (organizers change it per room).
    """
    event = await db.scalar(
        select(Event)
        .where(Event.slug == spec.event.slug)
        .options(selectinload(Event.people), selectinload(Event.sessions))
    )
    if event is None:
        event = Event(slug=spec.event.slug, sessions=[], people=[])
        db.add(event)
    e = spec.event
    event.title = e.title
    event.short_title = e.short_title
    event.description = e.description
    event.timezone = e.timezone
    event.programme_status = e.programme_status
    event.website = e.website
    event.language = e.language
    event.reference_zones = [{"label": z.label, "zone": z.zone} for z in e.reference_zones]
    event.parts = [{**asdict(p), "dates": [d.isoformat() for d in p.dates]} for p in e.parts]
    await db.flush()

    people = {p.key: p for p in event.people}
    for spec_person in spec.people:
        person = people.get(spec_person.key)
        if person is None:
            person = Person(event_id=event.id, key=spec_person.key)
            db.add(person)
            people[spec_person.key] = person
        _copy_person(spec_person, person)
    await db.flush()

    result = ImportResult(event_slug=event.slug)
    existing = {s.slug: s for s in event.sessions}
    for position, spec_session in enumerate(spec.sessions):
        session = existing.pop(spec_session.slug, None)
        if session is None:
            session = ProgrammeSession(event_id=event.id, slug=spec_session.slug)
            db.add(session)
            result.created.append(spec_session.slug)
            moved = False
        else:
            moved = (session.starts_at, session.ends_at) != (
                spec_session.starts_at,
                spec_session.ends_at,
            )
            result.updated.append(spec_session.slug)
        _copy_session(spec_session, session, position)
        await db.flush()
        await _replace_appearances(db, session, spec_session, people)
        room = await ensure_room(db, session=session, opens_minutes_before=opens_minutes_before)
        if room is not None and moved:
            result.events.append(await _log_schedule_change(db, room, session))
    if remove_missing:
        for session in existing.values():
            result.removed.append(session.slug)
            await db.delete(session)
    used = {a.person for s in spec.sessions for a in s.appearances} | {p.key for p in spec.people}
    if remove_missing:
        for key, person in people.items():
            if key not in used:
                await db.delete(person)
    await db.flush()
    return result


def _copy_person(spec: PersonSpec, person: Person) -> None:
    for name in PERSON_TEXT_FIELDS:
        setattr(person, name, getattr(spec, name))


def _copy_session(spec: SessionSpec, session: ProgrammeSession, position: int) -> None:
    session.title = spec.title
    session.kind = spec.kind
    session.format = spec.format
    session.part = spec.part
    session.day = spec.day
    session.starts_at = spec.starts_at
    session.ends_at = spec.ends_at
    session.description = spec.description
    session.guiding_questions = list(spec.guiding_questions)
    session.position = position


def _signature(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: row[-1])


async def _replace_appearances(
    db: AsyncSession, session: ProgrammeSession, spec: SessionSpec, people: dict[str, Person]
) -> None:
    before = (
        await db.execute(
            select(
                Appearance.person_id,
                Appearance.role,
                Appearance.status,
                Appearance.segment,
                Appearance.topic,
                Appearance.position,
            ).where(Appearance.session_id == session.id)
        )
    ).all()
    after = [
        (people[a.person].id, a.role, a.status, a.segment, a.topic, position)
        for position, a in enumerate(spec.appearances)
    ]
    if _signature([tuple(row) for row in before]) != _signature(after):
        session.updated_at = utcnow()  # calendars and schedule versions must see the change
    await db.execute(delete(Appearance).where(Appearance.session_id == session.id))
    for position, appearance in enumerate(spec.appearances):
        db.add(
            Appearance(
                session_id=session.id,
                person_id=people[appearance.person].id,
                role=appearance.role,
                status=appearance.status,
                segment=appearance.segment,
                topic=appearance.topic,
                position=position,
            )
        )


async def ensure_room(
    db: AsyncSession,
    *,
    session: ProgrammeSession,
    opens_minutes_before: int = DEFAULT_OPENS_MINUTES_BEFORE,
) -> Room | None:
    """Online and hybrid sessions have exactly one live room."""
    if session.format not in ONLINE_FORMATS:
        return None
    room = await db.scalar(select(Room).where(Room.session_id == session.id))
    if room is None:
        room = Room(
            session_id=session.id,
            epoch=new_epoch(),
            seq=0,
            state="scheduled",
            opens_minutes_before=opens_minutes_before,
        )
        db.add(room)
        await db.flush()
    return room


async def _log_schedule_change(
    db: AsyncSession, room: Room, session: ProgrammeSession
) -> LoggedEvent:
    return await append_event(
        db,
        room_id=room.id,
        name="room.schedule_changed",
        data={
            "room": room_json(room, session, DEFAULT_OPENS_MINUTES_BEFORE),
            "starts_at": room_json(room, session, 0)["session"]["starts_at"],
            "ends_at": room_json(room, session, 0)["session"]["ends_at"],
        },
    )


async def list_events(db: AsyncSession) -> list[Event]:
    return list((await db.scalars(select(Event).order_by(Event.id))).all())


async def find_event(db: AsyncSession, *, slug: str) -> Event | None:
    return await db.scalar(select(Event).where(Event.slug == slug))


async def get_event(db: AsyncSession, *, slug: str) -> Event:
    event = await find_event(db, slug=slug)
    if event is None:
        raise NotFound(f"no event has the slug {slug!r}", code="event.not_found")
    return event


def _session_options():
    return (
        selectinload(ProgrammeSession.appearances).selectinload(Appearance.person),
        selectinload(ProgrammeSession.room),
    )


async def list_sessions(db: AsyncSession, *, event_id: int) -> list[ProgrammeSession]:
    """The event's sessions in programme order, with their people and rooms loaded."""
    query = (
        select(ProgrammeSession)
        .where(ProgrammeSession.event_id == event_id)
        .order_by(ProgrammeSession.day, ProgrammeSession.position)
        .options(*_session_options())
    )
    return list((await db.scalars(query)).all())


async def get_session(db: AsyncSession, *, event_id: int, slug: str) -> ProgrammeSession:
    session = await db.scalar(
        select(ProgrammeSession)
        .where(ProgrammeSession.event_id == event_id, ProgrammeSession.slug == slug)
        .options(*_session_options())
    )
    if session is None:
        raise NotFound(f"no session has the slug {slug!r}", code="session.not_found")
    return session


def days_of(sessions: list[ProgrammeSession]) -> list[date]:
    return sorted({s.day for s in sessions})
