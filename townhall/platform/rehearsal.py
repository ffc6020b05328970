"""The rehearsal clock's anchor, shared by every server process through the database.

Processes started with the same ``TOWNHALL_NOW`` agree on one anchor (the first to start
records the wall time at which the rehearsal began), so their clocks show the same instant; so
do the commands (``townhall invite``, ``townhall seat``, ``make run``'s links) given the same
``TOWNHALL_NOW``. A restart within :data:`REUSE_FOR` resumes the running clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .clock import OffsetClock
from .models import ClockAnchor, utcnow

REUSE_FOR = timedelta(hours=12)


async def anchor_offset(
    db: AsyncSession, *, requested: datetime, wall_now: datetime | None = None
) -> timedelta:
    """The offset from wall time of a rehearsal clock that started at ``requested``.

    One row per requested instant (unique): processes starting together race on the insert,
    and the loser reads the winner's anchor. A stale anchor is moved to now, conditionally.
    """
    wall_now = wall_now or utcnow()
    for _ in range(3):
        anchor = await db.scalar(select(ClockAnchor).where(ClockAnchor.requested_now == requested))
        if anchor is None:
            try:
                async with db.begin_nested():
                    db.add(ClockAnchor(requested_now=requested, anchored_at=wall_now))
                return requested - wall_now
            except IntegrityError:
                continue  # another process anchored it first: read theirs
        if anchor.anchored_at > wall_now - REUSE_FOR:
            return anchor.requested_now - anchor.anchored_at
        moved = await db.execute(
            update(ClockAnchor)
            .where(ClockAnchor.id == anchor.id, ClockAnchor.anchored_at == anchor.anchored_at)
            .values(anchored_at=wall_now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            return requested - wall_now
        db.expire_all()
    raise RuntimeError("could not agree on a rehearsal clock anchor")


async def event_clock(db: AsyncSession, *, requested: datetime | None) -> OffsetClock:
    """The event clock every process and command shares: wall time, or with ``requested`` (the
    ``TOWNHALL_NOW`` instant) the rehearsal clock anchored in the database. The caller commits."""
    clock = OffsetClock()
    if requested is not None:
        clock.set_offset(await anchor_offset(db, requested=requested))
    return clock
