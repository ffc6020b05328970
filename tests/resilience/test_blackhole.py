"""A black-holed Redis path under two processes: a TCP proxy between the processes and their
private Redis stops forwarding on every open connection (subscriptions and publishing
connections alike) without closing them. Each process's broker watchdog (a heartbeat it
publishes to itself every second; five silent seconds mean a dead subscription) must notice
within 10 s and subscribe again through a new connection; meanwhile writes keep working and
everyone converges. Prints the detection time per process and the slowest acknowledgement."""

from __future__ import annotations

import asyncio
import itertools
import re
import time

import httpx
import pytest
from blackhole import BlackHoleProxy
from checks import Writer, assert_nothing_lost, timed_audience, until
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]


async def reconnects(server: ServerProcess) -> float:
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0, trust_env=False) as http:
        text = (await http.get("/metrics")).text
    [value] = re.findall(r"^townhall_broker_reconnects_total ([0-9.e+]+)$", text, re.MULTILINE)
    return float(value)


async def test_blackholed_subscription_detected_within_10s(production: Stack) -> None:
    redis_server = production.redis_server()
    redis_server.start()
    await redis_server.ready()
    proxy = BlackHoleProxy(redis_server.port)
    await proxy.start()
    try:
        a, b = production.servers("a", "b", now=MORNING, redis_url=proxy.url)
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
        before = {s.name: await reconnects(s) for s in (a, b)}

        holed = proxy.hole()
        holed_at = time.monotonic()
        detected: dict[str, float] = {}

        async def noticed(server: ServerProcess) -> None:
            async def moved() -> bool:
                return await reconnects(server) > before[server.name]

            await until(moved, f"{server.name} noticing the black hole", within=30)
            detected[server.name] = time.monotonic() - holed_at

        await asyncio.gather(noticed(a), noticed(b))
        for server in (a, b):
            await server.wait_health(lambda h: h["connected"] is True, "connected", within=20)
        await asyncio.sleep(3)
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
        gaps = [
            later - earlier
            for w in writers
            for earlier, later in itertools.pairwise(sorted(w.acked.values()))
        ]
        print(
            f"\nblack-holed redis ({holed} connections): detected by a in {detected['a']:.2f} s, "
            f"by b in {detected['b']:.2f} s; {len(acked)} acknowledged changes (seq {last}), "
            f"none refused, longest wait between two acknowledgements {max(gaps):.2f} s"
        )
        assert [w.refused for w in writers] == [[], []]
        assert max(detected.values()) <= 10.0, detected
    finally:
        await proxy.close()
