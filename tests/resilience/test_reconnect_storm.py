"""A reconnect storm: 5,000 sockets across two processes, all dropped at once (as when the proxy
in front of them restarts: every client's TCP connection is reset together) and reconnecting
together, each after 0-0.5 s of jitter as ``live.js`` waits, to its process, resuming with its
last ``(epoch, seq)`` while a moderator keeps changing the room. Every client resumes with no
gap and ends with the database's log and state. Prints the reconnect times (from the drop to
the client's ``room.resumed``), how long the whole storm took, and where the CPU went: the
5,000 clients share this test's one event loop, and its lateness is printed too."""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections import Counter

import pytest
from checks import Writer, assert_nothing_lost, fail_over, gather_audience, summary
from support.servers import cpu_seconds
from support.stack import SECRET_KEY, Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

SOCKETS = 5000  # half on each process
BATCH = 250  # handshakes at once while the audience gathers


async def loop_lag(lags: list[float], every: float = 0.1) -> None:
    """How late this process's event loop (which runs all the clients) wakes a sleeper."""
    for _ in range(100_000):  # bounded; cancelled when the storm is over
        asked = time.monotonic()
        await asyncio.sleep(every)
        lags.append(time.monotonic() - asked - every)


def enough_file_descriptors(needed: int) -> None:
    """Raise this process's soft limit on open files (the servers inherit it) if it is short."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        assert hard == resource.RLIM_INFINITY or hard >= needed, (soft, hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def test_reconnect_storm_5000_sockets_resume_without_gap(production: Stack) -> None:
    enough_file_descriptors(2 * SOCKETS + 1024)
    a, b = production.servers("a", "b", now=MORNING)
    await production.start(a, b)
    room = production.rooms[WORKSHOP_1]
    moderator = await production.moderator(a)
    assert (await moderator.join(room))["type"] == "room.snapshot"
    cookies = await production.db.audience_cookies(SECRET_KEY, SOCKETS, now=MORNING_UTC)
    gathering = time.monotonic()
    half = SOCKETS // 2
    on_a = await gather_audience(production, a, room, cookies[:half], "A", batch=BATCH)
    on_b = await gather_audience(production, b, room, cookies[half:], "B", batch=BATCH)
    gathered = time.monotonic() - gathering
    writer = Writer(moderator, room, "storm", every=0.2)
    writer.start()
    await asyncio.sleep(1.5)

    storm = [
        asyncio.create_task(fail_over(c, server, room, within=90))
        for clients, server in ((on_a, a), (on_b, b))
        for c in clients
    ]
    processes = {"test": None, "a": a.popen.pid, "b": b.popen.pid}  # type: ignore[union-attr]
    cpu_before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    lags: list[float] = []
    lagging = asyncio.create_task(loop_lag(lags))
    dropped_at = time.monotonic()
    for client in (*on_a, *on_b):
        assert client.ws is not None
        client.ws.transport.abort()  # a reset, no close frame: the path went away
    outcomes = await asyncio.wait_for(asyncio.gather(*storm), 120)
    total = time.monotonic() - dropped_at
    lagging.cancel()
    cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()}
    await asyncio.sleep(1.5)  # changes after everyone is back
    await writer.finish()

    fresh = await production.audience(a, "Fresh")
    last = await assert_nothing_lost(
        production,
        room,
        [*on_a, *on_b, moderator],
        fresh,
        acked=list(writer.acked),
        staff=(moderator,),
        within=60,
    )
    seconds = [s for s, _ in outcomes]
    print(
        f"\nreconnect storm: {SOCKETS} sockets ({half} on a, {SOCKETS - half} on b, gathered in "
        f"{gathered:.1f} s) dropped at once; all back in {total:.1f} s, reconnect "
        f"{summary(seconds)}; answers {dict(Counter(kind for _, kind in outcomes))}; "
        f"{len(writer.acked)} acknowledged changes meanwhile (seq {last}); CPU during the "
        f"storm: clients (this process) {cpu['test']:.1f} s, a {cpu['a']:.1f} s, "
        f"b {cpu['b']:.1f} s; the clients' event loop late by {summary(lags)}; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    assert {kind for _, kind in outcomes} == {"room.resumed"}  # no gap papered over
    assert writer.refused == []
