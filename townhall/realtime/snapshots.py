"""Room snapshots, built once per room, ``seq`` and tier, and shared by every joiner.

A snapshot has two parts. The *shared* part (the room, the questions a tier may see, the
counters) is identical for every audience member, so it is read in one consistent read
transaction, encoded once, and kept: a thousand joiners of a tier cost one build, and a feed
that has moved on since lays the events after it from its recent-events ring instead of
building again. The *own* part (a participant's own questions, their votes) is per viewer;
joins waiting for it are answered in batches, one pair of queries per batch, however many
join at once. Building never holds the lock that delivery needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from townhall.platform import questions, rooms, seats
from townhall.platform.viewers import Viewer

from .batching import Batched
from .messages import encoder

SharedPart = Callable[[AsyncSession, int, str, dict[str, Any]], Awaitable[None]]
OwnPart = Callable[[AsyncSession, int, list[str], dict[str, dict[str, Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Shared:
    epoch: str
    seq: int
    state: msgspec.Raw  # encoded once


async def _questions_shared(db: AsyncSession, room_id: int, tier: str, state: dict) -> None:
    state.update(await questions.shared_questions_snapshot(db, room_id=room_id, tier=tier))


async def _people_shared(db: AsyncSession, room_id: int, tier: str, state: dict) -> None:
    state.update(await seats.people_snapshot(db, room_id=room_id))


async def _questions_own(
    db: AsyncSession, room_id: int, participants: list[str], own: dict[str, dict[str, Any]]
) -> None:
    found = await questions.own_questions_snapshot(
        db, room_id=room_id, participant_ids=participants
    )
    for participant, part in found.items():
        own.setdefault(participant, {}).update(part)


class Snapshots:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, opens_minutes_before: int
    ) -> None:
        self.sessionmaker = sessionmaker
        self.opens_minutes_before = opens_minutes_before
        self.shared_parts: list[SharedPart] = [_people_shared, _questions_shared]
        self.own_parts: list[OwnPart] = [_questions_own]
        self._cache: dict[tuple[int, str], Shared] = {}
        self._building: dict[tuple[int, str], asyncio.Future[Shared]] = {}
        self._own: dict[int, Batched[str, dict[str, Any]]] = {}
        self.builds = 0

    def forget(self, room_id: int) -> None:
        for key in [k for k in self._cache if k[0] == room_id]:
            del self._cache[key]
        self._own.pop(room_id, None)

    async def shared(self, room_id: int, tier: str, usable: Callable[[Shared], bool]) -> Shared:
        """A shared part that ``usable`` accepts: the kept one, or one built now (joiners
        arriving meanwhile wait for the same build)."""
        key = (room_id, tier)
        for _ in range(3):
            kept = self._cache.get(key)
            if kept is not None and usable(kept):
                return kept
            building = self._building.get(key)
            if building is None:
                building = asyncio.get_running_loop().create_future()
                self._building[key] = building
                try:
                    built = await self._build(room_id, tier)
                except BaseException as exc:
                    building.set_exception(exc)
                    building.exception()  # retrieved: joiners waiting on it re-raise it
                    raise
                finally:
                    self._building.pop(key, None)
                building.set_result(built)
                self._cache[key] = built
                if usable(built):
                    return built
            else:
                built = await asyncio.shield(building)
                if usable(built):
                    return built
        return await self._build(room_id, tier)

    async def _build(self, room_id: int, tier: str) -> Shared:
        async with self.sessionmaker() as db:
            if db.bind.dialect.name == "postgresql":
                await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            else:
                # pysqlite starts no transaction for reads; one read transaction makes every
                # query below see the same committed state (WAL snapshot).
                await (await db.connection()).exec_driver_sql("BEGIN")
            state = await rooms.room_snapshot(
                db, room_id=room_id, default_minutes=self.opens_minutes_before
            )
            for part in self.shared_parts:
                await part(db, room_id, tier, state)
        epoch, seq = state.pop("epoch"), state.pop("seq")
        self.builds += 1
        return Shared(epoch, seq, msgspec.Raw(encoder.encode(state)))

    async def own(self, room_id: int, viewer: Viewer) -> dict[str, Any]:
        """The viewer's own part; joins that ask together are read together."""
        if viewer.participant_id is None:
            return {}
        batch = self._own.get(room_id)
        if batch is None:
            batch = self._own[room_id] = Batched(
                lambda participants: self._read_own(room_id, participants), {}
            )
        return await batch.get(viewer.participant_id)

    async def _read_own(self, room_id: int, participants: list[str]) -> dict[str, dict[str, Any]]:
        own: dict[str, dict[str, Any]] = {}
        async with self.sessionmaker() as db:
            for part in self.own_parts:
                await part(db, room_id, participants, own)
        return own
