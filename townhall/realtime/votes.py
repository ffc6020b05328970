"""Vote counts, coalesced: votes are recorded one row each, at once; what the room hears is a
``question.votes_changed`` with absolute counts, at most :data:`FLUSH_EVERY` apart per room
and process, so a vote storm costs a few events a second, not one per vote.

A flush that fails (the database is away) keeps its questions for the next one: a count
committed just before an outage is still announced once the database answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.platform import questions
from townhall.platform.clock import Clock
from townhall.platform.room_log import LoggedEvent

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.3


class VoteCoalescer:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        publish: Callable[[list[LoggedEvent]], Awaitable[None]],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.publish = publish
        self.dirty: dict[int, set[int]] = {}

    def touch(self, room_id: int, question_id: int) -> None:
        self.dirty.setdefault(room_id, set()).add(question_id)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            dirty, self.dirty = self.dirty, {}
            for room_id, ids in dirty.items():
                try:
                    async with self.sessionmaker() as db:
                        events = await questions.log_vote_counts(
                            db, room_id=room_id, question_ids=ids, now=self.clock.now()
                        )
                        await db.commit()
                except Exception as exc:
                    log.warning("vote counts of room %s not logged yet: %s", room_id, exc)
                    self.dirty.setdefault(room_id, set()).update(ids)
                    await asyncio.sleep(1.0)
                    continue
                await self.publish(events)
