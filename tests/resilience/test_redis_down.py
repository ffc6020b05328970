"""Redis down 15 s under two processes: writes keep working (committed, delivered at once to
the writer's own process, repaired on the other by its sweep of the room log), and everyone
converges when Redis returns; neither process logs a traceback for the outage (a background
task that meets it, as presence does with a pooled connection Redis closed, logs a warning).
Prints how many changes were acknowledged during the outage, how long they took to reach the
other process's viewers, and how long the processes took to subscribe again."""

from __future__ import annotations

import asyncio
import time

import pytest
from checks import Writer, assert_nothing_lost, summary, timed_audience
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

OUTAGE = 15.0


async def test_redis_down_15s_writes_work_and_everyone_converges(production: Stack) -> None:
    redis_server = production.redis_server()
    redis_server.start()
    await redis_server.ready()
    a, b = production.servers("a", "b", now=MORNING, redis_url=redis_server.url)
    await production.start(a, b)
    room = production.rooms[WORKSHOP_1]
    moderator_a = await production.moderator(a, "Moderator A")
    moderator_b = await production.moderator(b, "Moderator B")
    for moderator in (moderator_a, moderator_b):
        assert (await moderator.join(room))["type"] == "room.snapshot"
    on_a = await timed_audience(production, a, room, [f"A {n}" for n in range(3)])
    on_b = await timed_audience(production, b, room, [f"B {n}" for n in range(3)])
    writers = [Writer(moderator_a, room, "a"), Writer(moderator_b, room, "b")]
    for writer in writers:
        writer.start()
    await asyncio.sleep(2)

    redis_server.kill()
    down_at = time.monotonic()
    for server in (a, b):
        await server.wait_health(lambda h: h["connected"] is False, "disconnected", within=10)
    await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - down_at)))
    redis_server.start()
    await redis_server.ready()
    up_at = time.monotonic()
    for server in (a, b):
        await server.wait_health(lambda h: h["connected"] is True, "connected", within=20)
    resubscribed = time.monotonic() - up_at
    await asyncio.sleep(2)
    for writer in writers:
        await writer.finish()

    acked = [seq for w in writers for seq in w.acked]
    fresh = await production.audience(a, "Fresh")
    last = await assert_nothing_lost(
        production,
        room,
        [moderator_a, moderator_b, *on_a, *on_b],
        fresh,
        acked=acked,
        staff=(moderator_a, moderator_b),
    )
    # How long a change acknowledged during the outage took to reach the other process.
    lags = [
        viewer.arrived[seq] - at
        for writer, others in ((writers[0], on_b), (writers[1], on_a))
        for seq, at in writer.acked.items()
        if down_at + 1 < at < up_at
        for viewer in others
    ]
    during = sum(1 for w in writers for at in w.acked.values() if down_at < at < up_at)
    print(
        f"\nredis down {up_at - down_at:.1f} s: {len(acked)} acknowledged changes (seq {last}), "
        f"{during} during the outage, none refused; to the other process's viewers "
        f"{summary(lags)}; both processes subscribed again {resubscribed:.2f} s after Redis "
        f"returned"
    )
    assert [w.refused for w in writers] == [[], []]
    assert during >= 20, during
    assert [("Traceback" in server.log()) for server in (a, b)] == [False, False]
