"""Reading a room's floor: its public JSON, the snapshot part, airtime and the speaker log.

The verbs that change the floor are in :mod:`floor`, which re-exports ``KINDS``,
``floor_json``, ``floor_snapshot``, ``airtime`` and ``list_speaker_log`` from here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import NotFound
from .models import FloorRequest, Invitation, Person, ProgrammeSession, Room
from .viewers import Viewer

KINDS = ("contribution", "reply", "point_of_order")


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def request_json(request: FloorRequest, keys: dict[int, str]) -> dict[str, Any]:
    return {
        "id": request.id,
        "name": request.name,
        "city": request.city,
        "person": keys.get(request.person_id) if request.person_id else None,
        "kind": request.kind,
        "reply_to": request.reply_to,
        "requested_at": _iso(request.requested_at),
        "added_by_moderator": request.added_by is not None,
    }


def turn_json(request: FloorRequest, keys: dict[int, str]) -> dict[str, Any]:
    ends = (
        request.granted_at + timedelta(seconds=request.limit_seconds)
        if request.granted_at and request.limit_seconds
        else None
    )
    return {
        **request_json(request, keys),
        "granted_at": _iso(request.granted_at),
        "limit_seconds": request.limit_seconds,
        "ends_at": _iso(ends),
    }


async def get_room(db: AsyncSession, room_id: int) -> Room:
    room = await db.get(Room, room_id)
    if room is None:
        raise NotFound(f"room {room_id} does not exist", code="room.not_found")
    return room


async def person_keys(db: AsyncSession, room: Room) -> dict[int, str]:
    session = await db.get(ProgrammeSession, room.session_id)
    assert session is not None
    rows = await db.execute(
        select(Person.id, Person.key).where(Person.event_id == session.event_id)
    )
    return {person_id: key for person_id, key in rows.all()}


async def open_requests(db: AsyncSession, room_id: int) -> list[FloorRequest]:
    """The queue in order, then the request whose turn is under way (if any)."""
    rows = await db.scalars(
        select(FloorRequest)
        .where(FloorRequest.room_id == room_id, FloorRequest.status.in_(("queued", "speaking")))
        .order_by(FloorRequest.position, FloorRequest.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def floor_json(db: AsyncSession, room: Room) -> dict[str, Any]:
    """The public floor: its version, the queue in order, the turn under way."""
    keys = await person_keys(db, room)
    requests = await open_requests(db, room.id)
    speaking = next((r for r in requests if r.status == "speaking"), None)
    return {
        "version": room.floor_version,
        "queue": [request_json(r, keys) for r in requests if r.status == "queued"],
        "speaking": turn_json(speaking, keys) if speaking else None,
    }


def split_requests(requests: list[FloorRequest]) -> tuple[list[FloorRequest], FloorRequest | None]:
    queue = [r for r in requests if r.status == "queued"]
    return queue, next((r for r in requests if r.status == "speaking"), None)


def same_speaker(request: FloorRequest, person_id: int | None, participant: str | None) -> bool:
    if person_id is not None:
        return request.person_id == person_id
    return participant is not None and request.participant_id == participant


async def airtime(db: AsyncSession, *, room_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Seconds spoken per person and per city over the room's session: ended turns, plus the
    turn under way up to ``now`` when given (the snapshot leaves it to clients, who count it
    from ``granted_at``)."""
    rows = (
        await db.scalars(
            select(FloorRequest)
            .where(FloorRequest.room_id == room_id, FloorRequest.granted_at.is_not(None))
            .order_by(FloorRequest.granted_at, FloorRequest.id)
        )
    ).all()
    keys = await person_keys(db, await get_room(db, room_id))
    people: dict[tuple[Any, ...], dict[str, Any]] = {}
    cities: dict[str | None, dict[str, Any]] = defaultdict(
        lambda: {"city": None, "seconds": 0, "turns": 0}
    )
    for row in rows:
        end = row.ended_at or now
        if end is None or row.granted_at is None:
            continue
        seconds = turn_seconds(row.granted_at, end)
        who = (row.person_id, None if row.person_id else row.participant_id, row.name)
        entry = people.setdefault(
            who,
            {
                "name": row.name,
                "person": keys.get(row.person_id) if row.person_id else None,
                "city": row.city,
                "seconds": 0,
                "turns": 0,
            },
        )
        entry["seconds"] += seconds
        entry["turns"] += 1
        city = cities[row.city]
        city["city"] = row.city
        city["seconds"] += seconds
        city["turns"] += 1
    return {
        "people": sorted(people.values(), key=lambda e: (-e["seconds"], e["name"])),
        "cities": sorted(cities.values(), key=lambda e: (-e["seconds"], e["city"] or "")),
    }


