"""Reads shared by everyone asking at once: one query for a batch of keys, not one per key.

While a read is under way, new keys wait; when it finishes, the next read takes all of them.
No timer and no added delay: a lone caller is read at once, a join storm in a few batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def padded(keys: list[K]) -> list[K]:
    """``keys`` repeated up to the next power of two: a query with ``IN (…)`` has one text per
    list length, and the database driver prepares each text once. A dozen lengths, not
    hundreds, keep its statement cache warm."""
    size = 1
    while size < len(keys):
        size *= 2
    return keys + [keys[-1]] * (size - len(keys))


class Batched(Generic[K, V]):
    def __init__(self, load: Callable[[list[K]], Awaitable[dict[K, V]]], missing: V) -> None:
        self._load = load
        self._missing = missing
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.reads = 0

    async def get(self, key: K) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        return await future

    async def _read(self) -> None:
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, {}
                try:
                    found = await self._load(padded(list(waiting)))
                except Exception as exc:
                    for futures in waiting.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                finally:
                    self.reads += 1
                for key, futures in waiting.items():
                    value = found.get(key, self._missing)
                    for future in futures:
                        if not future.done():
                            future.set_result(value)
        finally:
            self._reader = None
