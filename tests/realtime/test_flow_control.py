"""Flow control on ``/ws``: the per-connection command rate, the per-connection byte budget
that closes a client too slow to keep up (4008) without holding up anyone else, and resuming
after such a close.
"""

from __future__ import annotations

import asyncio
import socket
from unittest.mock import ANY

import pytest
from support.clients import Client, audience_cookie
from support.stack import Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

FAST_COMMANDS = {"TOWNHALL_WS_COMMANDS_PER_SECOND": "10000", "TOWNHALL_WS_COMMAND_BURST": "10000"}


async def test_rate_limit_fourth_rapid_ping_waits_then_connection_works(production: Stack) -> None:
    server = production.server(
        "a", settings={"TOWNHALL_WS_COMMANDS_PER_SECOND": "1", "TOWNHALL_WS_COMMAND_BURST": "3"}
    )
    await production.start(server)
    client = await production.audience(server, "Rapid Ray")

    for n in range(4):
        await client.send({"type": "ping", "ref": f"p{n}"})
    answers = [await client.wait_for(lambda m, ref=f"p{n}": m.get("ref") == ref) for n in range(4)]
    retry_after = answers[3].get("retry_after", 0)
    await asyncio.sleep(retry_after)
    later = await client.request("ping")

    assert answers == [
        {"type": "pong", "ref": "p0"},
        {"type": "pong", "ref": "p1"},
        {"type": "pong", "ref": "p2"},
        {"type": "error", "ref": "p3", "code": "rate_limited", "message": ANY, "retry_after": ANY},
    ]
    assert 0 < retry_after <= 1
    assert later == {"type": "pong", "ref": ANY}


async def test_rate_limit_a_participants_sockets_share_one_budget(stack: Stack) -> None:
    # Each socket's bucket lets 3 commands through at once; the participant's budget is
    # burst + rate = 4 a second over all their sockets (counted in Redis in production).
    server = stack.server(
        "a", settings={"TOWNHALL_WS_COMMANDS_PER_SECOND": "1", "TOWNHALL_WS_COMMAND_BURST": "3"}
    )
    await stack.start(server)
    cookie = await audience_cookie(server, "Many Tabs")
    tabs = [await stack.client(server, cookie, f"tab {n}") for n in range(3)]
    quiet_tab = await stack.client(server, cookie, "quiet tab")
    other = await stack.audience(server, "Someone Else")
    room = stack.rooms[WORKSHOP_1]

    for tab in tabs:
        for n in range(3):
            await tab.send({"type": "room.leave", "ref": f"{tab.name}-{n}", "room": room})
    answers = [
        await tab.wait_for(lambda m, ref=f"{tab.name}-{n}": m.get("ref") == ref)
        for tab in tabs
        for n in range(3)
    ]
    pong = await quiet_tab.request("ping")
    others = [await other.request("room.leave", room=room) for _ in range(3)]

    codes = sorted(m["code"] for m in answers)
    assert codes == ["rate_limited"] * 5 + ["room.not_joined"] * 4, answers
    assert pong == {"type": "pong", "ref": ANY}  # ping is not counted against the participant
    assert [m["code"] for m in others] == ["room.not_joined"] * 3


