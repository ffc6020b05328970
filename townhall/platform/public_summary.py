"""The public summary of a room that has ended: what was answered (and by whom), the most voted
questions left unanswered, and the session's speakers.

Only what the audience could already see goes in: public questions (approved or answered),
named as the room showed them (anonymous ones without a name). Organizers may withhold the
whole summary (``rooms.summary_hidden``) or leave single questions out
(``questions.hidden_from_summary``); both are audited, and neither touches the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .access import record
from .errors import Forbidden, NotFound
from .models import Appearance, Person, ProgrammeSession, Question, Room
from .seats import seat_label
from .viewers import Viewer

SUMMARY_STATES = ("ended", "archived")
TOP_UNANSWERED = 5
ROLE_ORDER = {"moderator": 0}


def _question(question: Question) -> dict[str, Any]:
    return {
        "id": question.id,
        "text": question.text,
        "author": None if question.anonymous else question.author_name,
        "votes": question.votes,
        "answered_by": question.answered_by,
    }


async def _room(db: AsyncSession, room_id: int) -> Room:
    room = await db.get(Room, room_id)
    if room is None:
        raise NotFound(f"room {room_id} does not exist", code="room.not_found")
    return room


async def public_summary(db: AsyncSession, *, room_id: int) -> dict[str, Any]:
    """``available``: the room has ended and the organizers have not hidden the summary;
    otherwise the lists are empty."""
    room = await _room(db, room_id)
    available = room.state in SUMMARY_STATES and not room.summary_hidden
    summary: dict[str, Any] = {
        "available": available,
        "hidden": room.summary_hidden,
        "answered": [],
        "unanswered": [],
        "speakers": [],
    }
    if not available:
        return summary
    shown = (
        await db.scalars(
            select(Question)
            .where(
                Question.room_id == room_id,
                Question.status.in_(("approved", "answered")),
                Question.hidden_from_summary.is_(False),
            )
            .order_by(Question.votes.desc(), Question.id)
        )
    ).all()
    summary["answered"] = [
        _question(q)
        for q in sorted(shown, key=lambda q: (q.answered_at or q.created_at, q.id))
        if q.status == "answered"
    ]
    summary["unanswered"] = [_question(q) for q in shown if q.status == "approved"][:TOP_UNANSWERED]
    summary["speakers"] = await list_speakers(db, session_id=room.session_id)
    return summary


async def list_speakers(db: AsyncSession, *, session_id: int) -> list[dict[str, Any]]:
    """The session's people as the programme lists them (moderators first), once each."""
    rows = (
        await db.execute(
            select(Appearance, Person)
            .join(Person, Person.id == Appearance.person_id)
            .where(Appearance.session_id == session_id)
            .order_by(Appearance.position, Appearance.id)
        )
    ).all()
    seen: dict[int, dict[str, Any]] = {}
    for appearance, person in sorted(rows, key=lambda row: ROLE_ORDER.get(row[0].role, 1)):
        if person.id not in seen:
            seen[person.id] = {
                "name": seat_label(person, appearance.status),
                "role": appearance.role,
                "city": person.city,
                "organisation": person.organisation,
            }
    return list(seen.values())


async def _organizer_room(db: AsyncSession, room_id: int, organizer: Viewer) -> Room:
    room = await _room(db, room_id)
    session = await db.get(ProgrammeSession, room.session_id)
    assert session is not None
    if not organizer.organizer or organizer.event_id != session.event_id:
        raise Forbidden("only the event's organizers may do that", code="organizer.required")
    return room


async def set_summary_hidden(
    db: AsyncSession, *, room_id: int, hidden: bool, organizer: Viewer, now: datetime
) -> None:
    room = await _organizer_room(db, room_id, organizer)
    await db.execute(update(Room).where(Room.id == room.id).values(summary_hidden=hidden))
    room.summary_hidden = hidden
    await record(
        db,
        event_id=organizer.event_id or 0,
        actor=organizer.display_name or "organizer",
        action="summary.hidden" if hidden else "summary.shown",
        now=now,
        room_id=room.id,
        target=f"room {room.id}",
    )


async def set_question_hidden_from_summary(
    db: AsyncSession,
    *,
    room_id: int,
    question_id: int,
    hidden: bool,
    organizer: Viewer,
    now: datetime,
) -> None:
    room = await _organizer_room(db, room_id, organizer)
    question = await db.get(Question, question_id)
    if question is None or question.room_id != room.id:
        raise NotFound(f"question {question_id} is not in this room", code="question.not_found")
    question.hidden_from_summary = hidden
    await db.flush()
    await record(
        db,
        event_id=organizer.event_id or 0,
        actor=organizer.display_name or "organizer",
        action="summary.question_hidden" if hidden else "summary.question_shown",
        now=now,
        room_id=room.id,
        target=f"question {question.id}",
    )


async def list_summary_questions(db: AsyncSession, *, room_id: int) -> list[dict[str, Any]]:
    """Every question the summary may show, hidden or not, for the organizers to choose."""
    rows = await db.scalars(
        select(Question)
        .where(Question.room_id == room_id, Question.status.in_(("approved", "answered")))
        .order_by(Question.id)
    )
    return [
        {**_question(q), "status": q.status, "hidden": q.hidden_from_summary} for q in rows.all()
    ]
