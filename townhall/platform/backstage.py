"""Backstage: short messages between a room's moderators and its panel, never the audience's.

A message to the whole panel is a room event on the ``backstage`` visibility (staff and panel);
a message to one panelist is logged once per participant who holds that panelist's
invitation, on ``backstage_to`` (the staff and that participant only). Being room events, they
are numbered, resumable and kept in the session record like everything else in the room; a
message has an ``id`` so a client merges the copies of one message (a moderator sees each).

A moderator may attach a question of the room — typically a queued audience question — to
brief a panelist before putting it on air; the message carries the question's public view
(never the participant behind it).
"""

from __future__ import annotations

import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .access import invitation_state
from .errors import Forbidden, Invalid, InvalidState, NotFound
from .models import Appearance, Invitation, Person, ProgrammeSession, Question, Room, RoomEvent
from .questions import public_json
from .room_log import LoggedEvent, append_event
from .seats import credit_name
from .viewers import Viewer

MAX_MESSAGE = 280
EVENT = "backstage.sent"
VISIBILITIES = ("backstage", "backstage_to")
SNAPSHOT_LIMIT = 200


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def clean_message(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if any(unicodedata.category(c) in {"Cc", "Cf", "Co", "Cs"} and c != "\n" for c in text):
        raise Invalid(
            "messages cannot contain control characters", code="backstage.invalid_characters"
        )
    if not text:
        raise Invalid("write a message", code="backstage.empty")
    if len(text) > MAX_MESSAGE:
        raise Invalid(
            f"a backstage message has at most {MAX_MESSAGE} characters",
            code="backstage.too_long",
            maximum=MAX_MESSAGE,
        )
    return text


async def _room(db: AsyncSession, room_id: int) -> tuple[Room, ProgrammeSession]:
    room = await db.get(Room, room_id)
    if room is None:
        raise NotFound(f"room {room_id} does not exist", code="room.not_found")
    session = await db.get(ProgrammeSession, room.session_id)
    assert session is not None
    return room, session


async def _panelist(db: AsyncSession, session: ProgrammeSession, key: str) -> Person:
    person = await db.scalar(
        select(Person)
        .join(Appearance, Appearance.person_id == Person.id)
        .where(
            Appearance.session_id == session.id,
            Appearance.role != "moderator",
            Person.key == key,
        )
        .limit(1)
    )
    if person is None:
        raise Invalid(f"{key!r} is not on this session's panel", code="backstage.unknown_panelist")
    return person


async def _participants_of(
    db: AsyncSession, session: ProgrammeSession, person: Person, now: datetime
) -> list[str]:
    """The participants holding a usable panelist invitation for ``person`` in this session."""
    invitations = (
        await db.scalars(
            select(Invitation)
            .where(
                Invitation.person_id == person.id,
                Invitation.role == "panelist",
                Invitation.participant_id.is_not(None),
            )
            .order_by(Invitation.id)
        )
    ).all()
    found: list[str] = []
    for invitation in invitations:
        if invitation.session_id not in (None, session.id):
            continue
        if invitation_state(invitation, now) in ("pending", "redeemed"):
            if invitation.participant_id and invitation.participant_id not in found:
                found.append(invitation.participant_id)
    return found


async def send_backstage(
    db: AsyncSession,
    *,
    room_id: int,
    sender: Viewer,
    text: str,
    now: datetime,
    to: str | None = None,
    question_id: int | None = None,
) -> list[LoggedEvent]:
    """Send a backstage message to the whole panel, or (moderators) to the panelist ``to``
    (a person or slot key), optionally with a question of the room attached (moderators)."""
    tier = sender.tier(room_id)
    if tier == "audience":
        raise Forbidden("backstage is for the moderators and the panel", code="backstage.forbidden")
    if tier != "staff" and (to is not None or question_id is not None):
        raise Forbidden(
            "only moderators write to one panelist or pass on questions",
            code="backstage.moderators_only",
        )
    room, session = await _room(db, room_id)
    if room.state == "archived":
        raise InvalidState("the room is archived", code="backstage.room_archived")
    clean = clean_message(text)
    recipient = await _panelist(db, session, to) if to else None
    question = None
    if question_id is not None:
        found = await db.get(Question, question_id)
        if found is None or found.room_id != room_id:
            raise NotFound(f"question {question_id} is not in this room", code="question.not_found")
        people = {
            p.id: p
            for p in (
                await db.scalars(select(Person).where(Person.event_id == session.event_id))
            ).all()
        }
        question = public_json(found, people)
    message = {
        "id": secrets.token_hex(6),
        "from": {
            "name": sender.display_name or ("Moderator" if tier == "staff" else "Panelist"),
            "role": "moderator" if tier == "staff" else "panelist",
        },
        "to": None
        if recipient is None
        else {"key": recipient.key, "name": credit_name(recipient), "city": recipient.city},
        "text": clean,
        "question": question,
        "sent_at": _iso(now),
    }
    data = {"message": message}
    if recipient is None:
        return [
            await append_event(
                db,
                room_id=room_id,
                name="backstage.sent",
                data=data,
                visibility="backstage",
                at=now,
            )
        ]
    participants = await _participants_of(db, session, recipient, now)
    if not participants:
        raise InvalidState(
            f"{credit_name(recipient)} has not opened their invitation yet",
            code="backstage.not_joined",
        )
    return [
        await append_event(
            db,
            room_id=room_id,
            name="backstage.sent",
            data=data,
            visibility="backstage_to",
            participant_id=participant,
            at=now,
        )
        for participant in participants
    ]


async def _logged(db: AsyncSession, room_id: int) -> list[RoomEvent]:
    return list(
        (
            await db.scalars(
                select(RoomEvent)
                .where(RoomEvent.room_id == room_id, RoomEvent.name == EVENT)
                .order_by(RoomEvent.seq)
            )
        ).all()
    )


def _once(rows: list[RoomEvent]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row.data["message"]["id"], row.data["message"])
    return list(seen.values())


async def backstage_snapshot(db: AsyncSession, *, room_id: int, viewer: Viewer) -> dict[str, Any]:
    """The backstage part of a room snapshot: the latest messages ``viewer`` may see, oldest
    first (nothing for the audience: not even an empty list)."""
    if viewer.tier(room_id) == "audience":
        return {}
    rows = [
        r
        for r in await _logged(db, room_id)
        if viewer.can_see(room_id, r.visibility, r.participant_id)
    ]
    return {"backstage": _once(rows)[-SNAPSHOT_LIMIT:]}


def _by_id(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest messages, in ``id`` order: how clients merge lists of objects (``layOwn``),
    so a snapshot's two parts and a client's merged copies agree (show them by ``sent_at``)."""
    return sorted(messages[-SNAPSHOT_LIMIT:], key=lambda m: m["id"])


async def shared_backstage_snapshot(db: AsyncSession, *, room_id: int, tier: str) -> dict[str, Any]:
    """The backstage part every viewer of ``tier`` shares: for staff every message, for the
    panel the messages to the whole panel (those to one panelist are in
    :func:`own_backstage_snapshot`), for the audience nothing, not even an empty list."""
    if tier == "audience":
        return {}
    rows = await _logged(db, room_id)
    if tier != "staff":
        rows = [r for r in rows if r.visibility == "backstage"]
    return {"backstage": _by_id(_once(rows))}


async def own_backstage_snapshot(
    db: AsyncSession, *, room_id: int, participant_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """For each of ``participant_ids`` with messages to them alone (``backstage_to``): those
    messages, in one query however many participants. Participants without any are left out."""
    if not participant_ids:
        return {}
    rows = (
        await db.scalars(
            select(RoomEvent)
            .where(
                RoomEvent.room_id == room_id,
                RoomEvent.name == EVENT,
                RoomEvent.visibility == "backstage_to",
                RoomEvent.participant_id.in_(participant_ids),
            )
            .order_by(RoomEvent.seq)
        )
    ).all()
    found: dict[str, list[RoomEvent]] = {}
    for row in rows:
        assert row.participant_id is not None
        found.setdefault(row.participant_id, []).append(row)
    return {p: {"backstage": _by_id(_once(mine))} for p, mine in found.items()}


async def list_backstage_log(db: AsyncSession, *, room_id: int) -> list[dict[str, Any]]:
    """Every backstage message of the room, for the staff's record of the session."""
    await _room(db, room_id)
    return [
        {
            "sent_at": m["sent_at"],
            "from": m["from"]["name"],
            "role": m["from"]["role"],
            "to": m["to"]["name"] if m["to"] else None,
            "text": m["text"],
            "question": m["question"]["id"] if m["question"] else None,
        }
        for m in _once(await _logged(db, room_id))
    ]
