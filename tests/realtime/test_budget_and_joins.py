"""Two promises of the live core at scale.

- Memory per connection is bounded in bytes, whatever the client sends: a socket that never
  reads and asks again and again to resume from far back cannot grow the server by more than
  its budget (``TOWNHALL_WS_SEND_BUFFER``).
- Joins do not hold up delivery, and every joiner, however many join at once while events
  flow, gets a snapshot and then exactly the events after it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.clients import Client, audience_cookie
from support.stack import Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1
from test_flow_control import FAST_COMMANDS, small_receive_buffer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def busy(client: Client) -> list[dict]:
    return [m for m in client.messages if m.get("code") == "room.busy"]


async def test_repeated_resume_from_a_socket_that_never_reads_stays_within_budget(
    production: Stack,
) -> None:
    budget = 64 * 1024
    server = production.server(
        "a", now=MORNING, settings={"TOWNHALL_WS_SEND_BUFFER": str(budget), **FAST_COMMANDS}
    )
    await production.start(server)
    assert server.popen is not None
    room = production.rooms[WORKSHOP_1]
    # 400 room updates of about 130 bytes: each resume from the start is a ~52 KB burst.
    events = await production.db.update_room_many(room, 400, now=MORNING_UTC)
    epoch = events[0].epoch
    hoarders = []
    for k in range(2):
        hoarder = Client.of(server, await audience_cookie(server, f"Hoarder {k}"), f"hoarder{k}")
        production.clients.append(hoarder)
        await hoarder.connect(sock=small_receive_buffer(server.port), max_queue=1)
        await hoarder.join(room)
        await hoarder.pause_reading()
        hoarders.append(hoarder)
    before = rss_bytes(server.popen.pid)
    peak = before

    # 400 resumes each: unbounded, that is 2 x 400 x 52 KB = 42 MB queued in the server.
    for n in range(400):
        for hoarder in hoarders:
            if hoarder.ws is None or hoarder.ws.close_code is not None:
                continue
            with_since = {"epoch": epoch, "seq": 0}
            try:
                await hoarder.send(
                    {"type": "room.join", "ref": f"j{n}", "room": room, "since": with_since}
                )
            except Exception:
                break  # the server closed it
        if n % 20 == 0:
            peak = max(peak, rss_bytes(server.popen.pid))
    for _ in range(20):  # the server works through what it has read
        await asyncio.sleep(0.25)
        peak = max(peak, rss_bytes(server.popen.pid))
    for hoarder in hoarders:
        hoarder.start_reading()
    outcomes = []
    for hoarder in hoarders:
        await hoarder.eventually(lambda c: c.close_code is not None or bool(busy(c)), within=30)
        outcomes.append(hoarder.close_code == 4008 or bool(busy(hoarder)))

    growth = peak - before
    print(f"RSS before {before >> 10} KiB, peak {peak >> 10} KiB, growth {growth >> 10} KiB")
    assert outcomes == [True, True], "each hoarder is refused (room.busy) or closed with 4008"
    # Two budgets, plus generous room for allocator noise: unbounded, this was 45 MB.
    assert growth < 2 * budget + 12 * 1024 * 1024, f"grew by {growth >> 10} KiB"


@pytest.mark.parametrize("direct", ["true", "false"], ids=["transport-writes", "asgi-send"])
async def test_many_joins_while_events_flow_each_get_snapshot_then_every_later_event(
    production: Stack, direct: str
) -> None:
    # Both ways bytes reach a socket (straight to the transport, or the ASGI send) keep order.
    settings = {**FAST_COMMANDS, "TOWNHALL_WS_DIRECT_WRITES": direct}
    a, b = production.servers("a", "b", now=MORNING, settings=settings)
    await production.start(a, b)
    room = production.rooms[WORKSHOP_1]
    moderator = await production.moderator(b, "Busy Moderator")
    await moderator.join(room)
    watcher = await production.audience(a, "Early Eve")
    first = await watcher.join(room)
    joiners = [
        Client.of(a, await audience_cookie(a, f"Joiner {k}"), f"joiner{k}") for k in range(120)
    ]
    production.clients.extend(joiners)
    await asyncio.gather(*(j.connect() for j in joiners))

    async def updates() -> None:
        for n in range(40):
            answer = await moderator.request(
                "room.update", room=room, stage_url=f"https://stage.example/join/{n}"
            )
            assert answer["type"] == "reply", answer

    snapshots, _ = await asyncio.gather(asyncio.gather(*(j.join(room) for j in joiners)), updates())
    _, last = await production.db.room_position(room)
    health = await a.health()
    assert health["direct_connections"] == (len(joiners) + 1 if direct == "true" else 0)
    everyone = [watcher, *joiners]
    for client in everyone:
        await client.wait_until(lambda c: c.last_seq(room) == last, within=30, what="last")

    gaps = []
    for joiner, snapshot in zip(joiners, snapshots, strict=True):
        after = joiner.seqs(room)
        if after != list(range(snapshot["seq"] + 1, last + 1)):
            gaps.append((joiner.name, snapshot["seq"], after))
    assert gaps == []
    assert watcher.seqs(room) == list(range(first["seq"] + 1, last + 1))
