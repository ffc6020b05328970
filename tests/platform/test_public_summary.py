"""The public summary: what it shows once a room has ended, what organizers hide, and who may."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from townhall.platform import programme, questions, rooms
from townhall.platform.errors import Forbidden
from townhall.platform.models import AuditEntry
from townhall.platform.participants import create_participant
from townhall.platform.public_summary import (
    list_summary_questions,
    public_summary,
    set_question_hidden_from_summary,
    set_summary_hidden,
)
from townhall.platform.viewers import Viewer

NOW = datetime(2021, 12, 8, 13, 5, tzinfo=UTC)


async def test_summary_shows_public_questions_once_ended_and_obeys_organizers(
    db, summit_spec
) -> None:
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(
        db, event_id=event.id, slug="workshop-1-building-resilience"
    )
    room_id = session.room.id
    await rooms.set_room_state(db, room_id=room_id, action="go_live", now=NOW)
    ada = await create_participant(db, event_id=event.id, display_name="Ada", now=NOW)
    asker = Viewer(ada.id, "Ada", event.id)
    mod = Viewer(None, "Güldem", event.id, moderates=frozenset({room_id}))
    organizer = Viewer(None, "Olga", event.id, organizer=True)
    ids = []
    for text in ("Answered one?", "Open one?", "Never approved?"):
        question, _ = await questions.submit_question(
            db, room_id=room_id, viewer=asker, text=text, anonymous=False, now=NOW
        )
        ids.append(question.id)
    for question_id in ids[:2]:
        await questions.approve_question(
            db, room_id=room_id, question_id=question_id, moderator=mod, now=NOW
        )
    await questions.mark_answered(
        db, room_id=room_id, question_id=ids[0], moderator=mod, now=NOW, by="sameh-wahba"
    )
    live = await public_summary(db, room_id=room_id)
    await rooms.set_room_state(db, room_id=room_id, action="end", now=NOW + timedelta(hours=1))

    ended = await public_summary(db, room_id=room_id)
    with pytest.raises(Forbidden) as refused:
        await set_summary_hidden(db, room_id=room_id, hidden=True, organizer=mod, now=NOW)
    with pytest.raises(Forbidden):
        other_event = Viewer(None, "Elsewhere", event.id + 1, organizer=True)
        await set_summary_hidden(db, room_id=room_id, hidden=True, organizer=other_event, now=NOW)
    await set_question_hidden_from_summary(
        db, room_id=room_id, question_id=ids[1], hidden=True, organizer=organizer, now=NOW
    )
    without_open = await public_summary(db, room_id=room_id)
    curation = await list_summary_questions(db, room_id=room_id)
    await set_summary_hidden(db, room_id=room_id, hidden=True, organizer=organizer, now=NOW)
    hidden = await public_summary(db, room_id=room_id)
    audit = (
        await db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("summary.%")))
    ).all()

    answered = {
        "id": ids[0],
        "text": "Answered one?",
        "author": "Ada",
        "votes": 0,
        "answered_by": "Sameh Wahba",
    }
    still_open = {**answered, "id": ids[1], "text": "Open one?", "answered_by": None}
    assert (live["available"], live["answered"]) == (False, [])
    assert (ended["available"], ended["answered"], ended["unanswered"]) == (
        True,
        [answered],
        [still_open],
    )
    assert ended["speakers"][:2] == [
        {
            "name": "Ms. Güldem Özdoğan, DPhil (tbc)",
            "role": "moderator",
            "city": None,
            "organisation": "Newcastle University",
        },
        {
            "name": "Mr. Sameh Wahba",
            "role": "introduction",
            "city": None,
            "organisation": "Urban, Disaster Risk Management, Resilience and Land Global "
            "Practice, World Bank",
        },
    ]
    assert refused.value.code == "organizer.required"
    assert (without_open["answered"], without_open["unanswered"]) == ([answered], [])
    assert curation == [
        {**answered, "status": "answered", "hidden": False},
        {**still_open, "status": "approved", "hidden": True},
    ]
    assert (hidden["available"], hidden["hidden"], hidden["answered"]) == (False, True, [])
    assert list(audit) == ["summary.question_hidden", "summary.hidden"]
