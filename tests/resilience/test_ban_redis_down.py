"""A ban while Redis is down, with the banned participant on both processes: once the ban has
committed, no question or vote of theirs is accepted on any process (submit and vote read the
participant afresh), and every socket of theirs is closed — at once on the moderator's process,
at its next command on the other, and, for a socket that sends nothing, within 2 s of Redis
returning (the broker's resubscription re-checks every connection). Prints those times."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select
from support.clients import Client, audience_cookie, ok
from support.stack import Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1
from websockets.exceptions import ConnectionClosed

from townhall.platform.models import Question, QuestionVote

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]


class Troll:
    """One socket of the participant to be banned: asks a question every 3 s and, if
    ``voting``, votes or unvotes every 0.25 s (else pings) until closed; every answer, with
    when it arrived. (One socket votes: the order of its replies is the order of its commits.)"""

    def __init__(self, client: Client, room: int, question: int, *, voting: bool) -> None:
        self.client, self.room, self.question, self.voting = client, room, question, voting
        self.answers: list[tuple[float, str, dict]] = []

    async def run(self, stop: asyncio.Event) -> None:
        voted = False
        last_ask = 0.0
        for n in range(1000):  # bounded
            if stop.is_set() or not self.client.is_open:
                return
            if time.monotonic() - last_ask >= 3:
                last_ask = time.monotonic()
                kind, fields = "question.submit", {"text": f"Troll question number {n}?"}
            elif self.voting:
                kind = "question.unvote" if voted else "question.vote"
                fields = {"question": self.question}
            else:
                kind, fields = "ping", {}
            if kind != "ping":
                fields["room"] = self.room
            try:
                answer = await self.client.request(kind, within=10, **fields)
            except (ConnectionClosed, AssertionError):
                return  # closed under it
            self.answers.append((time.monotonic(), kind, answer))
            if (
                answer["type"] == "reply"
                and kind.startswith("question.")
                and "voted" in str(answer.get("data"))
            ):
                voted = answer["data"]["voted"]
            await asyncio.sleep(0.25)


async def closed_at(client: Client, within: float) -> float:
    await client.closed(within=within)
    return time.monotonic()


async def test_ban_while_redis_down(production: Stack) -> None:
    redis_server = production.redis_server()
    redis_server.start()
    await redis_server.ready()
    a, b = production.servers("a", "b", now=MORNING, redis_url=redis_server.url)
    await production.start(a, b)
    room = production.rooms[WORKSHOP_1]
    await production.db.set_room_state(room, "go_live", now=MORNING_UTC)
    moderator = await production.moderator(a)
    await moderator.join(room)
    asker = await production.audience(b, "Asker")
    await asker.join(room)
    asked = await ok(asker, "question.submit", room=room, text="What is the flood plan?")
    if asked["status"] == "pending":
        await ok(moderator, "question.approve", room=room, question=asked["question"])
    cookie = await audience_cookie(a, "Troll")
    sockets = {}
    for name, server in (("troll on a", a), ("troll on b", b), ("idle troll on b", b)):
        sockets[name] = await production.client(server, cookie, name)
        assert (await sockets[name].join(room))["type"] == "room.snapshot"
    participant = production.participant_of(sockets["troll on a"])
    trolls = [
        Troll(sockets["troll on a"], room, asked["question"], voting=False),
        Troll(sockets["troll on b"], room, asked["question"], voting=True),
    ]
    stop = asyncio.Event()
    running = [asyncio.create_task(t.run(stop)) for t in trolls]
    await asyncio.sleep(1.5)

    redis_server.kill()
    for server in (a, b):
        await server.wait_health(lambda h: h["connected"] is False, "disconnected", within=10)
    await asyncio.sleep(2)
    banned = await moderator.request("participant.ban", room=room, participant=participant)
    ban_acked = time.monotonic()
    closes = {
        name: asyncio.create_task(closed_at(client, within=60)) for name, client in sockets.items()
    }
    await asyncio.sleep(5)
    redis_server.start()
    await redis_server.ready()
    back = time.monotonic()
    resubscribed = {}
    for server in (a, b):
        await server.wait_health(lambda h: h["connected"] is True, "connected", within=20)
        resubscribed[server.name] = time.monotonic() - back
    done = {name: await task for name, task in closes.items()}
    stop.set()
    await asyncio.wait_for(asyncio.gather(*running), 20)

    async with production.db.sessionmaker() as db:
        questions = set(
            await db.scalars(select(Question.id).where(Question.participant_id == participant))
        )
        votes = set(
            await db.scalars(
                select(QuestionVote.question_id).where(QuestionVote.participant_id == participant)
            )
        )
    accepted_after = [
        (kind, answer)
        for troll in trolls
        for at, kind, answer in troll.answers
        if at > ban_acked and answer["type"] == "reply" and kind != "ping"
    ]
    acked_questions = {
        answer["data"]["question"]
        for troll in trolls
        for _, kind, answer in troll.answers
        if kind == "question.submit" and answer["type"] == "reply"
    }
    last_vote = [
        answer["data"]["voted"]
        for troll in trolls
        for _, kind, answer in sorted(troll.answers, key=lambda x: x[0])
        if kind in ("question.vote", "question.unvote") and answer["type"] == "reply"
    ]
    codes = {name: client.close_code for name, client in sockets.items()}
    print(
        "\nban while redis down: troll sockets closed after the ban "
        + ", ".join(f"{n} {done[n] - ban_acked:.2f} s" for n in sockets)
        + f"; idle socket on b closed {done['idle troll on b'] - back:.2f} s after Redis "
        f"returned (b resubscribed after {resubscribed['b']:.2f} s); "
        f"{sum(len(t.answers) for t in trolls)} troll commands, {len(acked_questions)} "
        f"questions accepted before the ban, 0 after; close codes {codes}"
    )
    assert banned["type"] == "reply", banned
    assert accepted_after == []
    assert questions == acked_questions  # nothing committed that was not answered before
    story = [
        (round(at - ban_acked, 3), troll.client.name, kind, answer)
        for troll in trolls
        for at, kind, answer in troll.answers
    ]
    assert votes == ({asked["question"]} if last_vote and last_vote[-1] else set()), sorted(story)
    assert done["troll on a"] - ban_acked < 2.0
    assert done["idle troll on b"] - back <= 2.0
    assert set(codes.values()) == {4003}, codes
