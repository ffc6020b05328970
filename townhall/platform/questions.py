"""Live Q&A: the audience asks and votes, moderators run the queue.

Visibility is the heart of it. A pending, dismissed, archived or merged question is seen only by
the moderators and by its author; approved and answered questions are public, and public data
never names the participant behind an anonymous question. Each action therefore logs its
events on the right tier: a public event carries the public view of a question, an event for
the author (and the moderators) carries the full view. Clients merge views by question id.

Concurrent moderators: every change is a conditional ``UPDATE … WHERE version = seen``; the
loser gets :class:`Conflict` carrying the question as it now is.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .access import record
from .errors import Conflict, Forbidden, Invalid, InvalidState, NotFound
from .languages import clean_language
from .models import (
    Appearance,
    Invitation,
    Participant,
    Person,
    ProgrammeSession,
    Question,
    QuestionVote,
    Room,
)
from .room_log import LoggedEvent, append_event
from .seats import credit_name
from .viewers import Viewer

PUBLIC_STATUSES = ("approved", "answered")
ASKING_STATES = ("open", "live")
MAX_REASON = 300
MAX_FILTER_WORDS = 200
# A submission retried with the same ref within this time is the same question.
RETRY_WINDOW = timedelta(minutes=15)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def is_public(question: Question) -> bool:
    return question.status in PUBLIC_STATUSES


def clean_text(raw: str, *, minimum: int, maximum: int) -> str:
    """Trim, normalise line ends, refuse control characters; store as plain text."""
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if any(unicodedata.category(c) in {"Cc", "Cf", "Co", "Cs"} and c not in "\n\t" for c in text):
        raise Invalid(
            "questions cannot contain control characters", code="question.invalid_characters"
        )
    if len(text) < minimum:
        raise Invalid(
            f"a question needs at least {minimum} characters",
            code="question.too_short",
            minimum=minimum,
        )
    if len(text) > maximum:
        raise Invalid(
            f"a question has at most {maximum} characters",
            code="question.too_long",
            maximum=maximum,
        )
    return text


def flag_for(text: str, words: list[str]) -> str | None:
    lowered = text.casefold()
    hits = [w for w in words if w and w.casefold() in lowered]
    return f"matches the word filter: {', '.join(hits)}" if hits else None


def public_json(question: Question, people: dict[int, Person]) -> dict[str, Any]:
    to = people.get(question.to_person_id) if question.to_person_id else None
    assigned = people.get(question.assigned_person_id) if question.assigned_person_id else None
    return {
        "id": question.id,
        "text": question.text,
        "author": None if question.anonymous else question.author_name,
        "anonymous": question.anonymous,
        "to": _person_ref(to),
        "assigned_to": _person_ref(assigned),
        "status": question.status,
        "votes": question.votes,
        "pinned": question.pinned_position,
        "edited": question.edited,
        "created_at": _iso(question.created_at),
        "answered_at": _iso(question.answered_at),
        "answered_by": question.answered_by,
        "merged_into": question.merged_into,
        "language": question.language,
    }


def private_json(question: Question, people: dict[int, Person]) -> dict[str, Any]:
    """What moderators and the author see: the participant behind it, flags, reasons."""
    return {
        **public_json(question, people),
        "participant": question.participant_id,
        "author_name": question.author_name,
        "flagged": question.flagged,
        "dismiss_reason": question.dismiss_reason,
    }


def _person_ref(person: Person | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"key": person.key, "name": credit_name(person), "city": person.city}


async def _people(db: AsyncSession, room: Room) -> dict[int, Person]:
    session = await db.get(ProgrammeSession, room.session_id)
    assert session is not None
    rows = await db.scalars(select(Person).where(Person.event_id == session.event_id))
    return {p.id: p for p in rows.all()}


async def _room(db: AsyncSession, room_id: int) -> Room:
    room = await db.get(Room, room_id)
    if room is None:
        raise NotFound(f"room {room_id} does not exist", code="room.not_found")
    return room


async def _question(db: AsyncSession, room_id: int, question_id: int) -> Question:
    question = await db.get(Question, question_id, populate_existing=True)
    if question is None or question.room_id != room_id:
        raise NotFound(f"question {question_id} is not in this room", code="question.not_found")
    return question


async def counters(db: AsyncSession, room_id: int) -> dict[str, int]:
    """The public counters of transparent moderation."""
    by_status = dict(
        (
            await db.execute(
                select(Question.status, func.count())
                .where(Question.room_id == room_id)
                .group_by(Question.status)
            )
        ).all()
    )
    published, answered = (
        await db.execute(
            select(func.count(Question.published_at), func.count(Question.answered_at)).where(
                Question.room_id == room_id
            )
        )
    ).one()
    return {
        "received": sum(by_status.values()),
        "approved": published,
        "answered": answered,
        "dismissed": by_status.get("dismissed", 0),
    }


class _Log:
    """The events one action causes, in order, each on its tier."""

    def __init__(self, db: AsyncSession, room: Room, people: dict[int, Person], now: datetime):
        self.db, self.room, self.people, self.now = db, room, people, now
        self.events: list[LoggedEvent] = []

    async def public(self, name: str, data: dict[str, Any]) -> None:
        self.events.append(
            await append_event(self.db, room_id=self.room.id, name=name, data=data, at=self.now)
        )

    async def private(self, name: str, question: Question, **extra: Any) -> None:
        """For the question's author and the moderators."""
        self.events.append(
            await append_event(
                self.db,
                room_id=self.room.id,
                name=name,
                data={"question": private_json(question, self.people), **extra},
                visibility="participant",
                participant_id=question.participant_id,
                at=self.now,
            )
        )

    async def question(self, name: str, question: Question, was_public: bool, **extra: Any) -> None:
        """Public view if the audience may see it now; a removal if it just left their view."""
        if is_public(question):
            await self.public(name, {"question": public_json(question, self.people), **extra})
        elif was_public:
            await self.public("question.removed", {"question": question.id, **extra})
        await self.private(name, question)

    async def counters(self) -> None:
        await self.public(
            "question.counters_changed", {"counters": await counters(self.db, self.room.id)}
        )


