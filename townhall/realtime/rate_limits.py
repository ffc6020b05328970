"""Rate limits: fixed-window counters kept in this process, and a participant's command budget.

:class:`LocalCounters` are the in-process broker's counters (embedded mode), and the Redis
broker's while Redis is away (limiting per process beats refusing every command); with Redis,
the broker counts in Redis, so a limit holds across processes.

A connection's own token bucket (:class:`~.connection.TokenBucket`) is the first, free line: it
refuses a socket's flood before any I/O. Alone it would give a participant on ten sockets ten
times the budget, so :func:`participant_commands` also counts every command but ``ping``
against the participant, on every process (:meth:`Broker.hit`): ``burst + rate`` a second, what
one socket's bucket lets through in its worst second, so a single socket never meets it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable


class LocalCounters:
    def __init__(self) -> None:
        self._counters: dict[str, tuple[int, float]] = {}

    def hit(self, key: str, *, limit: int, window: float) -> float:
        """0 if under ``limit`` in the current window, else seconds until the window ends."""
        now = time.monotonic()
        if len(self._counters) > 10_000:  # forget finished windows now and then
            self._counters = {k: v for k, v in self._counters.items() if now - v[1] < 3600}
        count, started = self._counters.get(key, (0, now))
        if now - started >= window:
            count, started = 0, now
        if count >= limit:
            return started + window - now
        self._counters[key] = (count + 1, started)
        return 0.0


Hit = Callable[..., Awaitable[float]]


def participant_key(participants: dict[int, str]) -> str | None:
    """Who a connection's commands count against: its participants (one per event), or
    nobody (a visitor with no participant only has its socket's bucket)."""
    return ",".join(sorted(participants.values())) or None


async def participant_commands(hit: Hit, key: str, *, rate: float, burst: int) -> float:
    """Count one command of the participant ``key`` (a counter name built by the caller);
    0 if allowed, else the seconds until their window reopens."""
    return await hit(key, limit=int(burst + rate), window=1.0)
