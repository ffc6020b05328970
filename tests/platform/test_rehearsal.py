"""Processes started with the same TOWNHALL_NOW share one rehearsal clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from townhall.platform.rehearsal import REUSE_FOR, anchor_offset

REQUESTED = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)
WALL = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


async def test_processes_starting_together_agree_on_one_anchor(sessionmaker) -> None:
    async with sessionmaker() as first, sessionmaker() as second:
        # The first has inserted its anchor but not committed when the second looks.
        offset_first = await anchor_offset(first, requested=REQUESTED, wall_now=WALL)
        racing = asyncio.create_task(
            anchor_offset(second, requested=REQUESTED, wall_now=WALL + timedelta(milliseconds=2))
        )
        await asyncio.sleep(0.2)  # the second is now waiting on the first's insert
        await first.commit()
        offset_second = await asyncio.wait_for(racing, timeout=30)
        await second.commit()
    assert offset_first == offset_second == REQUESTED - WALL


async def test_a_later_process_joins_the_running_rehearsal(sessionmaker) -> None:
    async with sessionmaker() as db:
        await anchor_offset(db, requested=REQUESTED, wall_now=WALL)
        await db.commit()
        later = await anchor_offset(db, requested=REQUESTED, wall_now=WALL + timedelta(hours=2))
    # The clock of a process started two hours later shows the same instant as the first's.
    assert WALL + timedelta(hours=2) + later == REQUESTED + timedelta(hours=2)


async def test_a_stale_rehearsal_starts_afresh(sessionmaker) -> None:
    async with sessionmaker() as db:
        await anchor_offset(db, requested=REQUESTED, wall_now=WALL)
        await db.commit()
        next_day = WALL + REUSE_FOR + timedelta(minutes=1)
        offset = await anchor_offset(db, requested=REQUESTED, wall_now=next_day)
        await db.commit()
    assert next_day + offset == REQUESTED
