"""Presence samples with two server processes on one PostgreSQL and one Redis: one row per
room and interval (and per state change), holding the presence summed over both processes."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1

from townhall.platform.models import PresenceSample

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres, pytest.mark.redis]


async def rows(stack: Stack, room: int) -> list[tuple[int, int, int, int, int]]:
    async with stack.db.sessionmaker() as db:
        found = await db.scalars(
            select(PresenceSample)
            .where(PresenceSample.room_id == room)
            .order_by(PresenceSample.at, PresenceSample.id)
        )
        return [(s.bucket, s.state_seq, s.audience, s.panel, s.staff) for s in found.all()]


async def wait_rows(stack: Stack, room: int, test, within: float = 20.0) -> list:
    for _ in range(int(within * 10)):
        found = await rows(stack, room)
        if test(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"presence samples never matched: {await rows(stack, room)}")


async def test_two_processes_write_one_summed_sample_per_interval(production: Stack) -> None:
    a, b = production.servers("a", "b", now=MORNING)
    for server in (a, b):
        server.settings["TOWNHALL_PRESENCE_SAMPLE_SECONDS"] = "5"
    await production.start(a, b)
    room = production.rooms[WORKSHOP_1]
    for n, server in enumerate((a, a, b)):
        client = await production.audience(server, f"Viewer {n}")
        assert (await client.join(room))["type"] == "room.snapshot"
    moderator = await production.moderator(b, "Güldem Özdoğan")
    await moderator.join(room)

    def summed(row: tuple) -> bool:
        return row[2:] == (3, 0, 1)

    # Two intervals in which both processes had their people: both wrote, one row each.
    await wait_rows(production, room, lambda found: sum(map(summed, found)) >= 2)
    answer = await moderator.request("room.set_state", room=room, action="go_live")
    assert answer["type"] == "reply", answer
    went_live = (await production.db.logged(room, "room.state_changed"))[-1][0]
    found = await wait_rows(production, room, lambda found: any(r[1] == went_live for r in found))

    intervals = [row[0] for row in found if row[1] == 0]
    first = next(index for index, row in enumerate(found) if summed(row))
    assert len(intervals) == len(set(intervals))
    # Once everyone had joined, every sample holds both processes' people, counted once each.
    assert [row[2:] for row in found[first:]] == [(3, 0, 1)] * len(found[first:])
    assert [row[1:] for row in found if row[1]] == [(went_live, 3, 0, 1)]
