"""Editing a programme in place, with exactly the importer's rules and effects.

Every edit reads the event's programme back as a :class:`ProgrammeSpec`, changes that value,
checks it with :func:`check_programme` and writes it with
:func:`townhall.platform.programme.import_programme` — the path a re-imported file takes. So an
edit is valid exactly when the same change made in the programme file would import, moving a
session logs ``room.schedule_changed``, a session that becomes online or hybrid gets its room,
and invitations that follow the programme (a person listed as moderator moderates) follow the
edit at once.

Edits of one event are serialised: each starts by updating the event's row, which holds the
row lock (PostgreSQL) or the write lock (SQLite) until commit, so two organizers saving at once
cannot undo each other's changes. A form may also send the version it was built from
(:func:`session_version`); a session changed since then is a :class:`Conflict`.

The programme file format itself is read by :mod:`programme_file`; :func:`export_programme_file`
writes it back (``docs/programme-format.md``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import Conflict, Invalid, InvalidState, NotFound
from .models import Appearance, Event, Person, ProgrammeSession, Room
from .programme import import_programme
from .programme_file_export import PERSON_FIELDS
from .programme_file_export import export_programme_file as export_programme_file
from .programme_spec import (
    AppearanceSpec,
    EventSpec,
    PartSpec,
    PersonSpec,
    ProgrammeError,
    ProgrammeSpec,
    SessionSpec,
    ZoneSpec,
    check_programme,
    local_to_utc,
)
from .room_log import LoggedEvent

SOURCE = "programme"
EVENT_COLUMNS = (
    Event.slug,
    Event.title,
    Event.timezone,
    Event.short_title,
    Event.description,
    Event.programme_status,
    Event.website,
    Event.language,
    Event.reference_zones,
    Event.parts,
)
PERSON_COLUMNS = tuple(getattr(Person, name) for name in PERSON_FIELDS)
APPEARANCE_COLUMNS = (Appearance.role, Appearance.status, Appearance.segment, Appearance.topic)
SESSION_COLUMNS = (
    ProgrammeSession.slug,
    ProgrammeSession.title,
    ProgrammeSession.kind,
    ProgrammeSession.format,
    ProgrammeSession.day,
    ProgrammeSession.starts_at,
    ProgrammeSession.ends_at,
    ProgrammeSession.part,
    ProgrammeSession.description,
    ProgrammeSession.guiding_questions,
)
SESSION_FIELDS = (
    "title",
    "kind",
    "format",
    "part",
    "day",
    "description",
    "guiding_questions",
    "appearances",
)
TIME_CHANGES = ("start", "end", "end_day", "starts_at", "ends_at")
SESSION_CHANGES = frozenset({*SESSION_FIELDS, *TIME_CHANGES, "new_people"})
MAX_OPENS_MINUTES_BEFORE = 24 * 60
MAX_SPEAKING_MINUTES = 240


# ---- reading the programme back -------------------------------------------------------


async def spec_from_db(db: AsyncSession, event_id: int) -> ProgrammeSpec:
    """The event's programme as the value an import of it would need.

    Reads plain rows, not ORM objects, so the import that usually follows starts from an
    identity map with nothing stale in it.
    """
    event = (await db.execute(select(*EVENT_COLUMNS).where(Event.id == event_id))).one_or_none()
    if event is None:
        raise NotFound(f"event {event_id} does not exist", code="event.not_found")
    people = await db.execute(
        select(Person.key, *PERSON_COLUMNS).where(Person.event_id == event_id).order_by(Person.id)
    )
    appearances: dict[int, list[AppearanceSpec]] = {}
    for session_id, *values in await db.execute(
        select(Appearance.session_id, Person.key, *APPEARANCE_COLUMNS)
        .join(Person, Person.id == Appearance.person_id)
        .join(ProgrammeSession, ProgrammeSession.id == Appearance.session_id)
        .where(ProgrammeSession.event_id == event_id)
        .order_by(Appearance.session_id, Appearance.position, Appearance.id)
    ):
        appearances.setdefault(session_id, []).append(AppearanceSpec(*values))
    sessions = await db.execute(
        select(ProgrammeSession.id, *SESSION_COLUMNS)
        .where(ProgrammeSession.event_id == event_id)
        .order_by(ProgrammeSession.position, ProgrammeSession.id)
    )
    return ProgrammeSpec(
        event=EventSpec(
            slug=event.slug,
            title=event.title,
            timezone=event.timezone,
            short_title=event.short_title,
            description=event.description or "",
            programme_status=event.programme_status,
            website=event.website,
            language=event.language,
            reference_zones=tuple(ZoneSpec(z["label"], z["zone"]) for z in event.reference_zones),
            parts=tuple(_part(p) for p in event.parts),
        ),
        people=tuple(
            PersonSpec(key, **dict(zip(PERSON_FIELDS, values, strict=True)))
            for key, *values in people
        ),
        sessions=tuple(
            SessionSpec(
                slug=s.slug,
                title=s.title,
                kind=s.kind,
                format=s.format,
                day=s.day,
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                part=s.part,
                description=s.description or "",
                guiding_questions=tuple(s.guiding_questions or ()),
                appearances=tuple(appearances.get(s.id, ())),
            )
            for s in sessions
        ),
    )


def _part(raw: dict[str, Any]) -> PartSpec:
    return PartSpec(
        slug=raw["slug"],
        title=raw["title"],
        format=raw["format"],
        dates=tuple(date.fromisoformat(d) for d in raw.get("dates") or ()),
        location=raw.get("location"),
        description=raw.get("description") or "",
    )


def find_session(spec: ProgrammeSpec, slug: str) -> SessionSpec:
    for session in spec.sessions:
        if session.slug == slug:
            return session
    raise NotFound(f"no session has the slug {slug!r}", code="session.not_found")


def session_version(spec: ProgrammeSpec, slug: str) -> str:
    """A short fingerprint of one session and the people it lists (for edit forms)."""
    session = find_session(spec, slug)
    keys = {a.person for a in session.appearances}
    people = [p for p in spec.people if p.key in keys]
    return hashlib.sha256(repr((session, people)).encode()).hexdigest()[:16]


# ---- verbs ----------------------------------------------------------------------------


async def update_session(
    db: AsyncSession,
    *,
    event_id: int,
    slug: str,
    changes: dict[str, Any],
    now: datetime,
    expected_version: str | None = None,
) -> list[LoggedEvent]:
    """Change one session. ``changes`` takes :class:`SessionSpec` field names, and:

    - ``start``, ``end`` (``time`` or ``None``) and ``end_day``: wall-clock times in the
      event's home zone, as in the programme file; both ``None`` = time to be announced. Times
      not given keep their wall-clock value (on the new ``day``, if that changes);
    - ``new_people``: :class:`PersonSpec` values to add to the event (appearances may use them).
    """
    await lock_event(db, event_id, now)
    spec = await spec_from_db(db, event_id)
    if expected_version is not None and session_version(spec, slug) != expected_version:
        raise Conflict(
            "someone else changed this session since you opened it", code="session.conflict"
        )
    return await write_programme(db, with_session_changes(spec, slug, changes))


def with_session_changes(spec: ProgrammeSpec, slug: str, changes: dict[str, Any]) -> ProgrammeSpec:
    """``spec`` with one session changed as :func:`update_session` would (not yet checked)."""
    unknown = sorted(set(changes) - SESSION_CHANGES)
    if unknown:
        raise Invalid(
            f"unknown session field(s): {', '.join(unknown)}", code="session.unknown_field"
        )
    changed = _changed_session(find_session(spec, slug), changes, ZoneInfo(spec.event.timezone))
    people = (*spec.people, *changes.get("new_people", ()))
    sessions = tuple(changed if s.slug == slug else s for s in spec.sessions)
    return dataclasses.replace(spec, people=people, sessions=sessions)


def problems_of(spec: ProgrammeSpec) -> list[str]:
    """What :func:`check_programme` finds wrong with ``spec`` (empty: it would import)."""
    try:
        check_programme(spec, SOURCE)
    except ProgrammeError as exc:
        return exc.problems
    return []


async def add_session(
    db: AsyncSession,
    *,
    event_id: int,
    session: SessionSpec,
    now: datetime,
    new_people: Iterable[PersonSpec] = (),
) -> list[LoggedEvent]:
    """Append a session to the programme (it gets a room if it is online or hybrid)."""
    await lock_event(db, event_id, now)
    spec = await spec_from_db(db, event_id)
    return await write_programme(
        db,
        dataclasses.replace(
            spec,
            people=(*spec.people, *new_people),
            sessions=(*spec.sessions, _normalised(session)),
        ),
    )


async def remove_session(
    db: AsyncSession, *, event_id: int, slug: str, now: datetime
) -> list[LoggedEvent]:
    """Take a session out of the programme, with its room. A room in use must end first."""
    await lock_event(db, event_id, now)
    spec = await spec_from_db(db, event_id)
    find_session(spec, slug)
    state = await db.scalar(
        select(Room.state)
        .join(ProgrammeSession, ProgrammeSession.id == Room.session_id)
        .where(ProgrammeSession.event_id == event_id, ProgrammeSession.slug == slug)
    )
    if state in ("open", "live"):
        raise InvalidState(
            f"the session's room is {state}: end it before removing the session",
            code="session.room_in_use",
            state=state,
        )
    sessions = tuple(s for s in spec.sessions if s.slug != slug)
    return await write_programme(db, dataclasses.replace(spec, sessions=sessions))


async def set_appearance_status(
    db: AsyncSession, *, event_id: int, slug: str, position: int, status: str, now: datetime
) -> list[LoggedEvent]:
    """Confirm a person's part (``confirmed``), or mark it ``tbc`` / ``tbd``."""
    spec = await spec_from_db(db, event_id)
    appearances = list(find_session(spec, slug).appearances)
    if not 0 <= position < len(appearances):
        raise NotFound(
            f"the session has no person at position {position}", code="appearance.not_found"
        )
    appearances[position] = dataclasses.replace(appearances[position], status=status)
    return await update_session(
        db, event_id=event_id, slug=slug, changes={"appearances": tuple(appearances)}, now=now
    )