def small_receive_buffer(port: int) -> socket.socket:
    """A connected socket whose receive window stays tiny: a reader that stops reading backs
    up to the server within a few kilobytes instead of the kernel's megabytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def flood(moderators: list[Client], room: int, per_moderator: int) -> None:
    """Large ``room.updated`` events (two URLs near the 1000-character limit), from several
    moderators at once so that they come quickly."""

    async def one(moderator: Client, k: int) -> None:
        for n in range(per_moderator):
            answer = await moderator.request(
                "room.update",
                room=room,
                stage_url=f"https://stage.example/{k}/{n}/" + "s" * 960,
                stream_url=f"https://stream.example/{k}/{n}/" + "t" * 960,
            )
            assert answer["type"] == "reply", answer

    await asyncio.gather(*(one(m, k) for k, m in enumerate(moderators)))


async def test_slow_consumer_closed_with_4008_while_others_keep_up(production: Stack) -> None:
    server = production.server(
        "a", now=MORNING, settings={"TOWNHALL_WS_SEND_BUFFER": "16384", **FAST_COMMANDS}
    )
    await production.start(server)
    room = production.rooms[WORKSHOP_1]
    moderators = [await production.moderator(server, f"Moderator {k}") for k in range(4)]
    for moderator in moderators:
        await moderator.join(room)
    keeping_up = await production.audience(server, "Quick Quinn")
    await keeping_up.join(room)
    slow = Client.of(server, await audience_cookie(server, "Sleepy Sam"), "slow")
    production.clients.append(slow)
    await slow.connect(sock=small_receive_buffer(server.port), max_queue=1)
    await slow.join(room)
    await slow.pause_reading()

    # The server's socket buffer alone takes about 4 MB on loopback: some 1,100 of these
    # events. Past it, the transport holds what the kernel would not take: 16 KiB at most.
    await flood(moderators, room, 400)
    _, last = await production.db.room_position(room)
    await keeping_up.wait_until(lambda c: c.last_seq(room) == last, within=10, what="all events")
    slow.start_reading()
    code = await slow.closed(within=15)

    assert (code, slow.close_reason) == (4008, "too slow: reconnect and resume")
    assert len(slow.events(room)) < last - 1, "the slow client was never closed"
    assert keeping_up.is_open and keeping_up.seqs(room) == list(range(1, last + 1))


async def resume_after_missing(production: Stack, budget: int | None, missed: int) -> Client:
    settings = {"TOWNHALL_WS_SEND_BUFFER": str(budget)} if budget else {}
    server = production.server("a", now=MORNING, settings=settings)
    await production.start(server)
    room = production.rooms[WORKSHOP_1]
    viewer = await production.audience(server, "Returning Rhea")
    await viewer.join(room)
    await viewer.close()
    # Nobody left in the room: its feed is closed, the next join reads the log afresh.
    await server.wait_health(lambda health: health["rooms"] == 0, "without open rooms")
    events = await production.db.update_room_many(room, missed, now=MORNING_UTC)
    last = events[-1].seq

    await viewer.connect()
    await viewer.send(
        {"type": "room.join", "ref": "back", "room": room, "since": since(viewer, room)}
    )
    await viewer.eventually(lambda c: c.last_seq(room) == last, within=30)
    await viewer.wait_for(lambda m: m.get("ref") == "back", within=30)
    return viewer


async def test_resume_inside_budget_replays_every_missed_event(production: Stack) -> None:
    # 300 room updates of about 130 bytes (deltas): well inside the default 512 KiB budget.
    viewer = await resume_after_missing(production, None, 300)
    room = production.rooms[WORKSHOP_1]

    outcome = {
        "resumed": [(m["from"], m["missed"]) for m in viewer.of_type("room.resumed")],
        "events": len(viewer.events(room)),
        "reply": [m["type"] for m in viewer.messages if m.get("ref") == "back"],
        "closed": viewer.close_code,
    }

    assert outcome == {"resumed": [(0, 300)], "events": 300, "reply": ["reply"], "closed": None}


async def test_resume_beyond_budget_gets_a_snapshot_not_a_close(production: Stack) -> None:
    # 400 missed updates (about 50 KB) cannot be replayed within a 16 KiB budget: the room's
    # state now (a few KB) is sent instead, and the connection stays open.
    viewer = await resume_after_missing(production, 16384, 400)
    room = production.rooms[WORKSHOP_1]
    snapshots = viewer.of_type("room.snapshot")

    outcome = {
        "resumed": viewer.of_type("room.resumed"),
        "snapshot": [(m["reason"], m["seq"]) for m in snapshots[1:]],
        "events": len(viewer.events(room)),
        "reply": [m["type"] for m in viewer.messages if m.get("ref") == "back"],
        "closed": viewer.close_code,
    }

    assert outcome == {
        "resumed": [],
        "snapshot": [("window", viewer.last_seq(room))],
        "events": 0,
        "reply": ["reply"],
        "closed": None,
    }


def since(client: Client, room: int) -> dict[str, object]:
    epoch, seq = client.positions[room]
    return {"epoch": epoch, "seq": seq}


async def test_gap_repair_larger_than_send_queue_keeps_reading_client(production: Stack) -> None:
    server = production.server("a", now=MORNING, settings={"TOWNHALL_WS_SEND_BUFFER": "16384"})
    await production.start(server)
    room = production.rooms[WORKSHOP_1]
    viewer = await production.audience(server, "Reading Rosa")
    await viewer.join(room)

    # 20 commits Redis never carried (say, during an outage): the sweep repairs the gap.
    events = await production.db.update_room_many(room, 20, now=MORNING_UTC)
    await viewer.eventually(lambda c: c.last_seq(room) == events[-1].seq, within=6)

    assert (viewer.close_code, len(viewer.events(room))) == (None, 20), (
        "a client that reads everything at once is closed with 4008 when a gap repair brings "
        "more bytes than its budget at once (the budget counts what the kernel has not taken, "
        "not what was written)"
    )
