"""The rehearsal clock's anchor, shared by every server process through the database.

Processes started with the same ``TOWNHALL_NOW`` agree on one anchor (the first to start
records the wall time at which the rehearsal began), so their clocks show the same instant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import ClockAnchor, utcnow

REUSE_FOR = timedelta(hours=12)


async def anchor_offset(
    db: AsyncSession, *, requested: datetime, wall_now: datetime | None = None
) -> timedelta:
    """The offset from wall time of a rehearsal clock that started at ``requested``."""
    wall_now = wall_now or utcnow()
    anchor = await db.scalar(
        select(ClockAnchor)
        .where(
            ClockAnchor.requested_now == requested,
            ClockAnchor.anchored_at > wall_now - REUSE_FOR,
        )
        .order_by(ClockAnchor.anchored_at.desc())
        .limit(1)
    )
    if anchor is None:
        anchor = ClockAnchor(requested_now=requested, anchored_at=wall_now)
        db.add(anchor)
        await db.flush()
    return anchor.requested_now - anchor.anchored_at
