"""kill -9 of one of two processes with 500 clients on it: every client reconnects to the
survivor (as a load balancer would send it), resumes from its last ``(epoch, seq)`` with no gap
while a moderator keeps changing the room, and ends with the database's state. Prints the
reconnect times (from the client seeing the close to its ``room.resumed``, 0-0.5 s jitter
included, as ``live.js`` waits)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from checks import assert_nothing_lost, percentile, summary
from support.clients import Client
from support.stack import SECRET_KEY, Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

ON_B = 500  # the clients of the process that dies
ON_A = 10
BATCH = 50  # handshakes at once while the audience gathers


async def gather_audience(stack: Stack, server, room: int, cookies: list[str], tag: str):
    clients = [Client.of(server, cookie, f"{tag} {n}") for n, cookie in enumerate(cookies)]
    stack.clients.extend(clients)

    async def one(client: Client) -> None:
        await client.connect(within=20)
        assert (await client.join(room, within=20))["type"] == "room.snapshot"

    for start in range(0, len(clients), BATCH):
        await asyncio.gather(*(one(c) for c in clients[start : start + BATCH]))
    return clients


async def fail_over(client: Client, survivor, room: int, within: float = 60.0) -> tuple[float, str]:
    """Wait for the close, jitter, connect to the survivor and resume; (seconds, answer)."""
    await client.closed(within=30)
    closed_at = time.monotonic()
    await asyncio.sleep(random.uniform(0.0, 0.5))
    client.url = survivor.ws_url
    deadline = closed_at + within
    while True:
        try:
            await client.connect(within=10)
            answer = await client.resume(room, within=20)
            return time.monotonic() - closed_at, answer["type"]
        except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, AssertionError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


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
