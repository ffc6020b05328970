"""The session report: a room's story told in figures, read from its event log and presence
samples only (no counters kept on the side).

Every figure is a pure function of the room's ``room_events`` rows (as :class:`LoggedEvent`)
and its presence samples, so a replay of the log gives the same report, live or after the
room ended. :func:`load_session_report` reads both and calls :func:`build_report`.

Which events count:

- asked: ``question.submitted`` (one per question; the private copy for author and staff);
- approved: the first ``question.approved`` of a question (published at once when the room
  does not premoderate);
- answered: the first ``question.answered`` of a question;
- votes: the last count a ``question.*`` event or a ``question.votes_changed`` tally gave;
- turns: ``floor.granted`` (who, city, granted at) ended by ``floor.turn_ended`` (its
  ``seconds``); a turn under way is counted up to ``now``;
- states: ``room.state_changed``;
- languages: the ``language`` a question's events carry (the one it was asked in; null for a
  question whose client said none, or one asked before questions recorded it).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .attendance import list_presence_samples
from .models import Room, RoomEvent
from .room_log import LoggedEvent

TOP_QUESTIONS = 10
FINAL_STATES = ("ended", "archived")
UNANSWERED_STATUSES = ("approved",)


class Sample(Protocol):
    at: datetime
    audience: int
    panel: int
    staff: int


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the smallest value at least 90 % of values reach."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[math.ceil(0.9 * len(ordered)) - 1])


# ---- attendance ----------------------------------------------------------------------------
def attendance(samples: Iterable[Sample]) -> dict[str, Any]:
    """The headcount series (audience, panel, staff), with each one's peak and median."""
    rows = sorted(samples, key=lambda s: s.at)
    series = [
        {"at": iso(s.at), "audience": s.audience, "panel": s.panel, "staff": s.staff} for s in rows
    ]
    figures: dict[str, Any] = {}
    for part in ("audience", "panel", "staff"):
        values = [getattr(s, part) for s in rows]
        peak = max(values, default=None)
        figures[part] = {
            "peak": peak,
            "peak_at": iso(next(s.at for s in rows if getattr(s, part) == peak)) if rows else None,
            "median": median(values),
        }
    return {"samples": series, **figures}


# ---- questions -----------------------------------------------------------------------------
def _question_id(event: LoggedEvent) -> int | None:
    body = event.data.get("question")
    if isinstance(body, dict):
        return body.get("id")
    return body if isinstance(body, int) and event.name == "question.removed" else None


def question_moments(events: Iterable[LoggedEvent]) -> dict[int, dict[str, datetime]]:
    """When each question was asked, first approved and first answered."""
    moments: dict[int, dict[str, datetime]] = defaultdict(dict)
    names = {
        "question.submitted": "asked",
        "question.approved": "approved",
        "question.answered": "answered",
    }
    for event in events:
        step = names.get(event.name)
        qid = _question_id(event)
        if step is not None and qid is not None:
            moments[qid].setdefault(step, event.at)
    return dict(moments)


def final_questions(events: Iterable[LoggedEvent]) -> dict[int, dict[str, Any]]:
    """Each question as its last event left it (its fullest copy), with its last vote count."""
    found: dict[int, dict[str, Any]] = {}
    for event in events:
        if event.name == "question.votes_changed" and "votes" in event.data:
            for key, votes in event.data["votes"].items():
                if int(key) in found:
                    found[int(key)]["votes"] = votes
            continue
        body = event.data.get("question")
        if event.name.startswith("question.") and isinstance(body, dict) and "id" in body:
            found[body["id"]] = {**found.get(body["id"], {}), **body}
    return found


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def questions_per_minute(moments: dict[int, dict[str, datetime]]) -> list[dict[str, Any]]:
    """Asked, approved and answered per minute, every minute from the first to the last."""
    counts: dict[datetime, dict[str, int]] = defaultdict(
        lambda: {"asked": 0, "approved": 0, "answered": 0}
    )
    for steps in moments.values():
        for step, moment in steps.items():
            counts[_minute(moment)][step] += 1
    if not counts:
        return []
    first, last = min(counts), max(counts)
    rows = []
    minute = first
    while minute <= last:
        rows.append({"minute": iso(minute), **counts[minute]})
        minute += timedelta(minutes=1)
    return rows


def waits(moments: dict[int, dict[str, datetime]], step: str) -> dict[str, Any]:
    """Seconds from asking to ``step`` over the questions that reached it: median and p90."""
    seconds = [
        (steps[step] - steps["asked"]).total_seconds()
        for steps in moments.values()
        if step in steps and "asked" in steps
    ]
    return {"count": len(seconds), "median_seconds": median(seconds), "p90_seconds": p90(seconds)}


def answered_share(moments: dict[int, dict[str, datetime]]) -> dict[str, Any]:
    """Of the questions made public (approved), how many were answered."""
    approved = sum("approved" in steps for steps in moments.values())
    answered = sum("answered" in steps for steps in moments.values())
    return {
        "asked": sum("asked" in steps for steps in moments.values()),
        "approved": approved,
        "answered": answered,
        "share": answered / approved if approved else None,
    }


