"""The session report replays a recorded session: every figure is checked against the log by
expectations computed by hand from the script below (times in seconds after NOW)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from townhall.platform import floor, programme, questions, rooms
from townhall.platform.attendance import Headcount, record_presence_sample
from townhall.platform.models import Person
from townhall.platform.participants import create_participant
from townhall.platform.session_report import load_session_report, p90
from townhall.platform.viewers import Viewer

NOW = datetime(2021, 12, 8, 13, 5, tzinfo=UTC)
WORKSHOP_1 = "workshop-1-building-resilience"
PARIS = f"{WORKSHOP_1}.5"


def at(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


def z(seconds: int) -> str:
    return at(seconds).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def recorded(db, summit_spec) -> tuple[int, dict[str, int]]:
    """Thematic workshop 1, live from NOW: questions, votes, answers, three turns."""
    await programme.import_programme(db, spec=summit_spec)
    event = await programme.get_event(db, slug="mayors-summit-2021")
    session = await programme.get_session(db, event_id=event.id, slug=WORKSHOP_1)
    room_id = session.room.id
    await rooms.set_room_state(db, room_id=room_id, action="go_live", now=at(0))
    people = {
        p.key: p.id for p in await db.scalars(select(Person).where(Person.event_id == event.id))
    }
    panel = frozenset({room_id})

    async def viewer(name: str, key: str | None = None, **roles: Any) -> Viewer:
        participant = await create_participant(db, event_id=event.id, display_name=name, now=NOW)
        person_id = people[key] if key else None
        return Viewer(participant.id, name, event.id, person_id=person_id, **roles)

    mod = await viewer("Güldem", moderates=panel)
    sameh = await viewer("Sameh Wahba", "sameh-wahba", panelist_in=panel)
    lina = await viewer("Lina Liakou", "lina-liakou", panelist_in=panel)
    paris = await viewer("Mayor of Paris", PARIS, panelist_in=panel)
    ada, bob, cem = [await viewer(name) for name in ("Ada", "Bob", "Cem")]
    await db.commit()

    async def ask(
        who: Viewer, text: str, when: int, anonymous: bool = False, language: str | None = None
    ) -> int:
        question, _ = await questions.submit_question(
            db,
            room_id=room_id,
            viewer=who,
            text=text,
            anonymous=anonymous,
            language=language,
            now=at(when),
        )
        await db.commit()
        return question.id

    async def moderate(verb, question_id: int, when: int, **args: Any) -> None:
        await verb(
            db, room_id=room_id, question_id=question_id, moderator=mod, now=at(when), **args
        )
        await db.commit()

    async def turn(who: Viewer, asked: int, granted: int) -> int:
        request, _ = await floor.request_floor(
            db, room_id=room_id, viewer=who, kind="contribution", now=at(asked)
        )
        await floor.grant_floor(
            db, room_id=room_id, moderator=mod, now=at(granted), request_id=request.id
        )
        await db.commit()
        return request.id

    q = {"1": await ask(ada, "How do cities pay for resilience?", 10, language="en")}
    q["2"] = await ask(bob, "What about small towns?", 20, language="fr")
    turns = {"sameh": await turn(sameh, 30, 40)}
    q["3"] = await ask(cem, "Who measures progress?", 70, anonymous=True, language="fr")
    await moderate(questions.approve_question, q["1"], 80)
    await moderate(questions.approve_question, q["2"], 100)
    await moderate(questions.approve_question, q["3"], 130)
    for voter, question in ((bob, "1"), (cem, "1"), (ada, "3")):
        await questions.vote(
            db, room_id=room_id, question_id=q[question], viewer=voter, now=at(140), up=True
        )
    await questions.log_vote_counts(db, room_id=room_id, question_ids={q["1"], q["3"]}, now=at(150))
    await db.commit()
    turns["lina"] = await turn(lina, 100, 160)
    await moderate(questions.mark_answered, q["1"], 190, by="sameh-wahba")
    q["4"] = await ask(ada, "Off topic, sorry", 200)
    await moderate(questions.dismiss_question, q["4"], 205)
    await floor.end_turn(db, room_id=room_id, viewer=mod, now=at(220))
    turns["paris"] = await turn(paris, 225, 230)
    for seconds, audience, panel_count in ((0, 5, 1), (60, 8, 2), (120, 8, 2), (180, 3, 2)):
        await record_presence_sample(
            db,
            room_id=room_id,
            at=at(seconds),
            interval_seconds=60,
            headcount=Headcount(audience=audience, panel=panel_count, staff=1),
        )
    await db.commit()
    return room_id, {**{f"q{k}": v for k, v in q.items()}, **turns}


def turn(request: int, name: str, person: str, city: str | None, start: int, end: int, **kw):
    return {
        "request": request,
        "name": name,
        "person": person,
        "city": city,
        "kind": "contribution",
        "start": z(start),
        "end": z(end),
        "seconds": end - start,
        "ongoing": kw.get("ongoing", False),
    }


def row(question_id: int, text: str, author: str | None, votes: int, status: str, by=None):
    return {
        "id": question_id,
        "text": text,
        "author": author,
        "votes": votes,
        "status": status,
        "answered_by": by,
    }


async def test_session_report_figures_match_the_log_live_and_final(db, recorded) -> None:
    room_id, ids = recorded

    live = await load_session_report(db, room_id=room_id, now=at(260))
    await rooms.set_room_state(db, room_id=room_id, action="end", now=at(300))
    await floor.close_floor(db, room_id=room_id, now=at(300))
    await db.commit()
    final = await load_session_report(db, room_id=room_id, now=at(400))

    q1 = row(ids["q1"], "How do cities pay for resilience?", "Ada", 2, "answered", "Sameh Wahba")
    q2 = row(ids["q2"], "What about small towns?", "Bob", 0, "approved")
    q3 = row(ids["q3"], "Who measures progress?", None, 1, "approved")
    sameh = turn(ids["sameh"], "Sameh Wahba", "sameh-wahba", None, 40, 160)
    lina = turn(ids["lina"], "Lina Liakou", "lina-liakou", None, 160, 220)
    sample = {"audience": 5, "panel": 1, "staff": 1}
    expected_questions = {
        "asked": 4,
        "approved": 3,
        "answered": 1,
        "share": 1 / 3,
        "per_minute": [
            {"minute": z(0), "asked": 2, "approved": 0, "answered": 0},
            {"minute": z(60), "asked": 1, "approved": 2, "answered": 0},
            {"minute": z(120), "asked": 0, "approved": 1, "answered": 0},
            {"minute": z(180), "asked": 1, "approved": 0, "answered": 1},
        ],
        "to_approval": {"count": 3, "median_seconds": 70.0, "p90_seconds": 80.0},
        "to_answer": {"count": 1, "median_seconds": 180.0, "p90_seconds": 180.0},
        # q2 and q3 in French, q1 in English, q4 (dismissed) said none.
        "per_language": [
            {"language": "fr", "asked": 2, "approved": 2, "answered": 0},
            {"language": "en", "asked": 1, "approved": 1, "answered": 1},
            {"language": None, "asked": 1, "approved": 0, "answered": 0},
        ],
        "top": [q1, q3, q2],
        "top_unanswered": [q3, q2],
        "answered_questions": [q1],
    }
    expected_attendance = {
        "samples": [
            {"at": z(0), **sample},
            {"at": z(60), "audience": 8, "panel": 2, "staff": 1},
            {"at": z(120), "audience": 8, "panel": 2, "staff": 1},
            {"at": z(180), "audience": 3, "panel": 2, "staff": 1},
        ],
        "audience": {"peak": 8, "peak_at": z(60), "median": 6.5},
        "panel": {"peak": 2, "peak_at": z(60), "median": 2.0},
        "staff": {"peak": 1, "peak_at": z(0), "median": 1.0},
    }
    assert live == {
        "final": False,
        "state": "live",
        "generated_at": z(260),
        "states": [{"at": z(0), "state": "live"}],
        "attendance": expected_attendance,
        "questions": expected_questions,
        "floor": {
            "timeline": [
                sameh,
                lina,
                turn(ids["paris"], "Mayor of Paris", PARIS, "Paris", 230, 260, ongoing=True),
            ],
            "airtime": {
                "people": [
                    {
                        "name": "Sameh Wahba",
                        "person": "sameh-wahba",
                        "city": None,
                        "seconds": 120,
                        "turns": 1,
                    },
                    {
                        "name": "Lina Liakou",
                        "person": "lina-liakou",
                        "city": None,
                        "seconds": 60,
                        "turns": 1,
                    },
                    {
                        "name": "Mayor of Paris",
                        "person": PARIS,
                        "city": "Paris",
                        "seconds": 30,
                        "turns": 1,
                    },
                ],
                "cities": [
                    {"city": None, "seconds": 180, "turns": 2},
                    {"city": "Paris", "seconds": 30, "turns": 1},
                ],
            },
        },
    }
    paris = turn(ids["paris"], "Mayor of Paris", PARIS, "Paris", 230, 300)
    assert final["final"] is True and final["state"] == "ended"
    assert final["states"] == [{"at": z(0), "state": "live"}, {"at": z(300), "state": "ended"}]
    assert final["questions"] == expected_questions
    assert final["attendance"] == expected_attendance
    assert final["floor"]["timeline"] == [sameh, lina, paris]
    # The log's airtime is the floor table's airtime.
    assert final["floor"]["airtime"] == await floor.airtime(db, room_id=room_id)


def test_p90_is_the_nearest_rank() -> None:
    assert [p90([]), p90([5]), p90(list(range(1, 11))), p90(list(range(1, 12)))] == [
        None,
        5.0,
        9.0,
        10.0,
    ]
