"""For every action and every kind of viewer: snapshot before + visible events == snapshot after.

This is the guarantee clients rely on when they apply events instead of re-reading the room,
and it is also the visibility test: an audience member applying only public events (and their
own) must end with exactly the audience snapshot, which never holds another participant's
pending question or the participant behind an anonymous one.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from projection import apply, from_snapshot

from townhall.platform import programme, questions, rooms
from townhall.platform.participants import create_participant
from townhall.platform.room_log import LoggedEvent
from townhall.platform.viewers import Viewer

NOW = datetime(2021, 12, 8, 13, 5, tzinfo=UTC)
Step = Callable[[Any], Awaitable[list[LoggedEvent]]]


@pytest.fixture
async def world(db, summit_spec):
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(
        db, event_id=event.id, slug="workshop-1-building-resilience"
    )
    room_id = session.room.id
    await rooms.set_room_state(db, room_id=room_id, action="go_live", now=NOW)

    async def person(name: str, **roles: Any) -> Viewer:
        participant = await create_participant(db, event_id=event.id, display_name=name, now=NOW)
        return Viewer(participant.id, name, event.id, **roles)

    viewers = {
        "moderator": await person("Güldem", moderates=frozenset({room_id})),
        "author": await person("Ana"),
        "other": await person("Bo"),
        "panelist": await person("Sameh", panelist_in=frozenset({room_id})),
    }
    await db.commit()
    return room_id, viewers


async def snapshot(db, room_id: int, viewer: Viewer) -> dict[str, Any]:
    db.expire_all()
    room = await rooms.room_snapshot(db, room_id=room_id)
    return {
        "room": room["room"],
        **await questions.questions_snapshot(db, room_id=room_id, viewer=viewer),
    }


async def verify(db, room_id: int, viewers: dict[str, Viewer], step: Step) -> list[LoggedEvent]:
    before = {name: await snapshot(db, room_id, v) for name, v in viewers.items()}
    events = await step(db)
    await db.commit()
    for name, viewer in viewers.items():
        state = from_snapshot(before[name])
        for event in events:
            if event.room_id == room_id and viewer.can_see(
                room_id, event.visibility, event.participant_id
            ):
                # Through JSON, as a client receives it (integer keys become strings).
                state = apply(state, event.name, json.loads(json.dumps(event.data)))
        after = from_snapshot(await snapshot(db, room_id, viewer))
        assert state == after, f"{name}'s view diverges after {[e.name for e in events]}"
    return events


async def test_every_qa_action_projects_for_every_viewer(db, world, summit_spec) -> None:
    room_id, v = world
    mod, ana, bo = v["moderator"], v["author"], v["other"]
    ids: dict[str, int] = {}

    async def submit(key: str, viewer: Viewer, text: str, anonymous: bool = False, to=None):
        async def step(db):
            question, events = await questions.submit_question(
                db, room_id=room_id, viewer=viewer, text=text, anonymous=anonymous, to=to, now=NOW
            )
            ids[key] = question.id
            return events

        return step

    def moderate(action, key: str, **args):
        async def step(db):
            return await action(
                db, room_id=room_id, question_id=ids[key], moderator=mod, now=NOW, **args
            )

        return step

    async def voting(db):
        for voter in (bo, v["panelist"]):
            await questions.vote(
                db, room_id=room_id, question_id=ids["anon"], viewer=voter, now=NOW, up=True
            )
        await questions.vote(
            db, room_id=room_id, question_id=ids["dup"], viewer=mod, now=NOW, up=True
        )
        return await questions.log_vote_counts(
            db, room_id=room_id, question_ids={ids["anon"], ids["dup"]}, now=NOW
        )

    async def merge_duplicate(db):
        return await questions.merge_question(
            db, room_id=room_id, question_id=ids["dup"], moderator=mod, now=NOW, into=ids["anon"]
        )

    async def ban_bo(db):
        return await questions.ban_participant(
            db, room_id=room_id, participant_id=bo.participant_id, moderator=mod, now=NOW
        )

    async def premoderation_off(db):
        return await rooms.update_room(
            db, room_id=room_id, changes={"premoderation": False}, now=NOW
        )

    async def move_session(db):
        moved = tuple(
            dataclasses.replace(
                s,
                starts_at=s.starts_at + timedelta(minutes=30),
                ends_at=s.ends_at + timedelta(minutes=30),
            )
            if s.slug == "workshop-1-building-resilience"
            else s
            for s in summit_spec.sessions
        )
        result = await programme.import_programme(
            db, spec=dataclasses.replace(summit_spec, sessions=moved)
        )
        return result.events

    async def end_room(db):
        return await rooms.set_room_state(
            db, room_id=room_id, action="end", now=NOW + timedelta(minutes=1)
        )

    steps: list[Step] = [
        await submit("anon", ana, "How do cities <b>fund</b> resilience?", anonymous=True),
        await submit("named", bo, "What did Glasgow learn?", to="sameh-wahba"),
        moderate(questions.approve_question, "anon"),
        await submit("dup", ana, "How are cities funding resilience?"),
        moderate(questions.approve_question, "dup"),
        voting,
        moderate(questions.pin_question, "anon", position=0),
        moderate(questions.edit_question, "anon", text="How do cities fund urban resilience?"),
        merge_duplicate,
        moderate(questions.put_on_air, "anon"),
        moderate(questions.assign_question, "anon", to="lina-liakou"),
        moderate(questions.mark_answered, "anon", by="sameh-wahba"),
        await submit("removed", ana, "A question to withdraw later"),
        moderate(questions.approve_question, "removed"),
        moderate(questions.dismiss_question, "removed", reason="Off topic"),
        moderate(questions.restore_question, "removed"),
        moderate(questions.dismiss_question, "removed", reason="Off topic after all"),
        moderate(questions.dismiss_question, "named", reason="Asked already"),
        await submit("pending", bo, "One more from Bo"),
        ban_bo,
        moderate(questions.archive_question, "anon"),
        premoderation_off,
        move_session,
        await submit("direct", ana, "Published at once, no pre-moderation"),
        end_room,
    ]
    names: list[str] = []
    for step in steps:
        names += [e.name for e in await verify(db, room_id, v, step)]
    assert {
        "question.submitted",
        "question.approved",
        "question.votes_changed",
        "question.pinned",
        "question.edited",
        "question.merged",
        "question.on_air",
        "question.assigned",
        "question.answered",
        "question.dismissed",
        "question.restored",
        "question.removed",
        "question.archived",
        "question.counters_changed",
        "room.updated",
        "room.state_changed",
        "room.schedule_changed",
    } <= set(names)