def questions_per_language(
    moments: dict[int, dict[str, datetime]], questions: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Asked, approved and answered per language asked in, most asked first (then by tag;
    the questions that said none last)."""
    rows: dict[str | None, dict[str, Any]] = {}
    for qid, steps in moments.items():
        if "asked" not in steps:
            continue
        language = questions.get(qid, {}).get("language")
        entry = rows.setdefault(
            language, {"language": language, "asked": 0, "approved": 0, "answered": 0}
        )
        for step in ("asked", "approved", "answered"):
            entry[step] += step in steps
    return sorted(
        rows.values(),
        key=lambda r: (-r["asked"], r["language"] is None, r["language"] or ""),
    )


def question_row(question: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": question["id"],
        "text": question["text"],
        "author": None if question.get("anonymous") else question.get("author"),
        "votes": question.get("votes", 0),
        "status": question["status"],
        "answered_by": question.get("answered_by"),
    }


def top_questions(
    questions: dict[int, dict[str, Any]], *, statuses: Sequence[str] = ("approved", "answered")
) -> list[dict[str, Any]]:
    """The public questions with the most votes (ties: the earlier question first)."""
    chosen = [q for q in questions.values() if q["status"] in statuses]
    chosen.sort(key=lambda q: (-q.get("votes", 0), q["id"]))
    return [question_row(q) for q in chosen[:TOP_QUESTIONS]]


# ---- the floor -----------------------------------------------------------------------------
def speaker_timeline(events: Iterable[LoggedEvent], now: datetime) -> list[dict[str, Any]]:
    """Every turn in order: who, from where, when, for how long (a turn under way: until
    ``now``, marked ``ongoing``)."""
    turns: dict[int, dict[str, Any]] = {}
    for event in events:
        if event.name == "floor.granted":
            speaking = event.data["floor"]["speaking"]
            turns[speaking["id"]] = {
                "request": speaking["id"],
                "name": speaking["name"],
                "person": speaking["person"],
                "city": speaking["city"],
                "kind": speaking["kind"],
                "start": speaking["granted_at"] or iso(event.at),
                "end": None,
                "seconds": None,
            }
        elif event.name == "floor.turn_ended":
            turn = turns.get(event.data["turn"]["request"])
            if turn is not None:
                turn["end"] = iso(event.at)
                turn["seconds"] = event.data["turn"]["seconds"]
    timeline = []
    for turn in turns.values():
        ongoing = turn["end"] is None
        if ongoing:
            turn["end"] = iso(now)
            turn["seconds"] = max(0, round((now - _parse(turn["start"])).total_seconds()))
        timeline.append({**turn, "ongoing": ongoing})
    return sorted(timeline, key=lambda t: (t["start"], t["request"]))


def airtime(timeline: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Seconds and turns per speaker and per city, most first."""
    people: dict[tuple[Any, ...], dict[str, Any]] = {}
    cities: dict[str | None, dict[str, Any]] = {}
    for turn in timeline:
        who = people.setdefault(
            (turn["person"], turn["name"]),
            {
                "name": turn["name"],
                "person": turn["person"],
                "city": turn["city"],
                "seconds": 0,
                "turns": 0,
            },
        )
        where = cities.setdefault(turn["city"], {"city": turn["city"], "seconds": 0, "turns": 0})
        for entry in (who, where):
            entry["seconds"] += turn["seconds"]
            entry["turns"] += 1
    return {
        "people": sorted(people.values(), key=lambda e: (-e["seconds"], e["name"])),
        "cities": sorted(cities.values(), key=lambda e: (-e["seconds"], e["city"] or "")),
    }


# ---- the room ------------------------------------------------------------------------------
def states(events: Iterable[LoggedEvent]) -> list[dict[str, Any]]:
    return [
        {"at": iso(e.at), "state": e.data["changes"]["state"]}
        for e in events
        if e.name == "room.state_changed" and "state" in e.data.get("changes", {})
    ]


def build_report(
    *, events: Sequence[LoggedEvent], samples: Iterable[Sample], now: datetime, state: str
) -> dict[str, Any]:
    """Every figure of the report, from the log (in ``seq`` order) and the samples."""
    moments = question_moments(events)
    questions = final_questions(events)
    timeline = speaker_timeline(events, now)
    return {
        "final": state in FINAL_STATES,
        "state": state,
        "generated_at": iso(now),
        "states": states(events),
        "attendance": attendance(samples),
        "questions": {
            **answered_share(moments),
            "per_minute": questions_per_minute(moments),
            "to_approval": waits(moments, "approved"),
            "to_answer": waits(moments, "answered"),
            "per_language": questions_per_language(moments, questions),
            "top": top_questions(questions),
            "top_unanswered": top_questions(questions, statuses=UNANSWERED_STATUSES),
            "answered_questions": [
                question_row(q)
                for q in sorted(questions.values(), key=lambda q: q["id"])
                if q["status"] == "answered"
            ],
        },
        "floor": {"timeline": timeline, "airtime": airtime(timeline)},
    }


async def list_room_events(db: AsyncSession, *, room_id: int) -> list[LoggedEvent]:
    """The room's whole log, in order (every epoch: a reset changes the epoch, not the seq)."""
    room = await db.get(Room, room_id)
    epoch = room.epoch if room is not None else ""
    rows = await db.scalars(
        select(RoomEvent).where(RoomEvent.room_id == room_id).order_by(RoomEvent.seq)
    )
    return [
        LoggedEvent(
            r.room_id, epoch, r.seq, r.name, r.data, r.visibility, r.participant_id, r.created_at
        )
        for r in rows.all()
    ]


async def load_session_report(db: AsyncSession, *, room_id: int, now: datetime) -> dict[str, Any]:
    room = await db.get(Room, room_id)
    state = room.state if room is not None else "scheduled"
    return build_report(
        events=await list_room_events(db, room_id=room_id),
        samples=await list_presence_samples(db, room_id=room_id),
        now=now,
        state=state,
    )
