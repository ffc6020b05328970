"""A flood from one participant on 10 sockets across both processes: their limits hold for the
participant, event-wide, not per socket or per process — questions (5 a minute), votes (5 a
second) and the command budget every command but ``ping`` counts against (``burst + rate`` a
second over all their sockets, counted in Redis). The flooder gets typed ``rate_limited``
errors with ``retry_after``, no socket is closed, and the others in the room get the
moderator's changes as fast as before, and end with the database's log and state. Prints what
was accepted and refused, and the others' delivery latency (from the moderator sending a change
to its arrival) before and during the flood."""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter

import pytest
from checks import (
    Writer,
    approved_question,
    assert_nothing_lost,
    live_room,
    one_participant,
    percentile,
    summary,
)
from sqlalchemy import func, select
from support.clients import Client
from support.stack import Stack

from townhall.platform.models import Question, QuestionVote
from townhall.realtime.qa import QUESTIONS_PER_MINUTE, VOTES_PER_SECOND
from townhall.settings import Settings

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

SOCKETS = 10  # 5 on each process
FLOOD = 6.0  # seconds
PER_SECOND = 40  # commands each socket sends a second, without waiting for answers
OTHERS = 10  # on each process
DEFAULTS = Settings()


async def flood(client: Client, room: int, question: int, until: float) -> list[str]:
    """Send submit, vote, unvote and ping in turn, ``PER_SECOND`` a second, never waiting;
    the refs sent."""
    refs = []
    kinds = itertools.cycle(("question.submit", "question.vote", "question.unvote", "ping"))
    for n in itertools.count():
        if time.monotonic() >= until:
            return refs
        kind, ref = next(kinds), f"{client.name}-f{n}"
        fields: dict = {"room": room}
        if kind == "question.submit":
            fields["text"] = f"Flood question {client.name} {n}?"
        elif kind == "ping":
            fields = {}
        else:
            fields["question"] = question
        await client.send({"type": kind, "ref": ref, **fields})
        refs.append(ref)
        await asyncio.sleep(1 / PER_SECOND)
    raise AssertionError("unreachable")


async def test_flood_one_participant_10_sockets_limits_hold_event_wide(
    production: Stack,
) -> None:
    live = await live_room(production, OTHERS)
    a, b, room, moderator, others = live.a, live.b, live.room, live.moderator, live.observers
    question = await approved_question(production, a, moderator, room, "What about the river?")
    flooders = await one_participant(production, [a, b], room, "Flooder", SOCKETS)
    participant = production.participant_of(flooders[0])
    writer = Writer(moderator, room, "w", every=0.1)
    writer.start()
    await asyncio.sleep(3)  # calm: the others' latency before

    started = time.monotonic()
    sent = await asyncio.gather(*(flood(c, room, question, started + FLOOD) for c in flooders))
    flooded = time.monotonic() - started
    answers = {}
    for client, refs in zip(flooders, sent, strict=True):
        for ref in refs:
            answers[ref] = await client.wait_for(lambda m, ref=ref: m.get("ref") == ref, within=30)
    await asyncio.sleep(2)  # calm again
    await writer.finish()

    fresh = await production.audience(a, "Fresh")
    await assert_nothing_lost(
        production,
        room,
        [moderator, *others, *flooders],
        fresh,
        acked=list(writer.acked),
        staff=(moderator,),
        observers=tuple(others),
    )
    async with production.db.sessionmaker() as db:
        questions = await db.scalar(
            select(func.count()).where(Question.participant_id == participant)
        )
        votes, rows = (
            await db.scalar(select(Question.votes).where(Question.id == question)),
            await db.scalar(select(func.count()).where(QuestionVote.question_id == question)),
        )

    kind_of = {}
    for refs in sent:
        for n, ref in enumerate(refs):
            kind_of[ref] = ("submit", "vote", "unvote", "ping")[n % 4]
    outcome = Counter(
        (kind_of[ref], m["type"] if m["type"] != "error" else m["code"])
        for ref, m in answers.items()
    )
    accepted = {k: outcome[(k, "reply")] for k in ("submit", "vote", "unvote")}
    past_budget = sum(
        n for (kind, result), n in outcome.items() if kind != "ping" and result != "rate_limited"
    )
    flood_acks = {seq: at for seq, at in writer.sent.items() if started < at < started + FLOOD}
    calm_acks = {seq: at for seq, at in writer.sent.items() if at < started}

    def lags(acks: dict[int, float]) -> list[float]:
        return [o.arrived[seq] - at for o in others for seq, at in acks.items()]

    during, before = lags(flood_acks), lags(calm_acks)
    seconds = math.ceil(flooded) + 1  # fixed windows the flood can touch
    budget = DEFAULTS.ws_command_burst + DEFAULTS.ws_commands_per_second
    print(
        f"\nflood from one participant on {SOCKETS} sockets (a and b), {flooded:.1f} s: "
        f"{len(answers)} commands; accepted {accepted['submit']} questions, "
        f"{accepted['vote'] + accepted['unvote']} votes/unvotes, {outcome[('ping', 'pong')]} "
        f"pings; {past_budget} past the participant's command budget ({budget}/s); refused "
        f"{dict(sorted((f'{k} {r}', n) for (k, r), n in outcome.items() if r not in ('reply', 'pong')))}; "  # noqa: E501
        f"the {len(others)} others' delivery before {summary(before)}, during {summary(during)}"
    )
    assert set(outcome) <= {
        ("submit", "reply"),
        ("submit", "question.rate_limited"),
        ("submit", "rate_limited"),
        ("vote", "reply"),
        ("vote", "vote.rate_limited"),
        ("vote", "rate_limited"),
        ("unvote", "reply"),
        ("unvote", "vote.rate_limited"),
        ("unvote", "rate_limited"),
        ("ping", "pong"),
        ("ping", "rate_limited"),
    }, outcome
    assert all("retry_after" in m for m in answers.values() if m["type"] == "error")
    assert (accepted["submit"], questions) == (QUESTIONS_PER_MINUTE, QUESTIONS_PER_MINUTE)
    assert accepted["vote"] + accepted["unvote"] <= VOTES_PER_SECOND * seconds
    assert past_budget <= budget * seconds, past_budget
    assert votes == rows
    assert all(c.is_open for c in (*others, *flooders, moderator))
    assert writer.refused == []
    assert percentile(during, 0.99) <= 2.0, summary(during)
