"""Answer credit: the picked person, else the assignee, else the addressee, else nobody said.

Never the moderator by default; the public view, the moderators' record and the audit log say
the same name.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from test_questions import NOW, Stage, ask, audience, stage_summit

from townhall.platform import questions
from townhall.platform.models import AuditEntry

WORKSHOP_1 = "workshop-1-building-resilience"


@pytest.fixture
async def stage(db, summit_spec) -> Stage:
    return await stage_summit(db, summit_spec)


async def _answer(db, stage: Stage, *, to=None, assign=None, by=None):
    ada = await audience(db, stage, "Ada")
    question = await ask(db, stage, ada, "How do we fund resilience?", to=to)
    mod = dict(db=db, room_id=stage.room_id, moderator=stage.moderator, now=NOW)
    if assign:
        await questions.assign_question(**mod, question_id=question.id, to=assign)
    await questions.put_on_air(**mod, question_id=question.id)
    events = await questions.mark_answered(**mod, question_id=question.id, by=by)
    await db.commit()
    public = next(e.data["question"] for e in events if e.name == "question.answered")
    record = (await questions.list_room_questions(db, room_id=stage.room_id))[0]
    audit = (
        await db.scalars(select(AuditEntry).where(AuditEntry.action == "question.answered"))
    ).one()
    return public["answered_by"], record["answered_by"], audit.data


@pytest.mark.parametrize(
    ("to", "assign", "by", "credited"),
    [
        (None, "sameh-wahba", None, "Sameh Wahba"),
        ("lina-liakou", "sameh-wahba", None, "Sameh Wahba"),
        ("lina-liakou", None, None, "Lina Liakou"),
        (f"{WORKSHOP_1}.5", None, None, "Mayor of Paris"),
        ("lina-liakou", "sameh-wahba", "rusen-keles", "Ruşen Keleş"),
        (None, None, None, None),
    ],
)
async def test_mark_answered_credits_assignee_then_addressee_never_the_moderator(
    db, stage: Stage, to, assign, by, credited
):
    public, record, audit = await _answer(db, stage, to=to, assign=assign, by=by)

    assert (public, record, audit) == (credited, credited, {"by": credited})