async def set_moderator(
    db: AsyncSession, *, event_id: int, slug: str, person: str, now: datetime
) -> list[LoggedEvent]:
    """Make ``person`` (a key) the session's only moderator; earlier moderators leave it."""
    spec = await spec_from_db(db, event_id)
    session = find_session(spec, slug)
    kept = [a for a in session.appearances if a.role != "moderator"]
    segment = next((a.segment for a in session.appearances if a.role == "moderator"), None)
    moderator = AppearanceSpec(person=person, role="moderator", segment=segment)
    return await update_session(
        db, event_id=event_id, slug=slug, changes={"appearances": (moderator, *kept)}, now=now
    )


async def add_person(
    db: AsyncSession, *, event_id: int, person: PersonSpec, now: datetime
) -> list[LoggedEvent]:
    """Add someone to the event's people (``person.key`` may be left empty: one is made)."""
    await lock_event(db, event_id, now)
    spec = await spec_from_db(db, event_id)
    if not person.key:
        label = person.name or person.label or person.organisation or person.city or "person"
        key = new_person_key(label, {p.key for p in spec.people})
        person = dataclasses.replace(person, key=key)
    return await write_programme(
        db, dataclasses.replace(spec, people=(*spec.people, _normalised_person(person)))
    )


async def write_programme(db: AsyncSession, spec: ProgrammeSpec) -> list[LoggedEvent]:
    """Check ``spec`` as the importer does (raising :class:`ProgrammeError`) and write it."""
    check_programme(spec, SOURCE)
    result = await import_programme(db, spec=spec, remove_missing=True)
    return result.events


