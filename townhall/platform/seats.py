"""Seats: a session's people entries, and filling an unnamed slot with a person.

A programme lists places as well as people: "Paris (tbc)" on a panel, "Other mayors/speakers",
"Moderator to be announced". Each such slot is a :class:`Person` row keyed
``<session slug>.<n>`` (its position in the session, from 1) with no name. Seating a person
fills that very row, so everything that already points at the slot — an invitation made for
it, questions addressed or assigned to it — points at the person seated in it. The slot keeps
its role, segment and status (a confirmed seat clears "tbc").

Labels: :func:`seat_label` is how pages, exports and the addressee list name an entry ("Mayor
of Paris (tbc)" for an unfilled city slot, "Ms Anne Hidalgo" once filled); :func:`credit_name`
is the shorter name answer credit uses ("Anne Hidalgo", "Mayor of Paris").

Open screens follow a seat being filled: :func:`seat_person` logs ``room.people_changed`` in
the session's room (public, sequenced like every room change) with the room's people as
:func:`people_json` lists them — the audience's "Addressed to" list, the moderators' panelist
lists, and the names questions carry — which is also the ``people`` part of the room snapshot
(:func:`people_snapshot`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import Invalid, NotFound
from .models import Appearance, Person, ProgrammeSession, Room
from .programme_edit import lock_event, spec_from_db, write_programme
from .room_log import LoggedEvent, append_event

MARKS = {"tbc": "tbc", "tbd": "tbd"}
MAX_FIELD = 200


@dataclass(frozen=True)
class SeatedPerson:
    """Who fills a slot. ``city`` and ``organisation`` left empty keep the slot's own."""

    name: str
    honorific: str | None = None
    postnominals: str | None = None
    position: str | None = None
    city: str | None = None
    organisation: str | None = None


def slot_title(person: Person) -> str:
    """What an entry without a name is called: its label, organisation, or "Mayor of <city>"."""
    if person.label:
        return person.label
    if person.organisation:
        return person.organisation
    if person.city:
        return f"Mayor of {person.city}"
    return "To be announced"


def person_title(person: Person) -> str:
    """A named person with honorific and postnominals ("Mr Tunç Soyer"), else the slot title."""
    if not person.name:
        return slot_title(person)
    text = " ".join(p for p in (person.honorific, person.name) if p)
    return f"{text}, {person.postnominals}" if person.postnominals else text


def seat_label(person: Person, status: str | None = None) -> str:
    """How pages, exports and the addressee list name an entry: "Mayor of Paris (tbc)"."""
    label = person_title(person)
    return f"{label} ({MARKS[status]})" if status in MARKS else label


def credit_name(person: Person) -> str:
    """The name answer credit and question references use: "Sameh Wahba", "Mayor of Paris"."""
    return person.name or slot_title(person)


def people_json(appearances: Iterable[Appearance]) -> list[dict[str, Any]]:
    """Whom a room's questions may be put to: the session's people who are not its moderators,
    once each, in programme order. ``name`` is the seat label ("Mayor of Paris (tbc)"),
    ``credit`` the name questions and answer credit use ("Mayor of Paris"); ``question.submit``'s
    ``to`` takes the ``key``."""
    return _people_entries((a, a.person) for a in sorted(appearances, key=lambda a: a.position))


