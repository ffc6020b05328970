"""Snapshot before + events applied == snapshot after, for every room event a client can get.

A client keeps a room's state by applying events to the snapshot it joined with
(:mod:`support.room_state`, written from the protocol's description). After each action, a
fresh snapshot must equal what that client holds, field for field.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from support.clients import Client
from support.room_state import replay, without_clock
from support.stack import Stack
from support.summit import BEFORE_OPENING, MORNING, OPENING_UTC, WORKSHOP_1

from townhall.platform.seats import SeatedPerson

PARIS = f"{WORKSHOP_1}.5"  # the programme's "Paris (tbc)" slot on workshop 1's panel
# (command, fields) in an order every step of which is allowed from where the last one left off.
ACTIONS = [
    ("room.update", {"stage_url": "https://stage.example/main"}),
    ("room.update", {"stream_url": "https://stream.example/live.m3u8", "premoderation": False}),
    ("room.set_state", {"action": "open"}),
    ("room.set_state", {"action": "go_live"}),
    ("room.set_state", {"action": "end"}),
    ("room.set_state", {"action": "reopen"}),
    ("room.set_state", {"action": "end"}),
    ("room.set_state", {"action": "archive"}),
    ("room.set_state", {"action": "reopen"}),
    ("room.set_state", {"action": "follow_schedule"}),
    ("room.update", {"stage_url": "", "stream_url": ""}),
]


async def joined(stack: Stack) -> tuple[int, Client, Client]:
    server = stack.server("a", now=MORNING)
    await stack.start(server)
    room = stack.rooms[WORKSHOP_1]
    moderator = await stack.moderator(server)
    viewer = await stack.audience(server, "Replaying Rui")
    await moderator.join(room)
    return room, moderator, viewer


def events_after(client: Client, room: int, snapshot: dict) -> list[dict]:
    return [e for e in client.events(room) if e["seq"] > snapshot["seq"]]


async def test_room_commands_replay_onto_snapshot(stack: Stack) -> None:
    room, moderator, viewer = await joined(stack)
    before = await viewer.join(room)
    mismatches = []
    for kind, fields in ACTIONS:
        answer = await moderator.request(kind, room=room, **fields)
        assert answer["type"] == "reply", (kind, fields, answer)
        await viewer.wait_until(
            lambda c, seq=answer["data"]["seq"]: c.last_seq(room) >= seq, what=f"{kind} {fields}"
        )
        after = without_clock(await viewer.join(room))  # joining again gives a fresh snapshot
        held = replay(before, events_after(viewer, room, before))
        if held != after:
            mismatches.append((kind, fields, held, after))
        before = after
    assert mismatches == []
    assert after["state"]["room"]["state"] == "open"
    assert len(viewer.events(room)) == len(ACTIONS)


async def test_schedule_change_replays_onto_snapshot(stack: Stack) -> None:
    room, _, viewer = await joined(stack)
    before = await viewer.join(room)
    starts_at = datetime(2021, 12, 8, 13, 30, tzinfo=UTC)
    ends_at = datetime(2021, 12, 8, 15, 0, tzinfo=UTC)

    [moved] = await stack.db.move_session(WORKSHOP_1, starts_at=starts_at, ends_at=ends_at)
    # The import command publishes nothing: the hub's sweep brings it within a few seconds.
    await viewer.wait_until(lambda c: c.last_seq(room) == moved.seq, within=8, what="the move")
    after = without_clock(await viewer.join(room))

    events = events_after(viewer, room, before)
    assert [e["name"] for e in events] == ["room.schedule_changed"]
    held, fresh = replay(before, events)["state"]["room"], after["state"]["room"]
    differences = {k: (held[k], fresh[k]) for k in fresh if held.get(k) != fresh[k]}
    assert replay(before, events) == after, (
        "a client applying room.schedule_changed as documented (times replaced, opens_at "
        "moved by the same amount) does not hold the next snapshot; (held, fresh) where they "
        f"differ: {differences}"
    )


async def test_seat_filled_by_the_command_line_replays_onto_snapshot(stack: Stack) -> None:
    """``townhall seat`` commits ``room.people_changed`` and publishes nothing: the sweep brings
    it, and a client applying it as documented (people replaced, the questions put to the slot
    renamed) holds the next snapshot."""
    room, moderator, viewer = await joined(stack)
    await viewer.join(room)
    opened = await moderator.request("room.set_state", room=room, action="open")
    assert opened["type"] == "reply", opened
    asked = await viewer.request(
        "question.submit", room=room, text="How does Paris keep cool?", to=PARIS
    )
    assert asked["type"] == "reply", asked
    approved = await moderator.request(
        "question.approve", room=room, question=asked["data"]["question"]
    )
    assert approved["type"] == "reply", approved
    await viewer.wait_until(lambda c: c.last_seq(room) >= approved["data"]["seq"], what="approval")
    before = await viewer.join(room)

    [seated] = await stack.db.seat(WORKSHOP_1, "Paris", SeatedPerson(name="Anne Hidalgo"))
    await viewer.wait_until(lambda c: c.last_seq(room) == seated.seq, within=8, what="the seat")
    after = without_clock(await viewer.join(room))

    events = events_after(viewer, room, before)
    held = replay(before, events)
    assert [e["name"] for e in events] == ["room.people_changed"]
    assert held == after
    assert [(q["to"]["name"], q["to"]["city"]) for q in held["state"]["questions"]] == [
        ("Anne Hidalgo", "Paris")
    ]


@pytest.mark.postgres
@pytest.mark.redis
async def test_override_ending_at_boundary_replays_onto_snapshot(production: Stack) -> None:
    # Going live in the lobby's last seconds holds the override until the lobby opens (15:45).
    server = production.server("a", now=BEFORE_OPENING)
    await production.start(server)
    room = production.rooms[WORKSHOP_1]
    moderator = await production.moderator(server)
    viewer = await production.audience(server, "Patient Pat")
    await moderator.join(room)
    before = await viewer.join(room)
    answer = await moderator.request("room.set_state", room=room, action="go_live")
    assert answer["type"] == "reply", answer
    await viewer.wait_until(lambda c: c.last_seq(room) == answer["data"]["seq"], what="go_live")
    held = replay(before, events_after(viewer, room, before))["state"]["room"]
    assert (held["state"], held["follows_schedule"], held["manual_until"]) == (
        "live",
        False,
        "2021-12-08T12:45:00Z",
    ), "the boundary passed before the override: the server took too long to start"

    # Past the boundary the clock takes the room back (live stays live: it only moves forward).
    boundary = await production.db.wall_time_of(OPENING_UTC)
    await asyncio.sleep(max(0.0, (boundary - datetime.now(UTC)).total_seconds()) + 1.0)
    after = without_clock(await viewer.join(room))

    fresh = after["state"]["room"]
    assert replay(before, events_after(viewer, room, before)) == after, (
        "the override ran out at the boundary and the room now follows the schedule "
        f"(snapshot: follows_schedule={fresh['follows_schedule']}, manual_until="
        f"{fresh['manual_until']}), but no event told the clients, who still hold "
        f"follows_schedule={held['follows_schedule']}, manual_until={held['manual_until']}"
    )
