"""Two server processes on one PostgreSQL and one Redis: the same events in the same order on
both, failover after SIGKILL with ``since``, delivery of commits Redis never carried, a Redis
restart in the middle of a session, and presence summed over processes.
"""

from __future__ import annotations

import asyncio

import pytest
from support.clients import Client, update_stage
from support.room_state import apply_event
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]


async def start_pair(stack: Stack, **options: object) -> tuple[ServerProcess, ServerProcess]:
    a, b = stack.servers("a", "b", now=MORNING, **options)
    await stack.start(a, b)
    return a, b


async def viewers(stack: Stack, room: int, *servers: ServerProcess) -> list[Client]:
    """One joined audience member per server given."""
    joined = []
    for n, server in enumerate(servers):
        client = await stack.audience(server, f"Viewer {n} on {server.name}")
        assert (await client.join(room))["type"] == "room.snapshot"
        joined.append(client)
    return joined


async def converge(clients: list[Client], room: int, seq: int, within: float = 8.0) -> None:
    await asyncio.gather(
        *(c.wait_until(lambda c: c.last_seq(room) == seq, within, f"seq {seq}") for c in clients)
    )


async def test_two_processes_deliver_same_events_in_same_order(production: Stack) -> None:
    a, b = await start_pair(production)
    room = production.rooms[WORKSHOP_1]
    moderator_a = await production.moderator(a, "Moderator A")
    moderator_b = await production.moderator(b, "Moderator B")
    for moderator in (moderator_a, moderator_b):
        await moderator.join(room)
    clients = await viewers(production, room, a, a, b, b)

    # Both processes commit at once, so their events interleave in the log.
    await asyncio.gather(
        update_stage(moderator_a, room, 8, tag="a"), update_stage(moderator_b, room, 8, tag="b")
    )
    _, last = await production.db.room_position(room)
    everyone = [*clients, moderator_a, moderator_b]
    await converge(everyone, room, last)

    logged = await production.db.logged(room)
    seen = [[(e["seq"], e["name"], e["data"]) for e in c.events(room)] for c in everyone]
    assert seen == [logged] * len(everyone)
    assert [seq for seq, _, _ in logged] == list(range(1, 17))


async def test_sigkill_clients_resume_on_other_process_without_gap(production: Stack) -> None:
    a, b = await start_pair(production)
    room = production.rooms[WORKSHOP_1]
    moderator = await production.moderator(a)
    await moderator.join(room)
    on_b = await viewers(production, room, b, b)
    before = await update_stage(moderator, room, 3, tag="before")
    await converge(on_b, room, before[-1])

    b.kill()
    codes = [await c.closed(within=5) for c in on_b]
    during = await update_stage(moderator, room, 3, tag="during")
    await moderator.wait_until(lambda c: c.last_seq(room) == during[-1], what="a's feed")
    answers = []
    for client in on_b:
        client.url = a.ws_url  # the load balancer sends them to the survivor
        await client.connect()
        answers.append(await client.resume(room))
    after = await update_stage(moderator, room, 2, tag="after")
    await converge(on_b, room, after[-1])

    assert codes == [1006, 1006]
    assert [(m["type"], m["from"], m["missed"]) for m in answers] == [
        ("room.resumed", before[-1], 3)
    ] * 2
    expected = moderator.events(room)
    assert [e["seq"] for e in expected] == [*before, *during, *after]
    for client in on_b:
        assert client.events(room) == expected, f"{client.name}: a gap or a duplicate"


