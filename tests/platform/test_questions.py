"""The Q&A domain: limits, privacy, pre-moderation, the word filter, votes, merges, races
between moderators, the one question on air, bans, and a property test of the queue."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.migrate import upgrade
from townhall.platform import programme, questions
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.errors import Conflict, DomainError, Forbidden, Invalid, InvalidState
from townhall.platform.models import Participant, Question, QuestionVote, Room
from townhall.platform.participants import create_participant
from townhall.platform.programme_spec import ProgrammeSpec
from townhall.platform.viewers import Viewer

SLUG = "mayors-summit-2021"
WORKSHOP_1 = "workshop-1-building-resilience"
NOW = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)


@dataclass(frozen=True)
class Stage:
    event_id: int
    room_id: int

    @property
    def moderator(self) -> Viewer:
        return Viewer(
            display_name="Moderator One",
            event_id=self.event_id,
            moderates=frozenset({self.room_id}),
        )


async def stage_summit(
    db: AsyncSession, spec: ProgrammeSpec, *, premoderation: bool = True
) -> Stage:
    await programme.import_programme(db, spec=spec)
    event = await programme.get_event(db, slug=SLUG)
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    room = session.room
    assert room is not None
    room.state, room.premoderation = "live", premoderation
    await db.commit()
    return Stage(event.id, room.id)


async def audience(db: AsyncSession, stage: Stage, name: str) -> Viewer:
    participant = await create_participant(db, event_id=stage.event_id, display_name=name, now=NOW)
    return Viewer(participant_id=participant.id, display_name=name, event_id=stage.event_id)


@pytest.fixture
async def stage(db: AsyncSession, summit_spec: ProgrammeSpec) -> Stage:
    return await stage_summit(db, summit_spec)


async def ask(
    db: AsyncSession,
    stage: Stage,
    viewer: Viewer,
    text: str = "What is resilience?",
    **options: Any,
) -> Question:
    question, _ = await questions.submit_question(
        db,
        room_id=stage.room_id,
        viewer=viewer,
        text=text,
        now=options.pop("now", NOW),
        anonymous=options.pop("anonymous", False),
        **options,
    )
    await db.commit()
    return question


def shape(events: list) -> list[tuple[str, str]]:
    return [(e.name, e.visibility) for e in events]


# ---- text limits -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ab", "question.too_short"),
        ("x" * 501, "question.too_long"),
        ("ring the bell\x07", "question.invalid_characters"),
        ("zero\u200bwidth space", "question.invalid_characters"),
        ("   \n  ", "question.too_short"),
    ],
)
async def test_submit_question_refuses_text_beyond_limits(db, stage: Stage, text: str, code: str):
    ada = await audience(db, stage, "Ada")

    with pytest.raises(Invalid) as refused:
        await questions.submit_question(
            db, room_id=stage.room_id, viewer=ada, text=text, anonymous=False, now=NOW
        )
    await db.rollback()

    stored = await db.scalar(select(func.count()).select_from(Question))
    assert (refused.value.code, stored) == (code, 0)


async def test_submit_question_keeps_line_breaks_and_trims(db, stage: Stage):
    ada = await audience(db, stage, "Ada")

    question = await ask(db, stage, ada, "  First line\r\nsecond line\twith a tab  ")

    assert question.text == "First line\nsecond line\twith a tab"


# ---- privacy and pre-moderation ----------------------------------------------------------
async def test_submit_question_anonymous_public_view_names_nobody(db, summit_spec):
    stage = await stage_summit(db, summit_spec, premoderation=False)
    ada = await audience(db, stage, "Ada")
    bob = await audience(db, stage, "Bob")

    question, events = await questions.submit_question(
        db,
        room_id=stage.room_id,
        viewer=ada,
        text="Who pays for this?",
        anonymous=True,
        language="en",
        now=NOW,
    )
    await db.commit()
    public = next(
        e.data["question"] for e in events if e.visibility == "public" and "question" in e.data
    )
    seen_by_bob = (await questions.questions_snapshot(db, room_id=stage.room_id, viewer=bob))[
        "questions"
    ]

    assert (public, seen_by_bob) == (
        {
            "id": question.id,
            "text": "Who pays for this?",
            "author": None,
            "anonymous": True,
            "to": None,
            "assigned_to": None,
            "status": "approved",
            "votes": 0,
            "pinned": None,
            "edited": False,
            "created_at": "2021-12-08T12:50:00Z",
            "answered_at": None,
            "answered_by": None,
            "merged_into": None,
            "language": "en",
        },
        [public],
    )


# ---- the language it was asked in --------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "stored"),
    [("fr", "fr"), ("TR", "tr"), ("fr-ca", "fr-CA"), ("zh-hant-tw", "zh-Hant-TW"), (None, None)],
)
async def test_submit_question_records_its_language_in_conventional_case(
    db, stage: Stage, given: str | None, stored: str | None
):
    ada = await audience(db, stage, "Ada")

    question, events = await questions.submit_question(
        db,
        room_id=stage.room_id,
        viewer=ada,
        text="Quelle résilience ?",
        anonymous=False,
        language=given,
        now=NOW,
    )
    await db.commit()
    question_id = question.id
    db.expire_all()
    again = await db.get(Question, question_id)
    [submitted] = [e for e in events if e.name == "question.submitted"]
    listed = await questions.list_room_questions(db, room_id=stage.room_id)

    assert (again.language, submitted.data["question"]["language"], listed[0]["language"]) == (
        stored,
        stored,
        stored,
    )


@pytest.mark.parametrize("given", ["french", "f", "fr_FR", "fr-", "fr-CA-x-y", "en-" + "a" * 9])
async def test_submit_question_refuses_what_is_not_a_language_tag(db, stage: Stage, given: str):
    ada = await audience(db, stage, "Ada")

    with pytest.raises(Invalid) as refused:
        await questions.submit_question(
            db,
            room_id=stage.room_id,
            viewer=ada,
            text="What is resilience?",
            anonymous=False,
            language=given,
            now=NOW,
        )
    await db.rollback()

    stored = await db.scalar(select(func.count()).select_from(Question))
    assert (refused.value.code, stored) == ("question.invalid_language", 0)


async def test_submit_question_premoderation_on_holds_it_for_the_moderators(db, stage: Stage):
    ada = await audience(db, stage, "Ada")
    bob = await audience(db, stage, "Bob")

    question, events = await questions.submit_question(
        db, room_id=stage.room_id, viewer=ada, text="Is it pending?", anonymous=False, now=NOW
    )
    await db.commit()
    bob_sees = await questions.questions_snapshot(db, room_id=stage.room_id, viewer=bob)
    ada_sees = await questions.questions_snapshot(db, room_id=stage.room_id, viewer=ada)

    assert (
        question.status,
        shape(events),
        bob_sees["questions"],
        [(q["id"], q["status"], q["participant"]) for q in ada_sees["questions"]],
    ) == (
        "pending",
        [("question.submitted", "participant"), ("question.counters_changed", "public")],
        [],
        [(question.id, "pending", ada.participant_id)],
    )


async def test_submit_question_premoderation_off_publishes_at_once(db, summit_spec):
    stage = await stage_summit(db, summit_spec, premoderation=False)
    ada = await audience(db, stage, "Ada")

    question, events = await questions.submit_question(
        db, room_id=stage.room_id, viewer=ada, text="Is it public?", anonymous=False, now=NOW
    )

    assert (question.status, shape(events)) == (
        "approved",
        [
            ("question.submitted", "participant"),
            ("question.approved", "public"),
            ("question.counters_changed", "public"),
        ],
    )


async def test_submit_question_word_filter_flags_and_holds(db, summit_spec):
    stage = await stage_summit(db, summit_spec, premoderation=False)
    await questions.update_room_questions_settings(db, room_id=stage.room_id, word_filter=["Scam"])
    ada = await audience(db, stage, "Ada")

    held = await ask(db, stage, ada, "Is this a SCAM or not?")
    passed = await ask(db, stage, ada, "Is this a plan or not?")

    assert [(q.status, q.flagged) for q in (held, passed)] == [
        ("pending", "matches the word filter: scam"),
        ("approved", None),
    ]


async def test_submit_question_with_the_same_ref_is_idempotent(db, stage: Stage):
    ada = await audience(db, stage, "Ada")

    first, first_events = await questions.submit_question(
        db, room_id=stage.room_id, viewer=ada, text="Once only?", anonymous=False, ref="r1", now=NOW
    )
    await db.commit()
    again, again_events = await questions.submit_question(
        db, room_id=stage.room_id, viewer=ada, text="Once only?", anonymous=False, ref="r1", now=NOW
    )
    await db.commit()

    stored = await db.scalar(select(func.count()).select_from(Question))
    assert (again.id, len(first_events) > 0, again_events, stored) == (first.id, True, [], 1)


async def test_submit_question_reusing_an_old_ref_asks_anew(db, stage: Stage):
    # Clients number their refs per page load; a ref seen long ago is not a retry.
    ada = await audience(db, stage, "Ada")
    first = await ask(db, stage, ada, "First question?", ref="c1")
    later = await ask(
        db, stage, ada, "Another question?", ref="c1", now=NOW + questions.RETRY_WINDOW * 2
    )
    stored = await db.scalar(select(func.count()).select_from(Question))
    assert (later.id != first.id, later.text, later.client_ref, stored) == (
        True,
        "Another question?",
        None,
        2,
    )


# ---- votes and merges --------------------------------------------------------------------
async def test_vote_counts_one_per_participant(db, summit_spec):
    stage = await stage_summit(db, summit_spec, premoderation=False)
    ada, bob = await audience(db, stage, "Ada"), await audience(db, stage, "Bob")
    question = await ask(db, stage, ada)

    counts = []
    for _ in range(2):
        counts.append(
            await questions.vote(
                db, room_id=stage.room_id, question_id=question.id, viewer=bob, now=NOW, up=True
            )
        )
        await db.commit()
    rows = await db.scalar(select(func.count()).select_from(QuestionVote))
    db.add(QuestionVote(question_id=question.id, participant_id=bob.participant_id, created_at=NOW))
    with pytest.raises(IntegrityError):
        await db.flush()
    await db.rollback()

    assert (counts, rows) == ([1, 1], 1)


async def test_merge_question_carries_votes_and_the_asker(db, summit_spec):
    stage = await stage_summit(db, summit_spec, premoderation=False)
    ada, bob, cem, dora = [await audience(db, stage, n) for n in ("Ada", "Bob", "Cem", "Dora")]
    duplicate = await ask(db, stage, ada, "Who funds resilience?")
    target = await ask(db, stage, dora, "Who pays for resilience plans?")
    for voter, question in ((bob, duplicate), (cem, duplicate), (bob, target)):
        await questions.vote(
            db, room_id=stage.room_id, question_id=question.id, viewer=voter, now=NOW, up=True
        )
    await db.commit()

    events = await questions.merge_question(
        db,
        room_id=stage.room_id,
        question_id=duplicate.id,
        moderator=stage.moderator,
        now=NOW,
        into=target.id,
    )
    await db.commit()

    voters = set(
        (
            await db.scalars(
                select(QuestionVote.participant_id).where(QuestionVote.question_id == target.id)
            )
        ).all()
    )
    await db.refresh(target)
    await db.refresh(duplicate)
    assert (voters, target.votes, duplicate.status, duplicate.merged_into, shape(events)) == (
        {ada.participant_id, bob.participant_id, cem.participant_id},
        3,
        "merged",
        target.id,
        [
            ("question.removed", "public"),
            ("question.merged", "participant"),
            ("question.votes_changed", "public"),
            ("question.votes_changed", "participant"),
        ],
    )


# ---- moderators racing -------------------------------------------------------------------
async def test_dismiss_question_conflicts_when_another_moderator_acted_first(
    sessionmaker: async_sessionmaker[AsyncSession], summit_spec, monkeypatch: pytest.MonkeyPatch
):
    async with sessionmaker() as db:
        stage = await stage_summit(db, summit_spec)
        question = await ask(db, stage, await audience(db, stage, "Ada"), to="sameh-wahba")
    first = Viewer(
        display_name="First", event_id=stage.event_id, moderates=frozenset({stage.room_id})
    )
    real_people = questions._people
    raced = False

    async def people_then_race(db: AsyncSession, room: Room) -> Any:
        """The second moderator has loaded the question; the first one commits now."""
        nonlocal raced
        if not raced:
            raced = True
            async with sessionmaker() as other:
                await questions.approve_question(
                    other, room_id=stage.room_id, question_id=question.id, moderator=first, now=NOW
                )
                await other.commit()
        return await real_people(db, room)

    monkeypatch.setattr(questions, "_people", people_then_race)
    async with sessionmaker() as second:
        with pytest.raises(Conflict) as lost:
            await questions.dismiss_question(
                second,
                room_id=stage.room_id,
                question_id=question.id,
                moderator=stage.moderator,
                now=NOW,
            )
        await second.rollback()
        stored = await second.get(Question, question.id)

    assert (
        lost.value.code,
        lost.value.details["question"]["status"],
        stored.status,
        stored.version,
    ) == (
        "question.conflict",
        "approved",
        "approved",
        2,
    )


async def test_conflict_carries_the_question_as_moderators_see_it(
    sessionmaker: async_sessionmaker[AsyncSession], summit_spec, monkeypatch: pytest.MonkeyPatch
):
    async with sessionmaker() as db:
        stage = await stage_summit(db, summit_spec)
        question = await ask(db, stage, await audience(db, stage, "Ada"), to="sameh-wahba")
    real_people = questions._people
    raced = False

    async def people_then_race(db: AsyncSession, room: Room) -> Any:
        nonlocal raced
        if not raced:
            raced = True
            async with sessionmaker() as other:
                await questions.approve_question(
                    other,
                    room_id=stage.room_id,
                    question_id=question.id,
                    moderator=stage.moderator,
                    now=NOW,
                )
                await other.commit()
        return await real_people(db, room)

    monkeypatch.setattr(questions, "_people", people_then_race)
    async with sessionmaker() as second:
        with pytest.raises(Conflict) as lost:
            await questions.dismiss_question(
                second,
                room_id=stage.room_id,
                question_id=question.id,
                moderator=stage.moderator,
                now=NOW,
            )
        await second.rollback()
    monkeypatch.setattr(questions, "_people", real_people)
    async with sessionmaker() as db:
        snapshot = await questions.questions_snapshot(
            db, room_id=stage.room_id, viewer=stage.moderator
        )

    assert lost.value.details["question"] == snapshot["questions"][0], (
        "BUG (townhall/platform/questions.py _guarded_update): the Conflict carries "
        "private_json(question, {}) - without the people, so 'to' and 'assigned_to' are null "
        "in the 'fresh state' a client merges after losing a race."
    )


async def test_approve_question_twice_says_it_is_no_longer_pending(db, stage: Stage):
    question = await ask(db, stage, await audience(db, stage, "Ada"))
    await questions.approve_question(
        db, room_id=stage.room_id, question_id=question.id, moderator=stage.moderator, now=NOW
    )
    await db.commit()

    with pytest.raises(InvalidState) as refused:
        await questions.approve_question(
            db, room_id=stage.room_id, question_id=question.id, moderator=stage.moderator, now=NOW
        )

    assert (refused.value.code, refused.value.details["question"]["status"]) == (
        "question.not_pending",
        "approved",
    )


# ---- undoing a dismissal --------------------------------------------------------------------
async def test_restore_question_puts_it_back_where_it_was(db, stage: Stage):
    ada = await audience(db, stage, "Ada")
    waiting = await ask(db, stage, ada, "Still waiting?")
    published = await ask(db, stage, ada, "Published once?")
    await questions.approve_question(
        db, room_id=stage.room_id, question_id=published.id, moderator=stage.moderator, now=NOW
    )
    mod = {"db": db, "room_id": stage.room_id, "moderator": stage.moderator, "now": NOW}
    for question in (waiting, published):
        await questions.dismiss_question(**mod, question_id=question.id, reason="Off topic")
    await db.commit()

    shapes = []
    for question in (waiting, published):
        shapes.append(shape(await questions.restore_question(**mod, question_id=question.id)))
        await db.commit()
        await db.refresh(question)
    counters = await questions.counters(db, stage.room_id)

    assert (
        [(q.status, q.dismiss_reason) for q in (waiting, published)],
        shapes,
        counters["dismissed"],
    ) == (
        [("pending", None), ("approved", None)],
        [
            [("question.restored", "participant"), ("question.counters_changed", "public")],
            [
                ("question.restored", "public"),
                ("question.restored", "participant"),
                ("question.counters_changed", "public"),
            ],
        ],
        0,
    )


async def test_restore_question_refuses_what_was_not_dismissed_or_a_banned_asker(db, stage: Stage):
    ada = await audience(db, stage, "Ada")
    waiting = await ask(db, stage, ada, "Never dismissed?")
    banned = await ask(db, stage, ada, "Dismissed before the ban?")
    mod = {"db": db, "room_id": stage.room_id, "moderator": stage.moderator, "now": NOW}
    await questions.approve_question(**mod, question_id=waiting.id)  # a ban leaves it be
    await questions.dismiss_question(**mod, question_id=banned.id)
    await questions.ban_participant(**mod, participant_id=ada.participant_id)
    await db.commit()

    codes = []
    for question in (waiting, banned):
        with pytest.raises(InvalidState) as refused:
            await questions.restore_question(**mod, question_id=question.id)
        codes.append(refused.value.code)
    with pytest.raises(Forbidden) as forbidden:
        await questions.restore_question(**{**mod, "moderator": ada}, question_id=banned.id)

    assert (codes, forbidden.value.code) == (
        ["question.invalid_transition", "question.asker_banned"],
        "room.forbidden",
    )


# ---- on air, bans --------------------------------------------------------------------------
async def test_put_on_air_keeps_one_question_on_air(db, summit_spec):
    stage = await stage_summit(db, summit_spec, premoderation=False)
    ada = await audience(db, stage, "Ada")
    first, second = await ask(db, stage, ada, "First?"), await ask(db, stage, ada, "Second?")

    on_air = []
    for question in (first, second, None):
        events = await questions.put_on_air(
            db,
            room_id=stage.room_id,
            moderator=stage.moderator,
            now=NOW,
            question_id=question and question.id,
        )
        await db.commit()
        on_air.append([e.data for e in events if e.name == "question.on_air"])

    assert on_air == [
        [{"question": first.id, "previous": None}],
        [{"question": second.id, "previous": first.id}],
        [{"question": None, "previous": second.id}],
    ]


async def test_put_on_air_approves_a_pending_question(db, stage: Stage):
    question = await ask(db, stage, await audience(db, stage, "Ada"))

    events = await questions.put_on_air(
        db, room_id=stage.room_id, question_id=question.id, moderator=stage.moderator, now=NOW
    )
    await db.commit()
    await db.refresh(question)

    assert (question.status, shape(events)) == (
        "approved",
        [
            ("question.approved", "public"),
            ("question.approved", "participant"),
            ("question.counters_changed", "public"),
            ("question.on_air", "public"),
        ],
    )


async def test_ban_participant_logs_dismissals_with_the_full_view(db, stage: Stage):
    ada = await audience(db, stage, "Ada")
    pending = await ask(db, stage, ada, "Pending and put to a panelist?", to="sameh-wahba")

    events = await questions.ban_participant(
        db,
        room_id=stage.room_id,
        participant_id=ada.participant_id,
        moderator=stage.moderator,
        now=NOW,
    )
    await db.commit()
    snapshot = await questions.questions_snapshot(db, room_id=stage.room_id, viewer=stage.moderator)

    dismissed = [e.data["question"] for e in events if e.name == "question.dismissed"]
    assert dismissed == [q for q in snapshot["questions"] if q["id"] == pending.id], (
        "BUG (townhall/platform/questions.py ban_participant): the question.dismissed events are "
        "logged with _Log(db, question_room, {}, now) - no people - so their view has 'to' and "
        "'assigned_to' null, and clients merging it lose whom the question was for."
    )


async def test_ban_participant_dismisses_their_pending_questions(db, stage: Stage):
    ada, bob = await audience(db, stage, "Ada"), await audience(db, stage, "Bob")
    pending = await ask(db, stage, ada, "Pending?")
    approved = await ask(db, stage, ada, "Approved?")
    others = await ask(db, stage, bob, "Bob's?")
    await questions.approve_question(
        db, room_id=stage.room_id, question_id=approved.id, moderator=stage.moderator, now=NOW
    )

    await questions.ban_participant(
        db,
        room_id=stage.room_id,
        participant_id=ada.participant_id,
        moderator=stage.moderator,
        now=NOW,
    )
    await db.commit()

    statuses = {
        q.id: (q.status, q.dismiss_reason) for q in (await db.scalars(select(Question))).all()
    }
    banned = (await db.get(Participant, ada.participant_id)).banned_at
    assert (statuses, banned) == (
        {
            pending.id: ("dismissed", "removed by a moderator"),
            approved.id: ("approved", None),
            others.id: ("pending", None),
        },
        NOW,
    )


async def test_dismiss_pinned_question_renumbers_the_next_up_list(db, summit_spec):
    stage = await stage_summit(db, summit_spec, premoderation=False)
    ada = await audience(db, stage, "Ada")
    first, second, third = [await ask(db, stage, ada, f"Question {n}?") for n in (1, 2, 3)]
    for position, question in enumerate((first, second, third)):
        await questions.pin_question(
            db,
            room_id=stage.room_id,
            question_id=question.id,
            moderator=stage.moderator,
            now=NOW,
            position=position,
        )
    await db.commit()

    events = await questions.dismiss_question(
        db, room_id=stage.room_id, question_id=second.id, moderator=stage.moderator, now=NOW
    )
    await db.commit()
    positions = {q.id: q.pinned_position for q in (await db.scalars(select(Question))).all()}
    pinned_events = [e.data for e in events if e.name == "question.pinned"]

    assert (positions, pinned_events) == (
        {first.id: 0, second.id: None, third.id: 1},
        [{"pinned": [first.id, third.id]}],
    ), (
        "dismissing a pinned question must renumber the rest (no gap in next up) and log "
        "question.pinned, or clients keep the dismissed id in their next-up list"
    )


# ---- the queue as a state machine --------------------------------------------------------
QUESTION = st.integers(0, 4)
PIN = st.tuples(st.just("pin"), QUESTION, st.sampled_from([None, 0, 1, 2, 3]))
ACTION = st.one_of(  # pins twice over: the next-up list needs several to be interesting
    PIN,
    PIN,
    st.tuples(st.just("submit"), st.integers(0, 2), st.booleans()),
    st.tuples(st.just("approve"), QUESTION),
    st.tuples(st.just("dismiss"), QUESTION),
    st.tuples(st.just("restore"), QUESTION),
    st.tuples(st.just("vote"), st.integers(0, 2), QUESTION),
    st.tuples(st.just("unvote"), st.integers(0, 2), QUESTION),
    st.tuples(st.just("merge"), QUESTION, QUESTION),
    st.tuples(st.just("on_air"), st.integers(-1, 4)),
    st.tuples(st.just("answered"), QUESTION),
    st.tuples(st.just("archive"), QUESTION),
)


@pytest.fixture(scope="module")
def summit_sqlite(tmp_path_factory: pytest.TempPathFactory, summit_spec: ProgrammeSpec) -> Path:
    """A migrated SQLite file with the Summit in it, copied for each example."""
    path = tmp_path_factory.mktemp("queue") / "summit.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)

    async def load() -> None:
        engine = make_engine(url)
        async with make_sessionmaker(engine)() as db:
            await programme.import_programme(db, spec=summit_spec)
            await db.commit()
        await engine.dispose()

    asyncio.run(load())
    return path


async def act(
    db: AsyncSession, stage: Stage, people: list[Viewer], ids: list[int], step: tuple
) -> None:
    kind, *args = step
    mod = {"db": db, "room_id": stage.room_id, "moderator": stage.moderator, "now": NOW}

    def pick(index: int) -> int:
        return ids[index % len(ids)]

    if kind == "submit":
        question, _ = await questions.submit_question(
            db,
            room_id=stage.room_id,
            viewer=people[args[0]],
            text=f"Question {len(ids)}?",
            anonymous=args[1],
            now=NOW,
        )
        ids.append(question.id)
    elif not ids:
        return
    elif kind in ("vote", "unvote"):
        await questions.vote(
            db,
            room_id=stage.room_id,
            question_id=pick(args[1]),
            viewer=people[args[0]],
            now=NOW,
            up=kind == "vote",
        )
    elif kind == "on_air":
        await questions.put_on_air(**mod, question_id=None if args[0] < 0 else pick(args[0]))
    elif kind == "merge":
        await questions.merge_question(**mod, question_id=pick(args[0]), into=pick(args[1]))
    elif kind == "pin":
        await questions.pin_question(**mod, question_id=pick(args[0]), position=args[1])
    else:
        action = {
            "approve": questions.approve_question,
            "dismiss": questions.dismiss_question,
            "restore": questions.restore_question,
            "answered": questions.mark_answered,
            "archive": questions.archive_question,
        }[kind]
        await action(**mod, question_id=pick(args[0]))


async def broken_invariants(
    db: AsyncSession, stage: Stage, onlooker: Viewer, asker: Viewer
) -> list[str]:
    broken = []
    room = await db.get(Room, stage.room_id, populate_existing=True)
    rows = {
        q.id: q
        for q in (
            await db.scalars(select(Question).execution_options(populate_existing=True))
        ).all()
    }
    if room.on_air_question_id is not None and rows[room.on_air_question_id].status != "approved":
        broken.append(
            f"on air: question {room.on_air_question_id} is {rows[room.on_air_question_id].status}"
        )
    counted = dict(
        (
            await db.execute(
                select(QuestionVote.question_id, func.count()).group_by(QuestionVote.question_id)
            )
        ).all()
    )
    for q in rows.values():
        if q.votes != counted.get(q.id, 0):
            broken.append(f"votes: question {q.id} says {q.votes}, has {counted.get(q.id, 0)} rows")
    pinned = sorted(
        (q.pinned_position, q.id, q.status) for q in rows.values() if q.pinned_position is not None
    )
    if [p for p, _, _ in pinned] != list(range(len(pinned))) or any(
        s != "approved" for *_, s in pinned
    ):
        broken.append(f"pins: (position, id, status) {pinned}")
    for viewer in (onlooker, asker):
        for view in (await questions.questions_snapshot(db, room_id=stage.room_id, viewer=viewer))[
            "questions"
        ]:
            row = rows[view["id"]]
            if row.participant_id == viewer.participant_id:
                continue
            if row.status not in ("approved", "answered"):
                broken.append(f"audience sees {row.status} question {row.id} of someone else")
            if "participant" in view or (row.anonymous and view["author"] is not None):
                broken.append(f"audience sees who asked question {row.id}")
    return broken


# No shrinking phase: each example runs on its own database file, and shrinking a long failing
# sequence takes minutes. The assertion prints every step up to the failure instead.
@settings(
    max_examples=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# A regression found by this test: dismissing a pinned question left a gap in the positions.
@example(
    premoderation=False,
    asked=[("submit", 0, False), ("submit", 1, False)],
    later=[("pin", 0, 0), ("pin", 1, 1), ("dismiss", 0)],
)
@given(
    premoderation=st.booleans(),
    asked=st.lists(
        st.tuples(st.just("submit"), st.integers(0, 2), st.booleans()), min_size=1, max_size=5
    ),
    later=st.lists(ACTION, min_size=5, max_size=20),
)
async def test_question_queue_keeps_its_invariants(
    summit_sqlite: Path, premoderation, asked, later
):
    steps = asked + later
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "queue.db"
        shutil.copyfile(summit_sqlite, path)
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            sessions = make_sessionmaker(engine)
            async with sessions() as db:
                event = await programme.get_event(db, slug=SLUG)
                session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
                assert session.room is not None
                session.room.state, session.room.premoderation = "live", premoderation
                stage = Stage(event.id, session.room.id)
                people = [await audience(db, stage, name) for name in ("Ada", "Bob", "Cem")]
                onlooker = await audience(db, stage, "Onlooker")
                await db.commit()
            ids: list[int] = []
            for number, step in enumerate(steps):
                async with sessions() as db:
                    try:
                        await act(db, stage, people, ids, step)
                        await db.commit()
                    except DomainError:
                        await db.rollback()
                async with sessions() as db:
                    broken = await broken_invariants(db, stage, onlooker, people[0])
                assert not broken, (
                    f"invariants broken after step {number} {step}; steps so far "
                    f"{steps[: number + 1]}: {broken}"
                )
        finally:
            await engine.dispose()
