"""Resuming with ``since``: exactly the missed events inside the replay window, a snapshot
(``reason: "window"``) beyond it, a snapshot (``reason: "epoch"``) for an epoch the room no
longer has. Each on one process, embedded (SQLite) and production (PostgreSQL + Redis).
"""

from __future__ import annotations

from support.clients import Client, update_stage
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1


async def start_room(stack: Stack, **settings: str) -> tuple[ServerProcess, int, Client, Client]:
    """One server at 12:00 on 8 December; workshop 1's room with a moderator and a viewer."""
    server = stack.server("a", now=MORNING, settings=settings)
    await stack.start(server)
    room = stack.rooms[WORKSHOP_1]
    moderator = await stack.moderator(server)
    assert (await moderator.join(room))["type"] == "room.snapshot"
    viewer = await stack.audience(server, "Vera Viewer")
    assert (await viewer.join(room))["type"] == "room.snapshot"
    return server, room, moderator, viewer


async def drop_and_miss(
    viewer: Client, moderator: Client, room: int, count: int, tag: str
) -> list[int]:
    """The viewer's connection drops; ``count`` events happen while it is away.

    Returns once the moderator (on the same process) has them too: the process's feed has
    taken them in, so a resume now is answered with all of them in ``room.resumed``. (Before
    that, a resume is still right but splits them between ``room.resumed`` and live events.)
    """
    await viewer.close()
    seqs = await update_stage(moderator, room, count, tag=tag)
    await moderator.wait_until(lambda c: c.last_seq(room) == seqs[-1], what=f"seq {seqs[-1]}")
    return seqs


async def test_resume_after_drop_gets_exactly_missed_events(stack: Stack) -> None:
    _, room, moderator, viewer = await start_room(stack)
    [seen] = await update_stage(moderator, room, 1, tag="seen")
    await viewer.wait_until(lambda c: c.last_seq(room) == seen, what=f"seq {seen}")
    epoch = viewer.positions[room][0]

    missed = await drop_and_miss(viewer, moderator, room, 3, "missed")
    await viewer.connect()
    resumed = await viewer.resume(room)
    await viewer.wait_until(lambda c: c.last_seq(room) == missed[-1], what=f"seq {missed[-1]}")
    [after] = await update_stage(moderator, room, 1, tag="after")
    await viewer.wait_until(lambda c: c.last_seq(room) == after, what=f"seq {after}")
    await moderator.wait_until(lambda c: c.last_seq(room) == after, what=f"seq {after}")

    assert resumed == {
        "type": "room.resumed",
        "room": room,
        "epoch": epoch,
        "from": seen,
        "seq": missed[-1],
        "missed": 3,
    }
    assert viewer.seqs(room) == [seen, *missed, after], "a gap or a duplicate around the resume"
    stage_urls = [e["data"]["changes"]["stage_url"] for e in viewer.events(room)]
    assert stage_urls == [
        "https://stage.example/seen/0",
        "https://stage.example/missed/0",
        "https://stage.example/missed/1",
        "https://stage.example/missed/2",
        "https://stage.example/after/0",
    ]
    assert viewer.events(room) == moderator.events(room)


async def test_resume_beyond_replay_window_gets_window_snapshot(stack: Stack) -> None:
    _, room, moderator, viewer = await start_room(stack, TOWNHALL_REPLAY_WINDOW="5")
    epoch, start = viewer.positions[room]

    inside = await drop_and_miss(viewer, moderator, room, 5, "inside")
    await viewer.connect()
    resumed = await viewer.resume(room)
    await viewer.wait_until(lambda c: c.last_seq(room) == inside[-1], what=f"seq {inside[-1]}")

    beyond = await drop_and_miss(viewer, moderator, room, 6, "beyond")
    await viewer.connect()
    snapshot = await viewer.resume(room)

    assert resumed == {
        "type": "room.resumed",
        "room": room,
        "epoch": epoch,
        "from": start,
        "seq": start + 5,
        "missed": 5,
    }
    assert (snapshot["type"], snapshot["reason"], snapshot["epoch"], snapshot["seq"]) == (
        "room.snapshot",
        "window",
        epoch,
        beyond[-1],
    )
    assert snapshot["state"]["room"]["stage_url"] == "https://stage.example/beyond/5"
    assert viewer.seqs(room) == inside, "events beyond the window were replayed one by one"


async def test_resume_with_unknown_epoch_gets_epoch_snapshot(stack: Stack) -> None:
    _, room, moderator, viewer = await start_room(stack)
    epoch, _ = viewer.positions[room]
    missed = await drop_and_miss(viewer, moderator, room, 2, "missed")
    await viewer.connect()

    snapshot = await viewer.join(room, since=("0123456789ab", 1))

    assert (snapshot["type"], snapshot["reason"], snapshot["epoch"], snapshot["seq"]) == (
        "room.snapshot",
        "epoch",
        epoch,
        missed[-1],
    )
    assert snapshot["state"]["room"]["stage_url"] == "https://stage.example/missed/1"


async def test_resume_from_seq_ahead_of_room_gets_snapshot(stack: Stack) -> None:
    _, room, _, viewer = await start_room(stack)
    epoch, now_at = viewer.positions[room]
    await viewer.close()
    await viewer.connect()

    answer = await viewer.join(room, since=(epoch, now_at + 1000))

    assert (answer["type"], answer["epoch"], answer["seq"]) == ("room.snapshot", epoch, now_at)
