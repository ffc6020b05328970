"""100 clients that stop reading in a busy room: each is closed with 4008 once what it has not
read passes its send budget, the server's memory stays bounded, and the 20 clients that keep
reading get every event in order, in time, and the database's final state. The closed ones
reconnect, resume and end with that state too. Prints the closes, the readers' delivery lag and
the server's RSS."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections import Counter

import httpx
import pytest
from checks import (
    TimedClient,
    assert_nothing_lost,
    rss_kib,
    summary,
)
from support.clients import Client
from support.stack import SECRET_KEY, Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SLOW, QUICK = 100, 20
BUDGET = 16384
SETTINGS = {
    "TOWNHALL_WS_SEND_BUFFER": str(BUDGET),
    "TOWNHALL_WS_COMMANDS_PER_SECOND": "10000",
    "TOWNHALL_WS_COMMAND_BURST": "10000",
}


async def metric(server, name: str) -> float:
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0, trust_env=False) as http:
        text = (await http.get("/metrics")).text
    [value] = re.findall(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(value)


def small_receive_buffer(port: int) -> socket.socket:
    """A connected socket with a tiny receive window: a reader that stops reading backs up to
    the server within kilobytes instead of the kernel's megabytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def test_100_slow_readers_closed_4008_others_unaffected(production: Stack) -> None:
    server = production.server("a", now=MORNING, settings=SETTINGS)
    await production.start(server)
    room = production.rooms[WORKSHOP_1]
    moderators = [await production.moderator(server, f"Moderator {k}") for k in range(4)]
    for moderator in moderators:
        assert (await moderator.join(room))["type"] == "room.snapshot"
    cookies = await production.db.audience_cookies(SECRET_KEY, SLOW + QUICK, now=MORNING_UTC)
    quick = [TimedClient.of(server, c, f"quick {n}") for n, c in enumerate(cookies[:QUICK])]
    slow = [Client.of(server, c, f"slow {n}") for n, c in enumerate(cookies[QUICK:])]
    production.clients.extend([*quick, *slow])
    for client in quick:
        await client.connect()
        assert (await client.join(room))["type"] == "room.snapshot"
    for client in slow:
        await client.connect(sock=small_receive_buffer(server.port), max_queue=1)
        assert (await client.join(room))["type"] == "room.snapshot"
        await client.pause_reading()
    rss_before = rss_kib(server.popen.pid)  # type: ignore[union-attr]

    acked: dict[int, float] = {}

    async def flood(moderator: Client, k: int) -> None:
        for n in range(450):  # large room.updated events, two URLs near the 1000-char limit
            sent = time.monotonic()
            answer = await moderator.request(
                "room.update",
                room=room,
                stage_url=f"https://stage.example/{k}/{n}/" + "s" * 960,
                stream_url=f"https://stream.example/{k}/{n}/" + "t" * 960,
                within=30,
            )
            assert answer["type"] == "reply", answer
            acked[answer["data"]["seq"]] = sent

    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(flood(m, k) for k, m in enumerate(moderators))), 120)
    flooded = time.monotonic() - started
    rss_peak = rss_kib(server.popen.pid)  # type: ignore[union-attr]
    # Closed by the server while they still did not read: only the readers are left.
    open_after = await metric(server, "townhall_connections")
    slow_closes = await metric(server, "townhall_slow_consumer_closes_total")
    _, last = await production.db.room_position(room)
    for client in slow:
        client.start_reading()  # take what was buffered, then see the close
    codes = [await client.closed(within=30) for client in slow]
    lags = [c.arrived[seq] - at for c in quick for seq, at in acked.items()]

    fresh = await production.audience(server, "Fresh")
    await assert_nothing_lost(
        production, room, [*moderators, *quick], fresh, acked=list(acked), staff=tuple(moderators)
    )
    resumed = []
    for client in slow:  # "reconnect at once and resume with since"
        for _attempt in range(20):
            try:
                await client.connect(within=10)
                resumed.append((await client.resume(room, within=20))["type"])
                break
            except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, AssertionError):
                await asyncio.sleep(0.2)
    await asyncio.gather(
        *(c.wait_until(lambda c: c.last_seq(room) == last, 30, f"seq {last}") for c in slow)
    )
    print(
        f"\n{SLOW} slow readers in a room of {last} large events in {flooded:.1f} s: "
        f"{int(slow_closes)} closed by the server for their budget while not reading "
        f"({int(open_after)} sockets open after it: the readers and moderators), seen by them "
        f"as {dict(Counter(int(c) for c in codes))}; {QUICK} readers never closed, lag "
        f"{summary(lags)}; server RSS {rss_before / 1024:.0f} MiB before, "
        f"{rss_peak / 1024:.0f} MiB after the flood; the slow ones came back with "
        f"{sorted(set(resumed))} and caught up"
    )
    # 4008 when the close frame reached the client; a client that read nothing for the whole
    # flood finds the connection already aborted (its close frame stuck behind unread data).
    assert (slow_closes, open_after, set(codes) <= {4008, 1006}) == (
        SLOW,
        len(moderators) + QUICK,
        True,
    ), codes
    assert all(c.close_code is None and c.is_open for c in quick)
    assert len(resumed) == SLOW
    assert rss_peak - rss_before < 200 * 1024, (rss_before, rss_peak)
