"""The broker: publish/subscribe between processes, plus the small shared state they need.

Two implementations share one interface: :class:`MemoryBroker` (embedded mode, one process)
and :class:`townhall.realtime.redis_broker.RedisBroker` (production). Besides channels, a broker
keeps presence entries that expire, and fixed-window counters for rate limits, so both hold
across processes when Redis is configured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from .rate_limits import LocalCounters

OnMessage = Callable[[str, bytes], None]
OnReset = Callable[[], Awaitable[None]]


class Broker(Protocol):
    async def start(self, on_message: OnMessage, on_reset: OnReset) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, channel: str, payload: bytes) -> None: ...
    async def subscribe(self, channel: str) -> None: ...
    async def unsubscribe(self, channel: str) -> None: ...
    async def presence_write(self, key: str, member: str, value: bytes, ttl: float) -> None: ...
    async def presence_remove(self, key: str, member: str) -> None: ...
    async def presence_read(self, key: str) -> dict[str, bytes]: ...
    async def hit(self, key: str, *, limit: int, window: float) -> float:
        """Count one hit; 0 if allowed, else the seconds until the window reopens."""
        ...

    def health(self) -> dict[str, object]: ...

    async def ping(self) -> None:
        """Return when the broker answers; raise when it does not."""
        ...

    def unavailable(self, error: BaseException) -> bool:
        """Whether ``error`` means the broker is away (an outage to wait out, not a bug)."""
        ...


class MemoryBroker:
    """One process: channels are a set of names, state lives in dicts."""

    def __init__(self) -> None:
        self._on_message: OnMessage | None = None
        self._channels: set[str] = set()
        self._presence: dict[str, dict[str, tuple[bytes, float]]] = {}
        self._counters = LocalCounters()

    async def start(self, on_message: OnMessage, on_reset: OnReset) -> None:
        self._on_message = on_message

    async def stop(self) -> None:
        self._on_message = None

    async def publish(self, channel: str, payload: bytes) -> None:
        if self._on_message is not None and channel in self._channels:
            asyncio.get_running_loop().call_soon(self._on_message, channel, payload)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def presence_write(self, key: str, member: str, value: bytes, ttl: float) -> None:
        self._presence.setdefault(key, {})[member] = (value, time.monotonic() + ttl)

    async def presence_remove(self, key: str, member: str) -> None:
        self._presence.get(key, {}).pop(member, None)

    async def presence_read(self, key: str) -> dict[str, bytes]:
        now = time.monotonic()
        entries = self._presence.get(key, {})
        for member in [m for m, (_, expires) in entries.items() if expires <= now]:
            del entries[member]
        return {member: value for member, (value, _) in entries.items()}

    async def hit(self, key: str, *, limit: int, window: float) -> float:
        return self._counters.hit(key, limit=limit, window=window)

    def health(self) -> dict[str, object]:
        return {"broker": "memory", "connected": True}

    async def ping(self) -> None:
        return None

    def unavailable(self, error: BaseException) -> bool:
        return False
