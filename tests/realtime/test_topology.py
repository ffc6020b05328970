"""The production topology without Docker: nginx (the template ``compose.yaml`` mounts) in front
of two server processes on one PostgreSQL and one Redis, and a rolling restart under a live
session.

Every client connects through the proxy. A moderator keeps changing the room while each process
in turn is stopped (SIGTERM) and started again: its clients are closed with 1001, reconnect
through the proxy (which sends them to the process still up), resume from their last
``(epoch, seq)`` and must get every event after it. At the end each client's received log
equals the database's log after its snapshot, and its state folded from events equals a fresh
snapshot. The reconnect figure (close to ``room.resumed``) is printed.
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
import time

import httpx
import pytest
from sqlalchemy import select
from support.clients import Client, audience_cookie
from support.proxy import Nginx
from support.room_state import apply_event
from support.servers import ServerProcess, free_port
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from townhall.platform.models import RoomEvent

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

AUDIENCE = 40
MAX_CLOSES = 10  # per client: each restart closes it once, a reconnect may land on a draining one


async def connections_on(server: ServerProcess) -> int:
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0, trust_env=False) as http:
        text = (await http.get("/metrics")).text
    [value] = re.findall(r"^townhall_connections (\d+)$", text, flags=re.MULTILINE)
    return int(value)


async def reconnect(client: Client, room: int, within: float = 30.0) -> dict:
    """Connect again through the proxy (retrying while nothing answers), then resume."""
    deadline = time.monotonic() + within
    while True:
        try:
            await client.connect(within=5)
            return await client.resume(room, within=15)
        except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, AssertionError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


# Not a deadline: how often a follower waiting for its close looks whether the test is over.
CHECK_STOP_EVERY = 0.5


class Follower:
    """Keeps a client in the room across closes, as live.js does (jittered reconnect)."""

    def __init__(self, client: Client, room: int) -> None:
        self.client, self.room = client, room
        self.codes: list[int | None] = []
        self.answers: list[str] = []
        self.reconnect_seconds: list[float] = []

    async def run(self, stop: asyncio.Event) -> None:
        for _ in range(MAX_CLOSES):
            while not stop.is_set():
                try:
                    await self.client.closed(within=CHECK_STOP_EVERY)
                    break
                except AssertionError:
                    continue
            if stop.is_set():
                return
            closed_at = time.monotonic()
            self.codes.append(self.client.close_code)
            await asyncio.sleep(random.uniform(0.0, 0.5))
            answer = await reconnect(self.client, self.room)
            self.answers.append(answer["type"])
            self.reconnect_seconds.append(time.monotonic() - closed_at)


async def test_rolling_restart_behind_nginx_loses_nothing(production: Stack) -> None:
    proxy_port = free_port()
    public = f"http://127.0.0.1:{proxy_port}"
    options = {"TOWNHALL_IDENTITIES_PER_MINUTE": "100000"}  # everyone comes from 127.0.0.1
    a = production.server("a", now=MORNING, public_url=public, settings=options)
    b = production.server("b", now=MORNING, public_url=public, settings=options)
    await production.start(a, b)
    proxy = Nginx(
        workdir=production.workdir,
        upstreams=[f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"],
        port=proxy_port,
    )
    production._track(proxy)  # type: ignore[arg-type]
    proxy.start()
    await proxy.ready()
    room = production.rooms[WORKSHOP_1]

    moderator = await production.moderator(proxy)  # type: ignore[arg-type]
    assert (await moderator.join(room))["type"] == "room.snapshot"
    # Identities first, then the sockets: round robin alternates the handshakes between the
    # processes (interleaved with the POSTs, every handshake would land on the same one).
    cookies = [
        await audience_cookie(proxy, f"Viewer {n}")  # type: ignore[arg-type]
        for n in range(AUDIENCE)
    ]
    audience = [
        await production.client(proxy, cookie, f"Viewer {n}")  # type: ignore[arg-type]
        for n, cookie in enumerate(cookies)
    ]
    for client in audience:
        assert (await client.join(room))["type"] == "room.snapshot"
    spread = [await connections_on(a), await connections_on(b)]
    followers = [Follower(c, room) for c in [moderator, *audience]]
    stop = asyncio.Event()
    following = [asyncio.create_task(f.run(stop)) for f in followers]
    acked: list[int] = []

    async def write() -> None:
        for n in range(5000):
            if stop.is_set():
                return
            if not moderator.is_open:
                await asyncio.sleep(0.1)  # its follower reconnects it
                continue
            try:
                answer = await moderator.request(
                    "room.update", room=room, stage_url=f"https://stage.example/r/{n}", within=10
                )
            except (ConnectionClosed, AssertionError):
                continue  # closed under it; the log says whether it committed
            if answer["type"] == "reply":
                acked.append(answer["data"]["seq"])
            await asyncio.sleep(0.05)

    writer = asyncio.create_task(write())
    started = time.monotonic()
    for server in (a, b):
        await asyncio.sleep(3)
        assert await server.stop(within=30) is not None
        server.start()
        await server.ready()
    await asyncio.sleep(3)
    stop.set()
    await asyncio.wait_for(writer, 30)
    await asyncio.wait_for(asyncio.gather(*following), 30)
    elapsed = time.monotonic() - started

    epoch, last = await production.db.room_position(room)
    everyone = [moderator, *audience]
    await asyncio.gather(
        *(c.wait_until(lambda c: c.last_seq(room) == last, 20, f"seq {last}") for c in everyone)
    )
    async with production.db.sessionmaker() as db:
        log = [
            (e.seq, e.visibility)
            for e in await db.scalars(
                select(RoomEvent).where(RoomEvent.room_id == room).order_by(RoomEvent.seq)
            )
        ]
    fresh = await production.audience(proxy, "Fresh")  # type: ignore[arg-type]
    snapshot = await fresh.join(room)

    figures = sorted(s for f in followers for s in f.reconnect_seconds)
    print(
        f"\nrolling restart behind nginx: {len(everyone)} clients ({spread[0]} on a, {spread[1]} "
        f"on b), {len(acked)} acknowledged changes in {elapsed:.1f} s, "
        f"{len(figures)} reconnects: p50 {statistics.median(figures):.2f} s, "
        f"p99 {figures[int(0.99 * (len(figures) - 1))]:.2f} s, max {figures[-1]:.2f} s"
    )
    assert min(spread) > 0, spread  # the proxy spread the clients over both processes
    # Every client was closed with 1001 at least once (its process restarted) and each
    # reconnect resumed: no snapshot, so no gap papered over.
    assert [
        (set(f.codes), set(f.answers), len(f.codes) >= 1, len(f.codes) == len(f.answers))
        for f in followers
    ] == [({1001}, {"room.resumed"}, True, True)] * len(followers)
    assert set(acked) <= {seq for seq, _ in log}
    for client in everyone:
        first = client.of_type("room.snapshot")[0]
        seen = [(m["epoch"], m["seq"]) for m in client.events(room)]
        expected = [
            (epoch, seq)
            for seq, visibility in log
            if seq > first["seq"] and (visibility == "public" or client is moderator)
        ]
        assert (client.name, seen) == (client.name, expected)
        state = first["state"]
        for event in client.events(room):
            state = apply_event(state, event)
        assert (client.name, state["room"]["stage_url"], state["room"]["state"]) == (
            client.name,
            snapshot["state"]["room"]["stage_url"],
            snapshot["state"]["room"]["state"],
        )