async def lock_event(db: AsyncSession, event_id: int, now: datetime) -> None:
    changed = await db.execute(
        update(Event)
        .where(Event.id == event_id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise NotFound(f"event {event_id} does not exist", code="event.not_found")


# ---- applying changes to a session value ---------------------------------------------


def _text(value: Any) -> str | None:
    return (value or "").strip() or None


def _normalised_person(person: PersonSpec) -> PersonSpec:
    """Texts trimmed and empty ones absent, as the programme file reader leaves them."""
    return dataclasses.replace(
        person, key=person.key.strip(), **{n: _text(getattr(person, n)) for n in PERSON_FIELDS}
    )


def _normalised_appearance(appearance: AppearanceSpec) -> AppearanceSpec:
    return AppearanceSpec(
        person=appearance.person.strip(),
        role=appearance.role.strip(),
        status=appearance.status.strip() or "confirmed",
        segment=_text(appearance.segment),
        topic=_text(appearance.topic),
    )


def _normalised(session: SessionSpec) -> SessionSpec:
    return dataclasses.replace(
        session,
        slug=session.slug.strip(),
        title=session.title.strip(),
        kind=session.kind.strip(),
        format=session.format.strip(),
        part=_text(session.part),
        description=(session.description or "").strip(),
        guiding_questions=tuple(q.strip() for q in session.guiding_questions if q.strip()),
        appearances=tuple(_normalised_appearance(a) for a in session.appearances),
    )


def _changed_session(current: SessionSpec, changes: dict[str, Any], zone: ZoneInfo) -> SessionSpec:
    fields = {name: changes[name] for name in SESSION_FIELDS if name in changes}
    session = dataclasses.replace(current, **fields)
    if "starts_at" in changes or "ends_at" in changes:
        starts_at = changes.get("starts_at", current.starts_at)
        ends_at = changes.get("ends_at", current.ends_at)
    else:
        starts_at, ends_at = _instants(current, session.day, changes, zone)
    return _normalised(dataclasses.replace(session, starts_at=starts_at, ends_at=ends_at))


def _instants(
    current: SessionSpec, day: date, changes: dict[str, Any], zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """Wall-clock times in the home zone to UTC instants, as the programme file reader does."""
    start_local = current.starts_at.astimezone(zone) if current.starts_at else None
    end_local = current.ends_at.astimezone(zone) if current.ends_at else None
    start: time | None = start_local.time() if start_local else None
    end: time | None = end_local.time() if end_local else None
    start = changes.get("start", start)
    end = changes.get("end", end)
    if "end_day" in changes:
        end_day = changes["end_day"] or day
    elif end_local is not None:
        end_day = day + (end_local.date() - current.day)  # keep a run past midnight
    else:
        end_day = day
    return (
        local_to_utc(day, start, zone) if start is not None else None,
        local_to_utc(end_day, end, zone) if end is not None else None,
    )


# Letters NFKD does not take apart into a plain letter and an accent.
TRANSLITERATE = str.maketrans(
    {"ı": "i", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l"}
)


def new_person_key(label: str, taken: set[str]) -> str:
    """A key from a name, as docs/programme-format.md suggests ("Ruşen Keleş" → rusen-keles)."""
    plain = unicodedata.normalize("NFKD", label.casefold().translate(TRANSLITERATE))
    ascii_only = "".join(c for c in plain if not unicodedata.combining(c)).encode("ascii", "ignore")
    base = re.sub(r"[^a-z0-9]+", "-", ascii_only.decode()).strip("-")[:80] or "person"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return key


# ---- room timing ------------------------------------------------------------------------


async def update_room_timing(
    db: AsyncSession,
    *,
    room_id: int,
    opens_minutes_before: int | None,
    speaking_time_minutes: int | None,
) -> Room:
    """How long before its session a room opens (``None``: the server's default), and the
    minutes each speaker has (``None``: no limit shown). Follow with
    :func:`townhall.platform.rooms.update_room` so clients hear ``room.updated``."""
    room = await db.get(Room, room_id)
    if room is None:
        raise NotFound(f"room {room_id} does not exist", code="room.not_found")
    lead, speaking = opens_minutes_before, speaking_time_minutes
    if lead is not None and not 0 <= lead <= MAX_OPENS_MINUTES_BEFORE:
        raise Invalid(
            f"a room opens 0 to {MAX_OPENS_MINUTES_BEFORE} minutes before its session",
            code="room.invalid_timing",
            field="opens_minutes_before",
        )
    if speaking is not None and not 1 <= speaking <= MAX_SPEAKING_MINUTES:
        raise Invalid(
            f"speaking time is 1 to {MAX_SPEAKING_MINUTES} minutes per speaker",
            code="room.invalid_timing",
            field="speaking_time_minutes",
        )
    room.opens_minutes_before = opens_minutes_before
    room.speaking_time_minutes = speaking_time_minutes
    await db.flush()
    return room