def _people_entries(rows: Iterable[tuple[Appearance, Person]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for appearance, person in rows:
        if appearance.role != "moderator" and person.key not in seen:
            seen[person.key] = {
                "key": person.key,
                "name": seat_label(person, appearance.status),
                "credit": credit_name(person),
                "city": person.city,
            }
    return list(seen.values())


async def people_snapshot(db: AsyncSession, *, room_id: int) -> dict[str, Any]:
    """The room snapshot's ``people`` part (every tier: it is on the public programme)."""
    session_id = await db.scalar(select(Room.session_id).where(Room.id == room_id))
    return {"people": await _session_people(db, session_id)}


async def _session_people(db: AsyncSession, session_id: int | None) -> list[dict[str, Any]]:
    rows = await db.execute(
        select(Appearance, Person)
        .join(Person, Person.id == Appearance.person_id)
        .where(Appearance.session_id == session_id)
        .order_by(Appearance.position, Appearance.id)
        .execution_options(populate_existing=True)
    )
    return _people_entries((appearance, person) for appearance, person in rows.all())


async def people_by_room(db: AsyncSession, *, event_id: int) -> dict[int, list[dict[str, Any]]]:
    """Every room's people as :func:`people_json` lists them: what an edit of the programme is
    compared against (:func:`log_people_changes`)."""
    rooms = await db.execute(
        select(Room.id, Room.session_id)
        .join(ProgrammeSession, ProgrammeSession.id == Room.session_id)
        .where(ProgrammeSession.event_id == event_id)
    )
    return {room_id: await _session_people(db, session_id) for room_id, session_id in rooms.all()}


async def log_people_changes(
    db: AsyncSession,
    *,
    event_id: int,
    before: dict[int, list[dict[str, Any]]],
    now: datetime,
) -> list[LoggedEvent]:
    """After an edit of the programme (the console's session form, a re-imported file): log
    ``room.people_changed`` in each room whose people are no longer ``before``, so open screens
    follow as they do a seat being filled. A room the edit created has no one to tell."""
    await db.flush()
    after = await people_by_room(db, event_id=event_id)
    return [
        await append_event(
            db, room_id=room_id, name="room.people_changed", data={"people": people}, at=now
        )
        for room_id, people in after.items()
        if room_id in before and before[room_id] != people
    ]


def is_slot_key(key: str, session_slug: str, position: int) -> bool:
    """Whether ``key`` is the slot key the programme file gives entry ``position`` (from 0)."""
    return key == f"{session_slug}.{position + 1}"


@dataclass(frozen=True)
class Slot:
    person: Person
    appearance: Appearance
    session: ProgrammeSession

    @property
    def filled(self) -> bool:
        return self.person.name is not None


async def get_slot(db: AsyncSession, *, slot_id: int) -> Slot:
    """The slot whose person row is ``slot_id``; :class:`Invalid` for a named programme person."""
    row = (
        await db.execute(
            select(Person, Appearance, ProgrammeSession)
            .join(Appearance, Appearance.person_id == Person.id)
            .join(ProgrammeSession, ProgrammeSession.id == Appearance.session_id)
            .where(Person.id == slot_id)
        )
    ).all()
    if not row:
        raise NotFound(f"no programme slot has the id {slot_id}", code="slot.not_found")
    person, appearance, session = row[0]
    if len(row) > 1 or not is_slot_key(person.key, session.slug, appearance.position):
        raise Invalid(
            f"{person.key!r} is a person of the programme, not a slot", code="slot.not_a_slot"
        )
    return Slot(person, appearance, session)


async def list_slots(db: AsyncSession, *, session_id: int) -> list[Slot]:
    """The session's slots (filled or not), in programme order."""
    rows = await db.execute(
        select(Person, Appearance, ProgrammeSession)
        .join(Appearance, Appearance.person_id == Person.id)
        .join(ProgrammeSession, ProgrammeSession.id == Appearance.session_id)
        .where(ProgrammeSession.id == session_id)
        .order_by(Appearance.position)
    )
    return [Slot(p, a, s) for p, a, s in rows.all() if is_slot_key(p.key, s.slug, a.position)]


async def list_open_slots(db: AsyncSession, *, event_id: int) -> list[Slot]:
    """The event's slots nobody fills yet, in programme order (what an invitation may be for)."""
    rows = await db.execute(
        select(Person, Appearance, ProgrammeSession)
        .join(Appearance, Appearance.person_id == Person.id)
        .join(ProgrammeSession, ProgrammeSession.id == Appearance.session_id)
        .where(ProgrammeSession.event_id == event_id, Person.name.is_(None))
        .order_by(ProgrammeSession.position, ProgrammeSession.id, Appearance.position)
    )
    return [Slot(p, a, s) for p, a, s in rows.all() if is_slot_key(p.key, s.slug, a.position)]


async def find_slot(db: AsyncSession, *, session_id: int, slot: str) -> Slot:
    """A slot of the session by key, position ("5", from 1), city, label or title."""
    slots = await list_slots(db, session_id=session_id)
    wanted = slot.strip().casefold()
    for test in (
        lambda s: s.person.key == slot,
        lambda s: str(s.appearance.position + 1) == wanted,
        lambda s: (
            wanted
            in {
                (s.person.city or "").casefold(),
                (s.person.label or "").casefold(),
                slot_title(s.person).casefold(),
                (s.person.name or "").casefold(),
            }
        ),
    ):
        matches = [s for s in slots if test(s)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(s.person.key for s in matches)
            raise Invalid(f"{slot!r} matches several slots: {names}", code="slot.ambiguous")
    known = ", ".join(f"{s.person.key} ({slot_title(s.person)})" for s in slots) or "none"
    raise NotFound(f"the session has no slot {slot!r} (slots: {known})", code="slot.not_found")


def _clean(value: str | None, field: str, *, required: bool = False) -> str | None:
    text = " ".join((value or "").split()) or None
    if required and text is None:
        raise Invalid(f"a seated person needs a {field}", code="slot.name_required", field=field)
    if text is not None and len(text) > MAX_FIELD:
        raise Invalid(
            f"{field} has at most {MAX_FIELD} characters", code="slot.too_long", field=field
        )
    if text is not None and any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise Invalid(
            f"{field} contains control characters", code="slot.invalid_characters", field=field
        )
    return text


async def seat_person(
    db: AsyncSession,
    *,
    slot_id: int,
    person: SeatedPerson,
    confirmed: bool,
    now: datetime,
) -> list[LoggedEvent]:
    """Fill a slot with a person (or replace whoever filled it), through the programme's own
    import path; ``confirmed`` clears "tbc"/"tbd", otherwise the slot's status is kept."""
    slot = await get_slot(db, slot_id=slot_id)
    values = {
        "name": _clean(person.name, "name", required=True),
        "honorific": _clean(person.honorific, "honorific"),
        "postnominals": _clean(person.postnominals, "postnominals"),
        "position": _clean(person.position, "position"),
        "city": _clean(person.city, "city") or slot.person.city,
        "organisation": _clean(person.organisation, "organisation") or slot.person.organisation,
    }
    event_id, key = slot.session.event_id, slot.person.key
    await lock_event(db, event_id, now)
    spec = await spec_from_db(db, event_id)
    people = tuple(dataclasses.replace(p, **values) if p.key == key else p for p in spec.people)
    sessions = spec.sessions
    if confirmed:
        sessions = tuple(
            dataclasses.replace(
                s,
                appearances=tuple(
                    dataclasses.replace(a, status="confirmed") if a.person == key else a
                    for a in s.appearances
                ),
            )
            if s.slug == slot.session.slug
            else s
            for s in spec.sessions
        )
    session_id = slot.session.id
    events = await write_programme(db, dataclasses.replace(spec, people=people, sessions=sessions))
    room_id = await db.scalar(select(Room.id).where(Room.session_id == session_id))
    if room_id is not None:
        await db.flush()
        events.append(
            await append_event(
                db,
                room_id=room_id,
                name="room.people_changed",
                data={"people": await _session_people(db, session_id)},
                at=now,
            )
        )
    return events
