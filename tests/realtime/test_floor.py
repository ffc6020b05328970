"""The floor and backstage over the live protocol, on real server processes.

A client holds a room by applying the events it gets to the snapshot it joined with
(:mod:`support.room_state`); after every floor and backstage action a fresh snapshot must say
the same, for staff, panel and audience. Across two processes over Redis, every screen shows the
same queue and the same speaker with the same server-time countdown; a backstage message to one
panelist reaches them and the staff, never the audience nor another panelist.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sqlalchemy import update
from support.clients import Client, Message
from support.room_state import instant, replay, sequenced
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1

from townhall.platform.models import Room

PARIS = f"{WORKSHOP_1}.5"  # the programme's "Paris (tbc)" slot on workshop 1's panel
ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


def off_the_document(clients: list[Client]) -> list[tuple[str, str, str]]:
    """Every message the clients got that breaks its docs/asyncapi.yaml payload schema:
    (client, message type, what is wrong). Snapshots are checked as clients hold them, with
    ``mine`` laid over ``state``."""
    document = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    by_type = {
        m["payload"]["properties"]["type"]["const"]: m["payload"]
        for m in document["components"]["messages"].values()
    }
    problems = []
    for client in clients:
        for message in client.messages:
            schema = {**by_type[message["type"]], "components": document["components"]}
            try:
                jsonschema.validate(message, schema)
            except jsonschema.ValidationError as exc:
                problems.append((client.name, message["type"], exc.message[:200]))
    return problems


def held(client: Client, room: int) -> Message:
    """What ``client`` holds of ``room``: its last snapshot with every event after it applied
    (events it is not sent leave gaps in ``seq``)."""
    snapshots = [m for m in client.messages if m["type"] == "room.snapshot" and m["room"] == room]
    last = snapshots[-1]
    after = client.messages[client.messages.index(last) + 1 :]
    events = [m for m in after if m["type"] == "event" and m["room"] == room]
    return replay(last, events, gaps=True)


def floor_of(client: Client, room: int) -> dict[str, Any]:
    return held(client, room)["state"]["floor"]


async def ok(client: Client, kind: str, /, **fields: Any) -> dict[str, Any]:
    """A command that must succeed; its reply's data."""
    answer = await client.request(kind, **fields)
    assert answer["type"] == "reply", (client.name, kind, fields, answer)
    return answer["data"]


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


async def speaking_time(stack: Stack, room: int, minutes: int) -> None:
    """The room's *Speaking time per speaker* (an organizer sets it in the console)."""
    async with stack.db.sessionmaker() as db:
        await db.execute(update(Room).where(Room.id == room).values(speaking_time_minutes=minutes))
        await db.commit()


def texts_of(client: Client) -> str:
    return json.dumps(client.messages, ensure_ascii=False)


# ---- snapshot + events == snapshot, for every tier ----------------------------------------
async def test_floor_and_backstage_replay_onto_snapshot_for_every_tier(embedded: Stack) -> None:
    server = embedded.server("a", now=MORNING)
    await embedded.start(server)
    room = embedded.rooms[WORKSHOP_1]
    await speaking_time(embedded, room, 3)
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
def refusal(answer: Message) -> dict[str, Any]:
    """An error without its prose and ref: its code and details."""
    assert answer["type"] == "error", answer
    return {k: v for k, v in answer.items() if k not in ("type", "ref", "message")}


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


# ---- two processes over Redis ---------------------------------------------------------------
async def start_pair(stack: Stack) -> tuple[ServerProcess, ServerProcess]:
    a, b = stack.servers("a", "b", now=MORNING)
    await stack.start(a, b)
    await speaking_time(stack, stack.rooms[WORKSHOP_1], 3)
    return a, b


async def same_floor(clients: list[Client], room: int, test: Any, within: float = 10.0) -> None:
    """Wait until every client holds a floor that passes ``test``."""
    await asyncio.gather(
        *(c.wait_until(lambda c: test(floor_of(c, room)), within, "the floor") for c in clients)
    )


@pytest.mark.multiprocess
@pytest.mark.postgres
@pytest.mark.redis
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


@pytest.mark.multiprocess
@pytest.mark.postgres
@pytest.mark.redis
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