def turn_seconds(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds()))


async def list_speaker_log(db: AsyncSession, *, room_id: int) -> list[dict[str, Any]]:
    """Every turn of the room's session, in order: who, city, kind, granted at, duration."""
    await get_room(db, room_id)
    rows = (
        await db.scalars(
            select(FloorRequest)
            .where(FloorRequest.room_id == room_id, FloorRequest.granted_at.is_not(None))
            .order_by(FloorRequest.granted_at, FloorRequest.id)
        )
    ).all()
    return [
        {
            "request": r.id,
            "name": r.name,
            "city": r.city,
            "kind": r.kind,
            "granted_at": _iso(r.granted_at),
            "ended_at": _iso(r.ended_at),
            "limit_seconds": r.limit_seconds,
            "seconds": turn_seconds(r.granted_at, r.ended_at)
            if r.granted_at and r.ended_at
            else None,
        }
        for r in rows
    ]


async def floor_snapshot(db: AsyncSession, *, room_id: int, viewer: Viewer) -> dict[str, Any]:
    """The floor part of a room snapshot, as ``viewer`` may see it.

    ``floor`` for everyone; ``floor_airtime`` for the moderators; ``my_floor_request`` (the
    viewer's own queued request id, personal and not sequenced) for panelists.
    """
    room = await get_room(db, room_id)
    part: dict[str, Any] = {"floor": await floor_json(db, room)}
    if viewer.is_staff(room_id):
        part["floor_airtime"] = await airtime(db, room_id=room_id)
    if viewer.tier(room_id) == "panel":
        queue, _ = split_requests(await open_requests(db, room_id))
        part["my_floor_request"] = next(
            (r.id for r in queue if same_speaker(r, viewer.person_id, viewer.participant_id)),
            None,
        )
    return part


async def shared_floor_snapshot(db: AsyncSession, *, room_id: int, tier: str) -> dict[str, Any]:
    """The floor part every viewer of ``tier`` shares: ``floor``, and ``floor_airtime`` for the
    staff (:func:`floor_snapshot` without the viewer's own request)."""
    room = await get_room(db, room_id)
    part: dict[str, Any] = {"floor": await floor_json(db, room)}
    if tier == "staff":
        part["floor_airtime"] = await airtime(db, room_id=room_id)
    return part


async def own_floor_snapshot(
    db: AsyncSession, *, room_id: int, participant_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """For each of ``participant_ids`` with a request in the queue: ``my_floor_request``, its id
    (one they made, or one made for the person or slot their panelist invitation is for). Two
    queries however many participants; participants without a request are left out. As of the
    snapshot, like ``my_floor_request`` of :func:`floor_snapshot`: events do not carry it."""
    if not participant_ids:
        return {}
    held = await db.execute(
        select(Invitation.participant_id, Invitation.person_id).where(
            Invitation.participant_id.in_(participant_ids),
            Invitation.role == "panelist",
            Invitation.person_id.is_not(None),
            Invitation.revoked_at.is_(None),
        )
    )
    people: dict[int, set[str]] = defaultdict(set)
    for participant, person in held.all():
        people[person].add(participant)
    requests = await db.scalars(
        select(FloorRequest)
        .where(FloorRequest.room_id == room_id, FloorRequest.status == "queued")
        .where(
            FloorRequest.participant_id.in_(participant_ids)
            | FloorRequest.person_id.in_(list(people))
        )
        .order_by(FloorRequest.position, FloorRequest.id)
    )
    mine: dict[str, dict[str, Any]] = {}
    for request in requests.all():
        owners = set(people.get(request.person_id, set())) if request.person_id else set()
        if request.participant_id in participant_ids:
            owners.add(request.participant_id)
        for participant in owners:
            mine.setdefault(participant, {"my_floor_request": request.id})
    return mine
