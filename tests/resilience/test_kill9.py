"""kill -9 of one of two processes with 500 clients on it: every client reconnects to the
survivor (as a load balancer would send it), resumes from its last ``(epoch, seq)`` with no gap
while a moderator keeps changing the room, and ends with the database's state. Prints the
reconnect times (from the client seeing the close to its ``room.resumed``, 0-0.5 s jitter
included, as ``live.js`` waits)."""

from __future__ import annotations

import asyncio

import pytest
from checks import assert_nothing_lost, fail_over, gather_audience, percentile, summary
from support.stack import SECRET_KEY, Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

ON_B = 500  # the clients of the process that dies
ON_A = 10


async def test_kill9_500_clients_resume_on_survivor(production: Stack) -> None:
    a, b = production.servers("a", "b", now=MORNING)
    await production.start(a, b)
    room = production.rooms[WORKSHOP_1]
    moderator = await production.moderator(a)
    assert (await moderator.join(room))["type"] == "room.snapshot"
    cookies = await production.db.audience_cookies(SECRET_KEY, ON_B + ON_A, now=MORNING_UTC)
    on_b = await gather_audience(production, b, room, cookies[:ON_B], "B")
    on_a = await gather_audience(production, a, room, cookies[ON_B:], "A")

    acked: list[int] = []
    stop = asyncio.Event()

    async def write() -> None:
        for n in range(2000):  # bounded; ~10 a second until told to stop
            if stop.is_set():
                return
            answer = await moderator.request(
                "room.update", room=room, stage_url=f"https://stage.example/k/{n}", within=15
            )
            assert answer["type"] == "reply", answer
            acked.append(answer["data"]["seq"])
            await asyncio.sleep(0.1)

    writer = asyncio.create_task(write())
    await asyncio.sleep(1.5)
    failovers = [asyncio.create_task(fail_over(c, a, room)) for c in on_b]
    b.kill()
    outcomes = await asyncio.wait_for(asyncio.gather(*failovers), 90)
    await asyncio.sleep(1.5)  # changes after everyone is back
    stop.set()
    await asyncio.wait_for(writer, 30)

    fresh = await production.audience(a, "Fresh")
    last = await assert_nothing_lost(
        production, room, [*on_b, *on_a, moderator], fresh, acked=acked, staff=(moderator,)
    )
    seconds = [s for s, _ in outcomes]
    print(
        f"\nkill -9 of b: {ON_B} clients failed over to a ({ON_A} more and the moderator on a), "
        f"{len(acked)} acknowledged changes (seq {last}); reconnect {summary(seconds)}"
    )
    assert {kind for _, kind in outcomes} == {"room.resumed"}  # never a snapshot: no gap hidden
    assert percentile(seconds, 0.99) <= 5.0, summary(seconds)
