"""Fixed-window counters kept in this process: the in-process broker's rate limits, and the
Redis broker's while Redis is away (limiting per process beats refusing every command)."""

from __future__ import annotations

import time


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