async def _guarded_update(db: AsyncSession, question: Question, **values: Any) -> None:
    """Apply ``values`` only if nobody changed the question since we read it."""
    seen = question.version
    result = await db.execute(
        update(Question)
        .where(Question.id == question.id, Question.version == seen)
        .values(**values, version=seen + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        await db.refresh(question)
        room = await _room(db, question.room_id)
        raise Conflict(
            "another moderator changed this question first",
            code="question.conflict",
            question=private_json(question, await _people(db, room)),
        )
    await db.refresh(question)


async def _panelist_in_room(db: AsyncSession, room: Room, key: str) -> Person:
    session = await db.get(ProgrammeSession, room.session_id)
    assert session is not None
    person = await db.scalar(
        select(Person)
        .join(Appearance, Appearance.person_id == Person.id)
        .where(
            Person.event_id == session.event_id,
            Person.key == key,
            Appearance.session_id == session.id,
        )
        .limit(1)
    )
    if person is None:
        raise Invalid(f"{key!r} is not on this session's panel", code="question.unknown_panelist")
    return person


async def find_by_ref(
    db: AsyncSession, *, room_id: int, viewer: Viewer, ref: str
) -> Question | None:
    """The question this participant already submitted in the room with this ``ref``."""
    return await db.scalar(
        select(Question).where(
            Question.room_id == room_id,
            Question.participant_id == viewer.participant_id,
            Question.client_ref == ref,
        )
    )


async def submit_question(
    db: AsyncSession,
    *,
    room_id: int,
    viewer: Viewer,
    text: str,
    anonymous: bool,
    now: datetime,
    to: str | None = None,
    ref: str | None = None,
    language: str | None = None,
) -> tuple[Question, list[LoggedEvent]]:
    """Ask a question; a retry with the same ``ref`` returns the first one, unchanged.

    ``language`` is the one it was asked in (the client offers the interface language by
    default); None when the client did not say.
    """
    if viewer.participant_id is None:
        raise Forbidden("join the event before asking", code="auth.required")
    if viewer.banned:
        raise Forbidden("you have been removed from this event", code="participant.banned")
    room = await _room(db, room_id)
    if ref is not None:
        existing = await find_by_ref(db, room_id=room_id, viewer=viewer, ref=ref)
        if existing is not None and existing.created_at > now - RETRY_WINDOW:
            return existing, []
        if existing is not None:
            ref = None  # a client reusing an old ref asks anew (no retry is that late)
    if room.state not in ASKING_STATES:
        raise InvalidState(
            f"questions open with the room; it is {room.state}", code="question.room_closed"
        )
    clean = clean_text(text, minimum=room.question_min_length, maximum=room.question_max_length)
    tag = clean_language(language)
    person = await _panelist_in_room(db, room, to) if to else None
    flagged = flag_for(clean, list(room.word_filter or []))
    published = not room.premoderation and flagged is None
    question = Question(
        room_id=room_id,
        participant_id=viewer.participant_id,
        author_name=viewer.display_name or "Guest",
        anonymous=anonymous,
        text=clean,
        to_person_id=person.id if person else None,
        status="approved" if published else "pending",
        flagged=flagged,
        client_ref=ref,
        language=tag,
        created_at=now,
        updated_at=now,
        published_at=now if published else None,
    )
    db.add(question)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError:
        raise Conflict("this question was already submitted", code="question.duplicate") from None
    log = _Log(db, room, await _people(db, room), now)
    await log.private("question.submitted", question)
    if published:
        await log.public("question.approved", {"question": public_json(question, log.people)})
    await log.counters()
    return question, log.events


async def _moderate(
    db: AsyncSession, *, room_id: int, question_id: int, moderator: Viewer, now: datetime
) -> tuple[Room, Question, _Log]:
    if not moderator.is_staff(room_id):
        raise Forbidden("only the room's moderators may do that", code="room.forbidden")
    room = await _room(db, room_id)
    question = await _question(db, room_id, question_id)
    return room, question, _Log(db, room, await _people(db, room), now)


async def _audit(
    db: AsyncSession,
    room: Room,
    moderator: Viewer,
    action: str,
    question: Question,
    now: datetime,
    **data: Any,
) -> None:
    session = await db.get(ProgrammeSession, room.session_id)
    assert session is not None
    await record(
        db,
        event_id=session.event_id,
        actor=moderator.display_name or "moderator",
        action=action,
        room_id=room.id,
        target=f"question {question.id}",
        now=now,
        data=data,
    )


async def approve_question(
    db: AsyncSession, *, room_id: int, question_id: int, moderator: Viewer, now: datetime
) -> list[LoggedEvent]:
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    if question.status != "pending":
        raise InvalidState(
            f"the question is {question.status}, not pending",
            code="question.not_pending",
            question=private_json(question, log.people),
        )
    await _guarded_update(db, question, status="approved", published_at=now, updated_at=now)
    await log.question("question.approved", question, was_public=False)
    await log.counters()
    await _audit(db, room, moderator, "question.approved", question, now)
    return log.events


async def dismiss_question(
    db: AsyncSession,
    *,
    room_id: int,
    question_id: int,
    moderator: Viewer,
    now: datetime,
    reason: str | None = None,
) -> list[LoggedEvent]:
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    if question.status not in ("pending", "approved"):
        raise InvalidState(
            f"a {question.status} question cannot be dismissed",
            code="question.invalid_transition",
            question=private_json(question, log.people),
        )
    reason = " ".join((reason or "").split())[:MAX_REASON] or None
    was_public, was_pinned = is_public(question), question.pinned_position is not None
    await _guarded_update(
        db,
        question,
        status="dismissed",
        dismiss_reason=reason,
        pinned_position=None,
        updated_at=now,
    )
    await _leave_air(db, room, question, log)
    await log.question("question.dismissed", question, was_public)
    if was_pinned:
        await _renumber_pins(db, room, log)
    await log.counters()
    await _audit(db, room, moderator, "question.dismissed", question, now, reason=reason)
    return log.events


async def restore_question(
    db: AsyncSession, *, room_id: int, question_id: int, moderator: Viewer, now: datetime
) -> list[LoggedEvent]:
    """Undo a dismissal: the question goes back to where it was, published or waiting.

    It was published if it had been approved before (``published_at``); its reason goes. Not
    for questions a ban dismissed: the asker is still banned, and a ban is undone elsewhere.
    """
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    if question.status != "dismissed":
        raise InvalidState(
            f"a {question.status} question cannot be restored",
            code="question.invalid_transition",
            question=private_json(question, log.people),
        )
    participant = await db.get(Participant, question.participant_id)
    if participant is None or participant.banned_at is not None:
        raise InvalidState(
            "its asker was removed from the event",
            code="question.asker_banned",
            question=private_json(question, log.people),
        )
    status = "approved" if question.published_at is not None else "pending"
    await _guarded_update(db, question, status=status, dismiss_reason=None, updated_at=now)
    await log.question("question.restored", question, was_public=False)
    await log.counters()
    await _audit(db, room, moderator, "question.restored", question, now, status=status)
    return log.events


async def edit_question(
    db: AsyncSession, *, room_id: int, question_id: int, moderator: Viewer, now: datetime, text: str
) -> list[LoggedEvent]:
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    if question.status == "merged":
        raise InvalidState("a merged question cannot be edited", code="question.invalid_transition")
    clean = clean_text(text, minimum=room.question_min_length, maximum=room.question_max_length)
    original = question.text
    await _guarded_update(db, question, text=clean, edited=True, updated_at=now)
    await log.question("question.edited", question, is_public(question))
    await _audit(
        db, room, moderator, "question.edited", question, now, original=original, text=clean
    )
    return log.events


async def merge_question(
    db: AsyncSession, *, room_id: int, question_id: int, moderator: Viewer, now: datetime, into: int
) -> list[LoggedEvent]:
    """Fold a duplicate into another question: its votes (and its asker) carry over."""
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    target = await _question(db, room_id, into)
    if target.id == question.id:
        raise Invalid("a question cannot be merged into itself", code="question.merge_self")
    if question.status == "merged" or target.status in ("merged", "dismissed"):
        raise InvalidState("only live questions can be merged", code="question.invalid_transition")
    was_public, was_pinned = is_public(question), question.pinned_position is not None
    await _guarded_update(
        db, question, status="merged", merged_into=target.id, pinned_position=None, updated_at=now
    )
    await _leave_air(db, room, question, log)
    voters = set(
        (
            await db.scalars(
                select(QuestionVote.participant_id).where(QuestionVote.question_id == question.id)
            )
        ).all()
    )
    voters.add(question.participant_id)
    already = set(
        (
            await db.scalars(
                select(QuestionVote.participant_id).where(QuestionVote.question_id == target.id)
            )
        ).all()
    )
    for participant in sorted(voters - already - {target.participant_id}):
        db.add(QuestionVote(question_id=target.id, participant_id=participant, created_at=now))
    await db.flush()
    # Counted inside the UPDATE, so a vote landing meanwhile is not lost.
    total = select(func.count()).where(QuestionVote.question_id == target.id).scalar_subquery()
    await _guarded_update(db, target, votes=total, updated_at=now)
    await log.question("question.merged", question, was_public)
    if was_pinned:
        await _renumber_pins(db, room, log)
    await log.question("question.votes_changed", target, is_public(target))
    await _audit(db, room, moderator, "question.merged", question, now, into=target.id)
    return log.events


async def _leave_air(db: AsyncSession, room: Room, question: Question, log: _Log) -> None:
    if room.on_air_question_id == question.id:
        room.on_air_question_id = None
        await db.flush()
        await log.public("question.on_air", {"question": None, "previous": question.id})


async def put_on_air(
    db: AsyncSession, *, room_id: int, question_id: int | None, moderator: Viewer, now: datetime
) -> list[LoggedEvent]:
    """Show one question on air (``None`` takes the current one off); one per room at most."""
    if not moderator.is_staff(room_id):
        raise Forbidden("only the room's moderators may do that", code="room.forbidden")
    room = await _room(db, room_id)
    log = _Log(db, room, await _people(db, room), now)
    if question_id is not None:
        question = await _question(db, room_id, question_id)
        if question.status == "pending":
            await _guarded_update(db, question, status="approved", published_at=now, updated_at=now)
            await log.question("question.approved", question, was_public=False)
            await log.counters()
        elif question.status != "approved":
            raise InvalidState(
                f"a {question.status} question cannot go on air", code="question.invalid_transition"
            )
    previous = room.on_air_question_id
    changed = await db.execute(
        update(Room)
        .where(Room.id == room_id, _same(Room.on_air_question_id, previous))
        .values(on_air_question_id=question_id)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise Conflict("another moderator changed what is on air first", code="question.conflict")
    room.on_air_question_id = question_id
    await log.public("question.on_air", {"question": question_id, "previous": previous})
    if question_id is not None:
        await _audit(
            db, room, moderator, "question.on_air", await _question(db, room_id, question_id), now
        )
    return log.events


def _same(column: Any, value: int | None) -> Any:
    return column.is_(None) if value is None else column == value


def answer_credit(
    question: Question, people: dict[int, Person], *, chosen: Person | None = None
) -> str | None:
    """Who answered: the person the moderator picked, else the assignee, else the addressee,
    else nobody said (``None``). Never the moderator by default: they ran the question."""
    for person_id in (
        chosen.id if chosen else None,
        question.assigned_person_id,
        question.to_person_id,
    ):
        if person_id is not None and (person := people.get(person_id)) is not None:
            return credit_name(person)
    return None


async def mark_answered(
    db: AsyncSession,
    *,
    room_id: int,
    question_id: int,
    moderator: Viewer,
    now: datetime,
    by: str | None = None,
) -> list[LoggedEvent]:
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    if question.status != "approved":
        raise InvalidState(
            f"a {question.status} question cannot be marked answered",
            code="question.invalid_transition",
        )
    was_pinned = question.pinned_position is not None
    chosen = await _panelist_in_room(db, room, by) if by else None
    name = answer_credit(question, log.people, chosen=chosen)
    await _guarded_update(
        db,
        question,
        status="answered",
        answered_at=now,
        pinned_position=None,
        answered_by=name,
        updated_at=now,
    )
    await _leave_air(db, room, question, log)
    await log.question("question.answered", question, was_public=True)
    if was_pinned:
        await _renumber_pins(db, room, log)
    await log.counters()
    await _audit(db, room, moderator, "question.answered", question, now, by=name)
    return log.events


async def archive_question(
    db: AsyncSession, *, room_id: int, question_id: int, moderator: Viewer, now: datetime
) -> list[LoggedEvent]:
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    if question.status not in ("approved", "answered", "dismissed"):
        raise InvalidState(
            f"a {question.status} question cannot be archived", code="question.invalid_transition"
        )
    was_public, was_pinned = is_public(question), question.pinned_position is not None
    await _guarded_update(db, question, status="archived", pinned_position=None, updated_at=now)
    await _leave_air(db, room, question, log)
    await log.question("question.archived", question, was_public)
    if was_pinned:
        await _renumber_pins(db, room, log)
    await log.counters()
    await _audit(db, room, moderator, "question.archived", question, now)
    return log.events


async def pin_question(
    db: AsyncSession,
    *,
    room_id: int,
    question_id: int,
    moderator: Viewer,
    now: datetime,
    position: int | None,
) -> list[LoggedEvent]:
    """Put a question in the "next up" list at ``position`` (0 = first), or take it out."""
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    if position is not None and question.status != "approved":
        raise InvalidState(
            "only approved questions can be pinned", code="question.invalid_transition"
        )
    pinned = [
        q
        for q in (
            await db.scalars(
                select(Question)
                .where(Question.room_id == room_id, Question.pinned_position.is_not(None))
                .order_by(Question.pinned_position, Question.id)
            )
        ).all()
        if q.id != question.id
    ]
    if position is not None:
        pinned.insert(max(0, min(position, len(pinned))), question)
    else:
        question.pinned_position = None
    for index, item in enumerate(pinned):
        item.pinned_position = index
    question.version += 1
    await db.flush()
    await log.public("question.pinned", {"pinned": [q.id for q in pinned]})
    await _audit(db, room, moderator, "question.pinned", question, now, position=position)
    return log.events


async def _renumber_pins(db: AsyncSession, room: Room, log: _Log) -> None:
    pinned = (
        await db.scalars(
            select(Question)
            .where(Question.room_id == room.id, Question.pinned_position.is_not(None))
            .order_by(Question.pinned_position, Question.id)
        )
    ).all()
    for index, item in enumerate(pinned):
        item.pinned_position = index
    await db.flush()
    await log.public("question.pinned", {"pinned": [q.id for q in pinned]})


async def assign_question(
    db: AsyncSession,
    *,
    room_id: int,
    question_id: int,
    moderator: Viewer,
    now: datetime,
    to: str | None,
) -> list[LoggedEvent]:
    room, question, log = await _moderate(
        db, room_id=room_id, question_id=question_id, moderator=moderator, now=now
    )
    person = await _panelist_in_room(db, room, to) if to else None
    await _guarded_update(
        db, question, assigned_person_id=person.id if person else None, updated_at=now
    )
    await log.question("question.assigned", question, is_public(question))
    await _audit(db, room, moderator, "question.assigned", question, now, to=to)
    return log.events


async def vote(
    db: AsyncSession, *, room_id: int, question_id: int, viewer: Viewer, now: datetime, up: bool
) -> int:
    """Add or remove the viewer's vote; the database keeps it to one per participant."""
    if viewer.participant_id is None:
        raise Forbidden("join the event before voting", code="auth.required")
    if viewer.banned:
        raise Forbidden("you have been removed from this event", code="participant.banned")
    question = await _question(db, room_id, question_id)
    if up and question.status != "approved":
        raise InvalidState("only open questions take votes", code="question.not_votable")
    key = (
        QuestionVote.question_id == question.id,
        QuestionVote.participant_id == viewer.participant_id,
    )
    if up:
        try:
            async with db.begin_nested():
                db.add(
                    QuestionVote(
                        question_id=question.id,
                        participant_id=viewer.participant_id,
                        created_at=now,
                    )
                )
                await db.flush()
            changed = 1
        except IntegrityError:
            changed = 0  # already voted (maybe from another tab, on another process)
    else:
        changed = -(await db.execute(delete(QuestionVote).where(*key))).rowcount
    if changed:
        await db.execute(
            update(Question)
            .where(Question.id == question.id)
            .values(votes=Question.votes + changed)
            .execution_options(synchronize_session=False)
        )
    return await db.scalar(select(Question.votes).where(Question.id == question.id)) or 0


async def log_vote_counts(
    db: AsyncSession, *, room_id: int, question_ids: set[int], now: datetime
) -> list[LoggedEvent]:
    """One coalesced ``question.votes_changed`` for many votes: counts, not increments."""
    rows = (
        await db.execute(
            select(Question.id, Question.votes, Question.status).where(
                Question.room_id == room_id, Question.id.in_(question_ids)
            )
        )
    ).all()
    public = {str(qid): votes for qid, votes, status in rows if status in PUBLIC_STATUSES}
    if not public:
        return []
    return [
        await append_event(
            db, room_id=room_id, name="question.votes_changed", data={"votes": public}, at=now
        )
    ]


async def took_part_in(db: AsyncSession, participant_id: str, room_ids: frozenset[int]) -> bool:
    """Whether the participant asked or voted in one of ``room_ids``: what a room keeps of who
    joined it (a participant who only watched leaves no row; the realtime layer knows who is in
    a room now)."""
    if not room_ids:
        return False
    rooms = sorted(room_ids)
    asked = select(Question.id).where(
        Question.participant_id == participant_id, Question.room_id.in_(rooms)
    )
    voted = (
        select(QuestionVote.question_id)
        .join(Question, Question.id == QuestionVote.question_id)
        .where(QuestionVote.participant_id == participant_id, Question.room_id.in_(rooms))
    )
    return bool(await db.scalar(select(asked.exists())) or await db.scalar(select(voted.exists())))


async def ban_participant(
    db: AsyncSession,
    *,
    room_id: int,
    participant_id: str,
    moderator: Viewer,
    now: datetime,
    present_in_their_rooms: bool = False,
) -> list[LoggedEvent]:
    """Remove a participant from the whole event: pending questions vanish, new ones are refused.

    Organizers may remove anyone. A moderator may remove only a participant who joined one of
    the rooms they moderate: one who asked or voted there, or (``present_in_their_rooms``, which
    the realtime layer reads from presence) is in one of them now."""
    if not moderator.is_staff(room_id):
        raise Forbidden("only the room's moderators may do that", code="room.forbidden")
    participant = await db.get(Participant, participant_id)
    room = await _room(db, room_id)
    session = await db.get(ProgrammeSession, room.session_id)
    assert session is not None
    if participant is None or participant.event_id != session.event_id:
        raise NotFound("no such participant in this event", code="participant.not_found")
    if participant_id == moderator.participant_id:
        raise Invalid("you cannot ban yourself", code="participant.ban_self")
    if not (
        moderator.organizer
        or present_in_their_rooms
        or await took_part_in(db, participant_id, moderator.moderates)
    ):
        raise Forbidden(
            "a moderator may remove only participants who joined one of their rooms; "
            "an organizer can remove anyone",
            code="participant.ban_scope",
        )
    holds_invitation = await db.scalar(
        select(func.count()).where(
            Invitation.participant_id == participant_id,
            Invitation.event_id == session.event_id,
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
    )
    if holds_invitation:
        raise Forbidden(
            "organizers, moderators and panelists cannot be banned; "
            "an organizer can revoke their invitation instead",
            code="participant.ban_staff",
        )
    participant.banned_at, participant.banned_by = now, moderator.display_name
    await db.flush()
    events: list[LoggedEvent] = []
    pending = (
        await db.scalars(
            select(Question).where(
                Question.participant_id == participant_id, Question.status == "pending"
            )
        )
    ).all()
    for question in pending:
        question_room = await _room(db, question.room_id)
        log = _Log(db, question_room, await _people(db, question_room), now)
        await _guarded_update(
            db,
            question,
            status="dismissed",
            dismiss_reason="removed by a moderator",
            updated_at=now,
        )
        await log.private("question.dismissed", question)
        await log.counters()
        events.extend(log.events)
    await record(
        db,
        event_id=session.event_id,
        actor=moderator.display_name or "moderator",
        action="participant.banned",
        room_id=room_id,
        target=participant_id,
        now=now,
    )
    return events


async def shared_questions_snapshot(db: AsyncSession, *, room_id: int, tier: str) -> dict[str, Any]:
    """The Q&A part of a room snapshot that every viewer of ``tier`` shares.

    Staff see every question in full; everyone else the public ones, in their public form.
    What is a viewer's own (their pending questions, their votes) is in
    :func:`own_questions_snapshot`, so this part can be built once and sent to thousands."""
    room = await _room(db, room_id)
    people = await _people(db, room)
    questions = (
        await db.scalars(select(Question).where(Question.room_id == room_id).order_by(Question.id))
    ).all()
    if tier == "staff":
        visible = [private_json(q, people) for q in questions]
    else:
        visible = [public_json(q, people) for q in questions if is_public(q)]
    pinned = sorted(
        (q for q in questions if q.pinned_position is not None),
        key=lambda q: (q.pinned_position, q.id),
    )
    return {
        "questions": visible,
        "counters": await counters(db, room_id),
        "on_air": room.on_air_question_id,
        "pinned": [q.id for q in pinned],
    }


async def own_questions_snapshot(
    db: AsyncSession, *, room_id: int, participant_ids: list[str]
) -> dict[str, dict[str, Any]]:
    """For each participant: their questions in the room (in full) and the ids they voted for.

    One pair of queries for any number of participants (joins are read in batches)."""
    mine: dict[str, dict[str, Any]] = {
        p: {"questions": [], "my_votes": []} for p in participant_ids
    }
    if not participant_ids:
        return mine
    room = await _room(db, room_id)
    people = await _people(db, room)
    own = await db.scalars(
        select(Question)
        .where(Question.room_id == room_id, Question.participant_id.in_(participant_ids))
        .order_by(Question.id)
    )
    for question in own:
        mine[question.participant_id]["questions"].append(private_json(question, people))
    votes = await db.execute(
        select(QuestionVote.participant_id, QuestionVote.question_id)
        .join(Question, Question.id == QuestionVote.question_id)
        .where(Question.room_id == room_id, QuestionVote.participant_id.in_(participant_ids))
        .order_by(QuestionVote.question_id)
    )
    for participant_id, question_id in votes:
        mine[participant_id]["my_votes"].append(question_id)
    return mine


def with_own(shared: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A viewer's Q&A state: the shared part with their own questions and votes laid over it
    (what clients do with a snapshot's ``state`` and ``mine``)."""
    by_id = {q["id"]: q for q in shared.get("questions", [])}
    by_id.update({q["id"]: q for q in own.get("questions", [])})
    return {
        **shared,
        "questions": [by_id[k] for k in sorted(by_id)],
        "my_votes": list(own.get("my_votes", [])),
    }


async def questions_snapshot(db: AsyncSession, *, room_id: int, viewer: Viewer) -> dict[str, Any]:
    """The Q&A part of a room snapshot, as ``viewer`` may see it."""
    shared = await shared_questions_snapshot(db, room_id=room_id, tier=viewer.tier(room_id))
    own: dict[str, Any] = {}
    if viewer.participant_id:
        own = (
            await own_questions_snapshot(
                db, room_id=room_id, participant_ids=[viewer.participant_id]
            )
        )[viewer.participant_id]
    return with_own(shared, own)


async def list_room_questions(db: AsyncSession, *, room_id: int) -> list[dict[str, Any]]:
    """Every question of a room with its full record (exports, moderators and organizers)."""
    room = await _room(db, room_id)
    people = await _people(db, room)
    questions = (
        await db.scalars(select(Question).where(Question.room_id == room_id).order_by(Question.id))
    ).all()
    return [
        {
            **private_json(q, people),
            "published_at": _iso(q.published_at),
            "updated_at": _iso(q.updated_at),
        }
        for q in questions
    ]


async def update_room_questions_settings(
    db: AsyncSession,
    *,
    room_id: int,
    minimum: int | None = None,
    maximum: int | None = None,
    word_filter: list[str] | None = None,
) -> Room:
    room = await _room(db, room_id)
    low = room.question_min_length if minimum is None else minimum
    high = room.question_max_length if maximum is None else maximum
    if not 1 <= low <= high <= 5000:
        raise Invalid(
            "question length limits must satisfy 1 <= min <= max <= 5000",
            code="room.invalid_limits",
        )
    room.question_min_length, room.question_max_length = low, high
    if word_filter is not None:
        words = sorted({" ".join(w.split()).casefold() for w in word_filter if w.strip()})
        if len(words) > MAX_FILTER_WORDS or any(len(w) > 60 for w in words):
            raise Invalid(
                f"the word filter takes at most {MAX_FILTER_WORDS} words of 60 characters",
                code="room.invalid_filter",
            )
        room.word_filter = words
    await db.flush()
    return room
