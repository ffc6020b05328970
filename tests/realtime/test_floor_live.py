"""The floor and backstage over the live protocol, on one server process.

A client holds a room by applying the events it gets to the snapshot it joined with
(:mod:`support.room_state`); after every floor and backstage action a fresh snapshot must say
the same, for staff, panel and audience. Refusals are typed errors; a panelist's own snapshot
part names their queued request. Two processes: ``test_floor_multiprocess.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from support.asyncapi import off_the_document
from support.clients import Client, Message, floor_of, held, ok, refusal
from support.room_state import replay, sequenced
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1

PARIS = f"{WORKSHOP_1}.5"  # the programme's "Paris (tbc)" slot on workshop 1's panel


async def reached(clients: list[Client], room: int, seq: int, within: float = 10.0) -> None:
    """Every client has been sent everything it may see up to ``seq``: each rejoins, and its
    snapshot is at ``seq`` or later (a connection is sent events in order, so anything before
    the snapshot arrived before it)."""
    for client in clients:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            snapshot = await client.join(room)
            assert snapshot["type"] == "room.snapshot", snapshot
            if snapshot["seq"] >= seq:
                break
            assert asyncio.get_running_loop().time() < deadline, (client.name, snapshot["seq"])
            await asyncio.sleep(0.1)


# ---- snapshot + events == snapshot, for every tier ----------------------------------------
async def test_floor_and_backstage_replay_onto_snapshot_for_every_tier(embedded: Stack) -> None:
    server = embedded.server("a", now=MORNING)
    await embedded.start(server)
    room = embedded.rooms[WORKSHOP_1]
    await embedded.db.set_speaking_time(room, 3)
    moderator = await embedded.moderator(server)
    sameh = await embedded.panelist(server, "sameh-wahba", "Sameh")
    lina = await embedded.panelist(server, "lina-liakou", "Lina")
    audience = await embedded.audience(server, "Replaying Rui")
    everyone = [moderator, sameh, lina, audience]
    for client in everyone:
        await client.join(room)
    await ok(moderator, "room.set_state", room=room, action="go_live")
    ids: dict[str, int] = {}

    def version() -> int:
        return floor_of(moderator, room)["version"]

    async def ask(who: Client, name: str, kind: str) -> dict[str, Any]:
        data = await ok(who, "floor.request", room=room, kind=kind)
        ids[name] = data["request"]
        return data

    async def add(name: str, person: str, kind: str) -> dict[str, Any]:
        data = await ok(
            moderator, "floor.add", room=room, person=person, kind=kind, version=version()
        )
        ids[name] = data["request"]
        return data

    steps: list[tuple[str, Any]] = [
        ("sameh asks", lambda: ask(sameh, "sameh", "contribution")),
        ("lina asks", lambda: ask(lina, "lina", "contribution")),
        ("rusen added, point of order", lambda: add("rusen", "rusen-keles", "point_of_order")),
        (
            "reordered",
            lambda: ok(
                moderator,
                "floor.reorder",
                room=room,
                version=version(),
                order=[ids["rusen"], ids["lina"], ids["sameh"]],
            ),
        ),
        ("granted, head", lambda: ok(moderator, "floor.grant", room=room, version=version())),
        ("lina withdraws", lambda: ok(lina, "floor.withdraw", room=room, request=ids["lina"])),
        ("lina replies", lambda: ask(lina, "lina_reply", "reply")),
        (
            "limit changed",
            lambda: ok(moderator, "floor.set_limit", room=room, seconds=120, version=version()),
        ),
        ("backstage to panel", lambda: ok(moderator, "backstage.send", room=room, text="Hello")),
        (
            "backstage to sameh",
            lambda: ok(
                moderator, "backstage.send", room=room, text="You are next", to="sameh-wahba"
            ),
        ),
        ("sameh backstage", lambda: ok(sameh, "backstage.send", room=room, text="Ready")),
        (
            "sameh granted, rusen's turn ends",
            lambda: ok(
                moderator,
                "floor.grant",
                room=room,
                request=ids["sameh"],
                limit=90,
                version=version(),
            ),
        ),
        ("sameh yields", lambda: ok(sameh, "floor.end_turn", room=room)),
        ("lina granted", lambda: ok(moderator, "floor.grant", room=room, version=version())),
        ("sameh added", lambda: add("sameh_again", "sameh-wahba", "contribution")),
        ("room ends", lambda: ok(moderator, "room.set_state", room=room, action="end")),
    ]
    before = {c.name: await c.join(room) for c in everyone}
    mismatches, seen = [], {c.name: set() for c in everyone}
    for label, step in steps:
        data = await step()
        await reached(everyone, room, data["seq"])
        for client in everyone:
            after = held(client, room)  # the snapshot just taken: no events after it yet
            fresh = [m for m in client.messages if m["type"] == "room.snapshot"][-1]
            events = [
                m
                for m in client.events(room)
                if before[client.name]["seq"] < m["seq"] <= fresh["seq"]
            ]
            seen[client.name].update(e["name"] for e in events)
            kept = replay(before[client.name], events, gaps=True)
            if sequenced(kept["state"]) != sequenced(after["state"]):
                mismatches.append((label, client.name, kept["state"], after["state"]))
            before[client.name] = fresh

    final = {c.name: held(c, room)["state"] for c in everyone}
    assert mismatches == []
    assert (
        final["Replaying Rui"]["floor"],
        {name: sorted(m["text"] for m in s.get("backstage", [])) for name, s in final.items()},
        sorted(seen["Replaying Rui"]),
        seen["Güldem Özdoğan"] - seen["Replaying Rui"],
    ) == (
        {"version": final["Güldem Özdoğan"]["floor"]["version"], "queue": [], "speaking": None},
        {
            "Güldem Özdoğan": ["Hello", "Ready", "You are next"],
            "Sameh": ["Hello", "Ready", "You are next"],
            "Lina": ["Hello", "Ready"],
            "Replaying Rui": [],
        },
        [
            "floor.closed", "floor.granted", "floor.limit_changed", "floor.reordered",
            "floor.requested", "floor.turn_ended", "floor.withdrawn", "room.state_changed",
        ],
        {"backstage.sent", "floor.airtime_changed"},
    )  # fmt: skip
    assert "backstage" not in final["Replaying Rui"] and "floor_airtime" not in final["Lina"]
    assert off_the_document(everyone) == []


# ---- refusals -------------------------------------------------------------------------------
async def test_floor_refusals_are_typed_errors(embedded: Stack) -> None:
    server = embedded.server("a", now=MORNING)
    await embedded.start(server)
    room, other = embedded.rooms[WORKSHOP_1], embedded.rooms["workshop-3-dialogue-solidarity"]
    moderator = await embedded.moderator(server)
    sameh = await embedded.panelist(server, "sameh-wahba", "Sameh")
    audience = await embedded.audience(server, "Ada")
    for client in (moderator, sameh, audience):
        await client.join(room)
    await sameh.join(other)
    closed = refusal(await sameh.request("floor.request", room=room, kind="contribution"))
    await ok(moderator, "room.set_state", room=room, action="go_live")

    mine = (await ok(sameh, "floor.request", room=room, kind="contribution"))["request"]
    again = refusal(await sameh.request("floor.request", room=room, kind="point_of_order"))
    await ok(sameh, "floor.withdraw", room=room, request=mine)
    withdrawn = refusal(await moderator.request("floor.grant", room=room, request=mine))
    answers = {
        "audience asks": await audience.request("floor.request", room=room, kind="contribution"),
        "panelist grants": await sameh.request("floor.grant", room=room),
        "panelist elsewhere": await sameh.request("floor.request", room=other, kind="reply"),
        "bad kind": await sameh.request("floor.request", room=room, kind="speech"),
        "empty queue": await moderator.request("floor.grant", room=room),
        "too long a turn": await moderator.request("floor.grant", room=room, limit=5 * 3600),
        "audience backstage": await audience.request("backstage.send", room=room, text="Hi"),
        "panelist to one": await sameh.request(
            "backstage.send", room=room, text="Hi", to="lina-liakou"
        ),
        "too big an id": await sameh.request("floor.withdraw", room=room, request=2**31),
    }
    empty = moderator.events(room, "floor.withdrawn")[-1]["data"]["floor"]

    assert closed == {"code": "floor.room_closed"}
    requested = moderator.events(room, "floor.requested")[-1]["data"]["floor"]
    assert (again, [r["id"] for r in requested["queue"]]) == (
        {"code": "floor.duplicate", "floor": requested},
        [mine],
    )
    # Refusals carry the floor as committed: its version is the one the next command needs.
    assert (withdrawn, empty["queue"], empty["speaking"]) == (
        {"code": "floor.withdrawn", "floor": empty},
        [],
        None,
    )
    assert {label: refusal(answer) for label, answer in answers.items()} == {
        "audience asks": {"code": "floor.panel_only"},
        "panelist grants": {"code": "room.forbidden"},
        "panelist elsewhere": {"code": "floor.panel_only"},
        "bad kind": {
            "code": "floor.invalid_kind",
            "kinds": ["contribution", "reply", "point_of_order"],
        },
        "empty queue": {"code": "floor.queue_empty"},
        "too long a turn": {"code": "floor.invalid_limit", "minimum": 10, "maximum": 14400},
        "audience backstage": {"code": "backstage.forbidden"},
        "panelist to one": {"code": "backstage.moderators_only"},
        "too big an id": {"code": "message.invalid"},
    }
    assert off_the_document([moderator, sameh, audience]) == []


async def test_my_floor_request_in_each_panelists_own_part(embedded: Stack) -> None:
    server = embedded.server("a", now=MORNING)
    await embedded.start(server)
    room = embedded.rooms[WORKSHOP_1]
    moderator = await embedded.moderator(server)
    sameh = await embedded.panelist(server, "sameh-wahba", "Sameh")
    paris = await embedded.panelist(server, PARIS, "Paris")
    lina = await embedded.panelist(server, "lina-liakou", "Lina")
    audience = await embedded.audience(server, "Ada")
    for client in (moderator, sameh, paris, lina, audience):
        await client.join(room)
    await ok(moderator, "room.set_state", room=room, action="go_live")
    asked = (await ok(sameh, "floor.request", room=room, kind="contribution"))["request"]
    version = (await moderator.join(room))["state"]["floor"]["version"]
    added = await ok(moderator, "floor.add", room=room, person=PARIS, version=version)

    def mine(snapshot: Message) -> Any:
        return snapshot["state"].get("my_floor_request", "absent")

    first = {c.name: mine(await c.join(room)) for c in (sameh, paris, lina, audience)}
    await ok(sameh, "floor.withdraw", room=room, request=asked)
    after = {c.name: mine(await c.join(room)) for c in (sameh, paris)}

    assert (first, after) == (
        {"Sameh": asked, "Paris": added["request"], "Lina": "absent", "Ada": "absent"},
        {"Sameh": "absent", "Paris": added["request"]},
    ), "a request the moderator added for the slot is the slot's panelist's own too"
