"""PostgreSQL down 20 s under two processes on one Redis. The processes reach PostgreSQL through
a TCP proxy (``blackhole.py``) that resets every open connection and refuses new ones for 20 s;
the machine's PostgreSQL itself keeps running for everyone else (the test's own checks go to it
directly).

During the outage every command that needs the database is answered with the retryable
``unavailable`` (with ``retry_after``), HTTP with 503 and ``Retry-After``, ``/readyz`` with 503,
and no socket is closed. Clients resend what was refused with the same ``ref``, as ``live.js``
does. After it, both processes accept commands again within seconds; every acknowledged change,
question and vote is in the database, ``room_events`` has no gap, and every client ends with the
database's log and state. Prints the seconds from PostgreSQL's return to the first accepted
command on each process."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import httpx
import pytest
from blackhole import BlackHoleProxy
from checks import (
    Writer,
    approved_question,
    assert_nothing_lost,
    resend_until_answered,
    timed_audience,
)
from sqlalchemy import func, select
from support.clients import Client
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import EVENT, MORNING, MORNING_UTC, WORKSHOP_1

from townhall.platform.models import Question, QuestionVote

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

OUTAGE = 20.0


async def get(server: ServerProcess, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, trust_env=False) as http:
        return await http.get(path)


class Asker:
    """An audience member asking a question every ``every`` seconds, each resent with its
    ``ref`` until answered; the questions acknowledged and the refusals met."""

    def __init__(self, client: Client, room: int, every: float = 7.0) -> None:
        self.client, self.room, self.every = client, room, every
        self.acked: set[int] = set()
        self.answers: list[dict] = []
        self.unavailable = 0

    async def run(self, stop: asyncio.Event) -> None:
        for n in range(100):  # bounded
            if stop.is_set():
                return
            answer, refused = await resend_until_answered(
                self.client,
                "question.submit",
                ref=f"{self.client.name}-q{n}",
                room=self.room,
                text=f"{self.client.name} asks question number {n}?",
            )
            self.unavailable += refused
            self.answers.append(answer)
            if answer["type"] == "reply":
                self.acked.add(answer["data"]["question"])
            await asyncio.sleep(self.every)


class Voter:
    """An audience member voting and unvoting on one question every ``every`` seconds from one
    socket (so the order of its replies is the order of its commits), each command resent until
    answered; whether its last acknowledged command left a vote."""

    def __init__(self, client: Client, room: int, question: int, every: float = 0.3) -> None:
        self.client, self.room, self.question, self.every = client, room, question, every
        self.voted = False
        self.acked = 0
        self.unavailable = 0
        self.other: list[dict] = []

    async def run(self, stop: asyncio.Event) -> None:
        for n in range(10_000):  # bounded
            if stop.is_set():
                return
            kind = "question.unvote" if self.voted else "question.vote"
            answer, refused = await resend_until_answered(
                self.client, kind, ref=f"{self.client.name}-v{n}", room=self.room,
                question=self.question,
            )  # fmt: skip
            self.unavailable += refused
            if answer["type"] == "reply":
                self.voted, self.acked = answer["data"]["voted"], self.acked + 1
            else:
                self.other.append(answer)
            await asyncio.sleep(self.every)


async def test_postgres_down_20s_unavailable_then_full_service(production: Stack) -> None:
    direct = urlsplit(production.database_url)
    proxy = BlackHoleProxy(direct.port or 5432)
    await proxy.start()
    user = f"{direct.username}@" if direct.username else ""
    # The processes go through the proxy; production.db (the test's checks) stays direct.
    production.database_url = direct._replace(netloc=f"{user}127.0.0.1:{proxy.port}").geturl()
    try:
        a, b = production.servers("a", "b", now=MORNING)
        await production.start(a, b)
        room = production.rooms[WORKSHOP_1]
        await production.db.set_room_state(room, "go_live", now=MORNING_UTC)
        moderator_a = await production.moderator(a, "Moderator A")
        moderator_b = await production.moderator(b, "Moderator B")
        for moderator in (moderator_a, moderator_b):
            assert (await moderator.join(room))["type"] == "room.snapshot"
        observers = [
            *await timed_audience(production, a, room, ["Observer A"]),
            *await timed_audience(production, b, room, ["Observer B"]),
        ]
        seeded = [
            await approved_question(production, s, moderator_a, room, f"Seeded question {n}?")
            for n, s in enumerate((a, b))
        ]
        askers, voters = [], []
        for server, tag in ((a, "A"), (b, "B")):
            asking = await production.audience(server, f"Asker {tag}")
            assert (await asking.join(room))["type"] == "room.snapshot"
            askers.append(Asker(asking, room))
            for k, question in enumerate(seeded):
                voting = await production.audience(server, f"Voter {tag}{k}")
                assert (await voting.join(room))["type"] == "room.snapshot"
                voters.append(Voter(voting, room, question))
        writers = [Writer(moderator_a, room, "a", every=0.1), Writer(moderator_b, room, "b", 0.1)]
        stop = asyncio.Event()
        for writer in writers:
            writer.start()
        loops = [asyncio.create_task(p.run(stop)) for p in (*askers, *voters)]
        await asyncio.sleep(2)

        cut = await proxy.cut()
        down_at = time.monotonic()
        await asyncio.sleep(3)
        during = {
            s.name: (await get(s, "/readyz"), await get(s, f"/api/events/{EVENT}")) for s in (a, b)
        }
        await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - down_at)))
        await proxy.restore()
        up_at = time.monotonic()
        ready_after = {}
        for server in (a, b):
            deadline = up_at + 30
            while (await get(server, "/readyz")).status_code != 200:
                assert time.monotonic() < deadline, f"{server.name} not ready within 30 s"
                await asyncio.sleep(0.1)
            ready_after[server.name] = time.monotonic() - up_at
        await asyncio.sleep(3)
        stop.set()
        for writer in writers:
            await writer.finish()
        await asyncio.wait_for(asyncio.gather(*loops), 60)

        acked = [seq for w in writers for seq in w.acked]
        fresh = await production.audience(a, "Fresh")
        clients = [moderator_a, moderator_b, *observers, *(p.client for p in (*askers, *voters))]
        last = await assert_nothing_lost(
            production,
            room,
            clients,
            fresh,
            acked=acked,
            staff=(moderator_a, moderator_b),
            observers=tuple(observers),
        )
        async with production.db.sessionmaker() as db:
            asked_in_db = {
                asker.client.name: set(
                    await db.scalars(
                        select(Question.id).where(
                            Question.participant_id == production.participant_of(asker.client)
                        )
                    )
                )
                for asker in askers
            }
            voted_in_db = {
                voter.client.name: bool(
                    await db.scalar(
                        select(func.count()).where(
                            QuestionVote.question_id == voter.question,
                            QuestionVote.participant_id == production.participant_of(voter.client),
                        )
                    )
                )
                for voter in voters
            }
            counts = {
                q: (
                    await db.scalar(select(Question.votes).where(Question.id == q)),
                    await db.scalar(select(func.count()).where(QuestionVote.question_id == q)),
                )
                for q in seeded
            }
    finally:
        await proxy.close()

    first_accepted = {
        w.tag: min(at for at in w.acked.values() if at > up_at) - up_at for w in writers
    }
    refusals = [answer for w in writers for answer in w.refused]
    unavailable = sum(p.unavailable for p in (*askers, *voters))
    print(
        f"\npostgres down {up_at - down_at:.1f} s ({cut} connections reset): "
        f"{len(acked)} acknowledged changes (seq {last}), {len(refusals)} refused as "
        f"unavailable, {sum(len(x.acked) for x in askers)} questions and "
        f"{sum(v.acked for v in voters)} votes acknowledged ({unavailable} resends); first "
        f"accepted command after PostgreSQL returned: a {first_accepted['a']:.2f} s, "
        f"b {first_accepted['b']:.2f} s; /readyz 200 again after a "
        f"{ready_after['a']:.2f} s, b {ready_after['b']:.2f} s"
    )
    for name, (ready, api) in during.items():
        assert (name, ready.status_code, ready.json()["checks"]["database"]["ok"]) == (
            name,
            503,
            False,
        )
        assert (name, api.status_code, api.headers.get("retry-after")) == (name, 503, "5")
    assert refusals and {(r["code"], r["retry_after"]) for r in refusals} == {("unavailable", 5)}
    assert unavailable > 0
    assert max(first_accepted.values()) <= 5.0, first_accepted
    assert asked_in_db == {x.client.name: x.acked for x in askers}
    assert voted_in_db == {v.client.name: v.voted for v in voters}
    assert all(votes == rows for votes, rows in counts.values()), counts
    assert [v.other for v in voters] == [[] for _ in voters]
    assert all(c.is_open for c in clients)
    assert [("Traceback" in server.log()) for server in (a, b)] == [False, False]
