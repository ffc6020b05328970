"""The floor and backstage across two server processes over one PostgreSQL and one Redis.

Every screen, on either process, shows the same queue and the same speaker with the same
countdown (server time); two moderators granting at once: one wins, the other gets the fresh
floor; clients of a killed process resume on the other and keep the countdown. A backstage
message to one panelist reaches them and the staff, never the audience nor another panelist.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.clients import Client, floor_of, ok, refusal
from support.room_state import instant
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]

PARIS = f"{WORKSHOP_1}.5"  # the programme's "Paris (tbc)" slot on workshop 1's panel


def texts_of(client: Client) -> str:
    return json.dumps(client.messages, ensure_ascii=False)


async def start_pair(stack: Stack) -> tuple[ServerProcess, ServerProcess]:
    a, b = stack.servers("a", "b", now=MORNING)
    await stack.start(a, b)
    await stack.db.set_speaking_time(stack.rooms[WORKSHOP_1], 3)
    return a, b


async def same_floor(clients: list[Client], room: int, test: Any, within: float = 10.0) -> None:
    """Wait until every client holds a floor that passes ``test``."""
    await asyncio.gather(
        *(c.wait_until(lambda c: test(floor_of(c, room)), within, "the floor") for c in clients)
    )


async def test_two_processes_show_the_same_queue_and_speaker_with_server_time(
    production: Stack,
) -> None:
    a, b = await start_pair(production)
    room = production.rooms[WORKSHOP_1]
    moderator_a = await production.moderator(a, "Moderator A")
    moderator_b = await production.moderator(b, "Moderator B")
    sameh = await production.panelist(a, "sameh-wahba", "Sameh on a")
    paris = await production.panelist(b, PARIS, "Paris on b")
    lina = await production.panelist(b, "lina-liakou", "Lina on b")
    audience_a = await production.audience(a, "Audience on a")
    audience_b = await production.audience(b, "Audience on b")
    everyone = [moderator_a, moderator_b, sameh, paris, lina, audience_a, audience_b]
    for client in everyone:
        assert (await client.join(room))["type"] == "room.snapshot"
    await ok(moderator_a, "room.set_state", room=room, action="go_live")

    await ok(sameh, "floor.request", room=room, kind="contribution")
    await ok(paris, "floor.request", room=room, kind="contribution")
    await ok(lina, "floor.request", room=room, kind="point_of_order")
    await same_floor(everyone, room, lambda f: len(f["queue"]) == 3)
    queued = floor_of(moderator_b, room)
    granted = await ok(moderator_b, "floor.grant", room=room, version=queued["version"])
    await same_floor(everyone, room, lambda f: f["speaking"] is not None)
    floors = [floor_of(c, room) for c in everyone]
    turn = floors[0]["speaking"]
    granted_at = instant(turn["granted_at"])

    # Two moderators on two processes grant the next request at once: one wins.
    version = floors[0]["version"]
    race = await asyncio.gather(
        moderator_a.request("floor.grant", room=room, version=version),
        moderator_b.request("floor.grant", room=room, version=version),
    )
    [lost] = [answer for answer in race if answer["type"] == "error"]
    [won] = [answer for answer in race if answer["type"] == "reply"]
    await same_floor(everyone, room, lambda f: (f["speaking"] or {}).get("person") == "sameh-wahba")
    now_granted = moderator_a.events(room, "floor.granted")[-1]

    assert (
        [(r["person"], r["kind"], r["city"]) for r in queued["queue"]],
        floors == [floors[0]] * len(everyone),
        (turn["person"], turn["limit_seconds"]),
        instant(turn["ends_at"]) - granted_at,
        # The rehearsal clock's time (December 2021), as the servers keep it: not the client's.
        abs(await production.db.wall_time_of(granted_at) - datetime.now(UTC))
        < timedelta(minutes=1),
        granted["seq"] <= now_granted["seq"] == won["data"]["seq"],
        refusal(lost),
    ) == (
        [
            ("lina-liakou", "point_of_order", None),
            ("sameh-wahba", "contribution", None),
            (PARIS, "contribution", "Paris"),
        ],
        True,
        ("lina-liakou", 180),
        timedelta(seconds=180),
        True,
        True,
        {"code": "floor.conflict", "floor": now_granted["data"]["floor"]},
    ), "the speaker, limit and countdown are the server's, the same on every screen"

    # Process b dies: its clients resume on a and keep the countdown (server time).
    before = {c.name: floor_of(c, room) for c in (paris, audience_b)}
    b.kill()
    resumed = {}
    for client in (paris, audience_b):
        await client.closed(within=5)
        client.url = a.ws_url
        await client.connect()
        resumed[client.name] = (await client.resume(room))["type"]
    late = await production.audience(a, "Late on a")
    fresh = (await late.join(room))["state"]["floor"]

    assert (resumed, {c.name: floor_of(c, room) for c in (paris, audience_b)}, fresh) == (
        {"Paris on b": "room.resumed", "Audience on b": "room.resumed"},
        before,
        floor_of(moderator_a, room),
    )
    assert fresh["speaking"]["granted_at"] == now_granted["data"]["floor"]["speaking"]["granted_at"]

    # Every hello and snapshot, from either process (Paris's and the audience's on b, then on a
    # after the kill), carries the servers' shared rehearsal clock: clients re-derive from it.
    readings = [
        (c.name, m["type"], instant(m["now"]))
        for c in (*everyone, late)
        for m in c.messages
        if m.get("type") in ("hello", "room.snapshot")
    ]
    off = [
        (name, kind, at)
        for name, kind, at in readings
        if abs(await production.db.wall_time_of(at) - datetime.now(UTC)) > timedelta(minutes=1)
    ]
    hellos = {name for name, kind, _ in readings if kind == "hello"}
    assert (off, len(hellos), [k for n, k, _ in readings if n == "Paris on b"]) == (
        [],
        len(everyone) + 1,
        ["hello", "room.snapshot", "hello"],
    )


async def test_backstage_to_one_panelist_reaches_them_and_staff_never_the_audience(
    production: Stack,
) -> None:
    a, b = await start_pair(production)
    room = production.rooms[WORKSHOP_1]
    moderator_a = await production.moderator(a, "Moderator A")
    moderator_b = await production.moderator(b, "Moderator B")
    sameh = await production.panelist(a, "sameh-wahba", "Sameh on a")
    lina = await production.panelist(b, "lina-liakou", "Lina on b")
    audience = [
        await production.audience(a, "Audience on a"),
        await production.audience(b, "Audience on b"),
    ]
    everyone = [moderator_a, moderator_b, sameh, lina, *audience]
    for client in everyone:
        await client.join(room)
    await ok(moderator_a, "room.set_state", room=room, action="go_live")
    secret = "Sameh: the next question is for you (whisper 7f3a)"

    sent = await ok(moderator_b, "backstage.send", room=room, text=secret, to="sameh-wahba")
    to_panel = await ok(moderator_a, "backstage.send", room=room, text="Two minutes left")
    # A public event after both: once every client has it, each has whatever it was sent.
    marker = await ok(lina, "floor.request", room=room, kind="contribution")
    await asyncio.gather(
        *(c.wait_until(lambda c: c.last_seq(room) >= marker["seq"], 10) for c in everyone)
    )
    rejoined = {c.name: (await c.join(room))["state"].get("backstage") for c in everyone}

    def got(client: Client) -> list[str]:
        return [e["data"]["message"]["text"] for e in client.events(room, "backstage.sent")]

    assert {c.name: got(c) for c in everyone} == {
        "Moderator A": [secret, "Two minutes left"],
        "Moderator B": [secret, "Two minutes left"],
        "Sameh on a": [secret, "Two minutes left"],
        "Lina on b": ["Two minutes left"],
        "Audience on a": [],
        "Audience on b": [],
    }
    assert {name: sorted(m["text"] for m in part or []) for name, part in rejoined.items()} == {
        "Moderator A": [secret, "Two minutes left"],
        "Moderator B": [secret, "Two minutes left"],
        "Sameh on a": [secret, "Two minutes left"],
        "Lina on b": ["Two minutes left"],
        "Audience on a": [],
        "Audience on b": [],
    }
    assert [
        (
            c.name,
            "backstage" in texts_of(c),
            "whisper 7f3a" in texts_of(c),
            sent["message"] in texts_of(c),
        )
        for c in [lina, *audience]
    ] == [
        ("Lina on b", True, False, False),
        ("Audience on a", False, False, False),
        ("Audience on b", False, False, False),
    ]
    assert to_panel["seq"] > sent["seq"]