async def test_unpublished_commit_reaches_clients_of_both_processes(production: Stack) -> None:
    a, b = await start_pair(production)
    room = production.rooms[WORKSHOP_1]
    moderator = await production.moderator(a)
    await moderator.join(room)
    clients = await viewers(production, room, a, b)

    # A message Redis dropped: committed, never published. Only the sweep can deliver it.
    [lost] = await production.db.set_room_state(room, "go_live", now=MORNING_UTC)
    await converge(clients, room, lost.seq, within=6)
    # A dropped message followed by a published one: the published one reveals the gap.
    [hidden] = await production.db.update_room(
        room, now=MORNING_UTC, stage_url="https://hidden.example/"
    )
    [shown] = await update_stage(moderator, room, 1, tag="shown")
    await converge([*clients, moderator], room, shown, within=6)

    expected = [
        (lost.seq, "live", None),
        (hidden.seq, "live", "https://hidden.example/"),
        (shown, "live", "https://stage.example/shown/0"),
    ]
    for client in [*clients, moderator]:
        got = []
        state = client.of_type("room.snapshot")[0]["state"]
        for event in client.events(room):
            state = apply_event(state, event)
            got.append((event["seq"], state["room"]["state"], state["room"]["stage_url"]))
        assert got == expected, client.name


async def test_redis_restart_every_client_converges(production: Stack) -> None:
    redis_server = production.redis_server()
    redis_server.start()
    await redis_server.ready()
    a, b = await start_pair(production, redis_url=redis_server.url)
    room = production.rooms[WORKSHOP_1]
    moderator = await production.moderator(a)
    await moderator.join(room)
    clients = await viewers(production, room, a, a, b, b)
    first = await update_stage(moderator, room, 2, tag="first")
    await converge(clients, room, first[-1])

    redis_server.kill()
    await wait_connected(a, False)
    down = await update_stage(moderator, room, 3, tag="down")  # commit; publishing fails
    redis_server.start()
    await redis_server.ready()
    await converge([*clients, moderator], room, down[-1], within=10)
    for server in (a, b):
        await wait_connected(server)
    moderator_b = await production.moderator(b, "Moderator B")
    await moderator_b.join(room)
    [back] = await update_stage(moderator_b, room, 1, tag="back")
    await converge([*clients, moderator, moderator_b], room, back)

    logged = [
        (seq, data["changes"]["stage_url"]) for seq, _, data in await production.db.logged(room)
    ]
    assert [seq for seq, _ in logged] == [*first, *down, back]
    for client in [*clients, moderator]:
        got = [(e["seq"], e["data"]["changes"]["stage_url"]) for e in client.events(room)]
        assert got == logged, f"{client.name} lost or repeated a committed event"


async def wait_connected(server: ServerProcess, connected: bool = True) -> None:
    """Wait until the server's health says its broker is (or is not) connected to Redis."""
    what = "connected" if connected else "disconnected"
    await server.wait_health(lambda health: health["connected"] is connected, what)


def presence_of(client: Client) -> dict | None:
    found = client.of_type("presence")
    return found[-1] if found else None


async def wait_presence(clients: list[Client], expected: dict, within: float) -> None:
    await asyncio.gather(
        *(
            c.wait_until(lambda c: presence_of(c) == expected, within, f"presence {expected}")
            for c in clients
        )
    )


async def test_presence_sums_processes_and_forgets_dead_ones(production: Stack) -> None:
    a, b = await start_pair(production, settings={"TOWNHALL_PRESENCE_TTL_SECONDS": "3"})
    room = production.rooms[WORKSHOP_1]
    x1, x2, y = await viewers(production, room, a, a, b)
    moderator = await production.moderator(b, "Güldem Özdoğan")
    await moderator.join(room)
    everyone = [x1, x2, y, moderator]

    def expected(audience: int, people: list) -> dict:
        return {"type": "presence", "room": room, "audience": audience, "people": people}

    participant = production.participant_of(moderator)  # the invitation's own participant
    staff = [{"participant": participant, "name": "Güldem Özdoğan", "role": "moderator"}]
    await wait_presence(everyone, expected(3, staff), within=5)

    await x2.close()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await wait_presence([x1, y, moderator], expected(2, staff), within=5)
    dropped_after = loop.time() - started

    b.kill()
    started = loop.time()
    await wait_presence([x1], expected(1, []), within=10)
    forgotten_after = loop.time() - started

    assert dropped_after < 2.5, f"a departure took {dropped_after:.1f}s to show"
    assert forgotten_after < 3 + 2.5, f"a dead process's members took {forgotten_after:.1f}s to go"
