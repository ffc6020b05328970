"""A room's lifecycle as clients see it: the programme clock opening the lobby at its boundary
exactly once (even with two schedulers), moderator overrides, refused transitions, and two
moderators racing for the same action.
"""

from __future__ import annotations

import asyncio
from unittest.mock import ANY

import pytest
from support.clients import Client
from support.room_state import replay
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import BEFORE_OPENING, MORNING, WORKSHOP_1


def transitions(client: Client, room: int) -> list[tuple[str, str, str]]:
    """(previous, state, by) of each room.state_changed the client got."""
    return [
        (e["data"]["previous"], e["data"]["changes"]["state"], e["data"]["by"])
        for e in client.events(room, "room.state_changed")
    ]


async def test_moderator_overrides_go_live_end_reopen(stack: Stack) -> None:
    server = stack.server("a", now=MORNING)
    await stack.start(server)
    room = stack.rooms[WORKSHOP_1]
    moderator = await stack.moderator(server)
    viewer = await stack.audience(server, "Lifecycle Lea")
    await moderator.join(room)
    await viewer.join(room)

    answers = [
        await moderator.request("room.set_state", room=room, action=action)
        for action in ("go_live", "end", "reopen", "reopen", "archive")
    ]
    await viewer.wait_until(lambda c: len(c.events(room)) >= 3, what="three transitions")

    refused = {"type": "error", "ref": ANY, "code": "room.invalid_transition", "message": ANY}
    assert answers == [
        {"type": "reply", "ref": ANY, "data": {"seq": 1}},
        {"type": "reply", "ref": ANY, "data": {"seq": 2}},
        {"type": "reply", "ref": ANY, "data": {"seq": 3}},
        {**refused, "state": "open"},  # reopen: only an ended or archived room
        {**refused, "state": "open"},  # archive: only an ended room
    ]
    assert transitions(viewer, room) == [
        ("scheduled", "live", "moderator"),
        ("live", "ended", "moderator"),
        ("ended", "open", "moderator"),
    ]
    assert [e["seq"] for e in viewer.events(room)] == [1, 2, 3]


async def race(stack: Stack, room: int, first: ServerProcess, second: ServerProcess) -> None:
    """Two moderators (on ``first`` and ``second``) send go_live at the same moment."""
    moderators = [
        await stack.moderator(first, "Racing Rosa"),
        await stack.moderator(second, "Racing Rob"),
    ]
    for moderator in moderators:
        await moderator.join(room)
    watchers = [
        await stack.audience(server, f"Watching on {server.name}")
        for server in dict.fromkeys((first, second))
    ]
    for watcher in watchers:
        await watcher.join(room)

    answers = await asyncio.gather(
        *(m.request("room.set_state", room=room, action="go_live") for m in moderators)
    )
    for client in [*watchers, *moderators]:
        await client.wait_until(lambda c: len(c.events(room)) >= 1, what="the transition")
    await asyncio.sleep(1.0)  # room for a second transition to show up, if there were one

    outcomes = sorted(a["type"] if a["type"] == "reply" else a["code"] for a in answers)
    assert outcomes in (["reply", "room.conflict"], ["reply", "room.invalid_transition"]), answers
    logged = await stack.db.logged(room, "room.state_changed")
    assert [(seq, data["changes"]["state"]) for seq, _, data in logged] == [(1, "live")]
    for client in [*watchers, *moderators]:
        assert transitions(client, room) == [("scheduled", "live", "moderator")], client.name


async def test_moderators_racing_same_action_one_wins(stack: Stack) -> None:
    server = stack.server("a", now=MORNING)
    await stack.start(server)
    await race(stack, stack.rooms[WORKSHOP_1], server, server)


@pytest.mark.multiprocess
@pytest.mark.postgres
@pytest.mark.redis
async def test_moderators_racing_on_two_processes_one_wins(production: Stack) -> None:
    a, b = production.servers("a", "b", now=MORNING)
    await production.start(a, b)
    await race(production, production.rooms[WORKSHOP_1], a, b)


async def boundary_opens_room_once(stack: Stack, servers: list[ServerProcess]) -> None:
    await stack.start(*servers)
    room = stack.rooms[WORKSHOP_1]
    watchers = [await stack.audience(server, f"Early on {server.name}") for server in servers]
    snapshots = [await watcher.join(room) for watcher in watchers]
    assert [s["state"]["room"]["state"] for s in snapshots] == ["scheduled"] * len(servers), (
        "the lobby was already open when the clients joined: the servers took longer to start "
        "than the margin before the boundary"
    )

    for watcher in watchers:
        await watcher.wait_until(
            lambda c: bool(c.events(room, "room.state_changed")), within=15, what="the opening"
        )
    await asyncio.sleep(1.5)  # a second scheduler's duplicate would arrive by now

    for watcher in watchers:
        assert transitions(watcher, room) == [("scheduled", "open", "schedule")], watcher.name
    logged = await stack.db.logged(room, "room.state_changed")
    assert [(data["previous"], data["changes"]["state"], data["by"]) for _, _, data in logged] == [
        ("scheduled", "open", "schedule")
    ]
    opened = replay(watchers[0].of_type("room.snapshot")[0], watchers[0].events(room))["state"][
        "room"
    ]
    assert (opened["opens_at"], opened["state_since"][:19]) == (
        "2021-12-08T12:45:00Z",
        "2021-12-08T12:45:00",
    )


async def test_schedule_boundary_opens_room_once(embedded: Stack) -> None:
    await boundary_opens_room_once(embedded, [embedded.server("a", now=BEFORE_OPENING)])


@pytest.mark.multiprocess
@pytest.mark.postgres
@pytest.mark.redis
async def test_schedule_boundary_two_schedulers_open_room_once(production: Stack) -> None:
    await boundary_opens_room_once(production, production.servers("a", "b", now=BEFORE_OPENING))
