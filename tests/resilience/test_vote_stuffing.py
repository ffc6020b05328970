"""Vote stuffing: one participant voting on one question from 10 sockets on both processes at
once, votes and unvotes racing each other; and many fresh identities made from one address, each
voting from a socket on each process at the same instant. However the commands interleave, a
question's count equals the number of distinct participants with a vote row, the identity
bucket stops the new identities at its limit, every refusal is typed, and every viewer ends
with the database's count. Prints attempts against what was counted."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from checks import approved_question, assert_nothing_lost, live_room, one_participant
from sqlalchemy import func, select
from support.clients import Client, ok
from support.stack import Stack
from support.summit import EVENT

from townhall.platform.models import Question, QuestionVote
from townhall.settings import Settings

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

STUFFER_SOCKETS = 10
ROUNDS = 4  # bursts of votes and unvotes from every socket of the stuffer
FRESH = 70  # identities asked for from one address (more than the bucket holds)
ADDRESS = "198.51.100.250"  # one address for all of them (a documentation address)
LIMIT = Settings().identities_per_minute


async def burst(client: Client, room: int, question: int, kinds: list[str]) -> list[dict]:
    """Send every command at once (no waiting between them); their answers."""
    refs = [f"{client.name}-{n}-{kind}" for n, kind in enumerate(kinds)]
    start = len(client.messages)
    for ref, kind in zip(refs, kinds, strict=True):
        await client.send({"type": kind, "ref": ref, "room": room, "question": question})
    return [
        await client.wait_for(lambda m, ref=ref: m.get("ref") == ref, within=30, after=start)
        for ref in refs
    ]


async def fresh_identity(server, n: int) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=20.0, trust_env=False) as http:
        return await http.post(
            f"/api/events/{EVENT}/participants",
            json={"display_name": f"Fresh voter {n}"},
            headers={"Origin": server.origin, "X-Forwarded-For": ADDRESS},
        )


async def test_vote_stuffing_counts_distinct_participants(production: Stack) -> None:
    live = await live_room(production, 1)
    a, b, room, moderator, observers = live.a, live.b, live.room, live.moderator, live.observers
    question = await approved_question(production, b, moderator, room, "Shall we plant more trees?")

    # One participant, ten sockets over both processes, votes and unvotes racing.
    stuffer = await one_participant(production, [a, b], room, "Stuffer", STUFFER_SOCKETS)
    stuffed: list[dict] = []
    for round_ in range(ROUNDS):
        kinds = ["question.vote", "question.unvote", "question.vote"][round_ % 2 :]
        for answers in await asyncio.gather(*(burst(c, room, question, kinds) for c in stuffer)):
            stuffed += answers
        await asyncio.sleep(1.1)  # the vote bucket's next window
    last = await ok(stuffer[0], "question.vote", room=room, question=question)

    # Many identities from one address, each voting from both processes at the same instant.
    made = await asyncio.gather(*(fresh_identity((a, b)[n % 2], n) for n in range(FRESH)))
    cookies = [
        f"townhall_participant={r.cookies['townhall_participant']}"
        for r in made
        if r.status_code == 201
    ]
    refused = [r for r in made if r.status_code != 201]
    voters = []
    for n, fresh_cookie in enumerate(cookies):
        for server in (a, b):
            client = await production.client(server, fresh_cookie, f"fresh {n} on {server.name}")
            assert (await client.join(room))["type"] == "room.snapshot"
            voters.append(client)
    fresh_votes = [
        answer
        for answers in await asyncio.gather(
            *(burst(c, room, question, ["question.vote", "question.vote"]) for c in voters)
        )
        for answer in answers
    ]

    fresh = await production.audience(a, "Fresh")
    await assert_nothing_lost(
        production,
        room,
        [moderator, *observers, *stuffer, *voters],
        fresh,
        staff=(moderator,),
        observers=tuple(observers),
    )
    async with production.db.sessionmaker() as db:
        counted = await db.scalar(select(Question.votes).where(Question.id == question))
        rows = await db.scalar(select(func.count()).where(QuestionVote.question_id == question))
        distinct = await db.scalar(
            select(func.count(func.distinct(QuestionVote.participant_id))).where(
                QuestionVote.question_id == question
            )
        )
    outcomes = Counter(
        m["type"] if m["type"] != "error" else m["code"] for m in (*stuffed, *fresh_votes)
    )
    attempts = len(stuffed) + 1 + len(fresh_votes)
    print(
        f"\nvote stuffing: {attempts} vote/unvote commands ({len(stuffed) + 1} from one "
        f"participant on {STUFFER_SOCKETS} sockets, {len(fresh_votes)} from {len(cookies)} "
        f"fresh identities on two sockets each) → {dict(outcomes)}; counted {counted} votes, "
        f"{rows} rows, {distinct} distinct participants; identities from one address: "
        f"{len(cookies)} made, {len(refused)} refused "
        f"({sorted({r.status_code for r in refused})})"
    )
    assert counted == rows == distinct == 1 + len(cookies)
    assert last["voted"] is True
    assert (len(cookies), {r.status_code for r in refused}) == (LIMIT, {429})
    assert set(outcomes) <= {"reply", "vote.rate_limited", "rate_limited"}, outcomes
    assert all(m["data"]["voted"] for m in fresh_votes if m["type"] == "reply")
    assert [c.name for c in (*observers, *stuffer, *voters) if not c.is_open] == []
    assert [("Traceback" in server.log()) for server in (a, b)] == [False, False]
