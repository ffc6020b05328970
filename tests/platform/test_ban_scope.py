"""Who may remove whom: a moderator only participants who joined one of their rooms, an
organizer anyone; the removal holds in every room of the event (docs/security.md)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from test_questions import NOW, Stage, ask, audience, stage_summit

from townhall.platform import programme, questions
from townhall.platform.errors import Forbidden
from townhall.platform.models import Participant
from townhall.platform.programme_spec import ProgrammeSpec
from townhall.platform.viewers import Viewer

WORKSHOP_3 = "workshop-3-dialogue-solidarity"


async def room_of(db: AsyncSession, event_id: int, slug: str) -> int:
    session = await programme.get_session(db, event_id=event_id, slug=slug)
    assert session.room is not None
    session.room.state = "live"
    await db.commit()
    return session.room.id


async def ban(db: AsyncSession, *, room_id: int, who: str, by: Viewer, present: bool = False):
    events = await questions.ban_participant(
        db,
        room_id=room_id,
        participant_id=who,
        moderator=by,
        now=NOW,
        present_in_their_rooms=present,
    )
    await db.commit()
    return events


def moderator_of(stage: Stage, room_id: int) -> Viewer:
    return Viewer(display_name="Moderator", event_id=stage.event_id, moderates=frozenset({room_id}))


@pytest.fixture
async def stage(db: AsyncSession, summit_spec: ProgrammeSpec) -> Stage:
    return await stage_summit(db, summit_spec, premoderation=False)


async def test_a_moderator_cannot_remove_someone_seen_only_in_another_room(db, stage: Stage):
    workshop_3 = await room_of(db, stage.event_id, WORKSHOP_3)
    ada = await audience(db, stage, "Ada")
    await ask(db, stage, ada, "Asked in workshop 1 only?")

    with pytest.raises(Forbidden) as refused:
        await ban(
            db, room_id=workshop_3, who=ada.participant_id, by=moderator_of(stage, workshop_3)
        )
    await db.rollback()

    assert refused.value.code == "participant.ban_scope"
    assert (await db.get(Participant, ada.participant_id)).banned_at is None


async def test_a_moderator_removes_someone_who_asked_or_voted_in_their_room(db, stage: Stage):
    ada, bob, cy = [await audience(db, stage, name) for name in ("Ada", "Bob", "Cy")]
    question = await ask(db, stage, ada, "Asked here?")
    await questions.vote(
        db, room_id=stage.room_id, question_id=question.id, viewer=bob, now=NOW, up=True
    )
    await db.commit()
    moderator = moderator_of(stage, stage.room_id)

    await ban(db, room_id=stage.room_id, who=ada.participant_id, by=moderator)
    await ban(db, room_id=stage.room_id, who=bob.participant_id, by=moderator)
    with pytest.raises(Forbidden) as refused:  # Cy only exists: never in this room
        await ban(db, room_id=stage.room_id, who=cy.participant_id, by=moderator)
    await db.rollback()

    banned = {
        name: (await db.get(Participant, v.participant_id)).banned_at is not None
        for name, v in (("Ada", ada), ("Bob", bob), ("Cy", cy))
    }
    assert (banned, refused.value.code) == (
        {"Ada": True, "Bob": True, "Cy": False},
        "participant.ban_scope",
    )


async def test_presence_in_their_room_is_enough_and_the_removal_holds_event_wide(db, stage: Stage):
    workshop_3 = await room_of(db, stage.event_id, WORKSHOP_3)
    ada = await audience(db, stage, "Ada")  # watching workshop 3, said nothing

    await ban(
        db,
        room_id=workshop_3,
        who=ada.participant_id,
        by=moderator_of(stage, workshop_3),
        present=True,
    )
    banned_ada = Viewer(participant_id=ada.participant_id, event_id=stage.event_id, banned=True)

    with pytest.raises(Forbidden) as refused:  # workshop 1, where the ban was not made
        await ask(db, stage, banned_ada, "Back in workshop 1?")
    assert refused.value.code == "participant.banned"


async def test_an_organizer_removes_anyone_in_the_event(db, stage: Stage):
    workshop_3 = await room_of(db, stage.event_id, WORKSHOP_3)
    ada = await audience(db, stage, "Ada")
    organizer = Viewer(display_name="Organizer", event_id=stage.event_id, organizer=True)

    await ban(db, room_id=workshop_3, who=ada.participant_id, by=organizer)

    assert (await db.get(Participant, ada.participant_id)).banned_by == "Organizer"
