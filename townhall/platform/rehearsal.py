"""The rehearsal clock's anchor, shared by every server process through the database.

Processes started with the same ``TOWNHALL_NOW`` agree on one anchor (the first to start
records the wall time at which the rehearsal began), so their clocks show the same instant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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
