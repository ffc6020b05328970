"""Garbage-collector pauses: kept short while connections pile up, and measured.

A full collection walks every object the collector tracks; ten thousand live connections are
some two million of them, a pause of several hundred milliseconds for every socket. So:

- after start-up, everything alive (modules, the app, templates) is frozen (``gc.freeze()``):
  moved out of the collector's sight for good;
- while connections arrive, what they brought is frozen too, every :data:`FREEZE_EVERY` new
  connections (:meth:`GcPauses.tick` runs every :data:`TICK` seconds), so a full collection only
  ever walks the few hundred newest connections' objects;
- a closed connection leaves some cyclic garbage (an asyncio transport and its protocol point
  at each other), which a frozen object never gives back. Once as many connections have closed
  since the last sweep as are open now (and at least :data:`SWEEP_AFTER_CLOSES`), one sweep
  unfreezes, collects and freezes again: a long pause, but one per mass departure (the end of a
  session), not one per join storm.

The youngest generation is collected every :data:`GEN0_THRESHOLD` allocations instead of 700.
Each collection is timed; the longest is reported in ``/healthz`` (``gc_pause_max_ms``).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

GEN0_THRESHOLD = 10_000
SLOW_MS = 20.0  # collections at least this long are logged
TICK = 2.0
FREEZE_EVERY = 500
SWEEP_AFTER_CLOSES = 2_000


class GcPauses:
    def __init__(self) -> None:
        self.max_ms = 0.0
        self.collections = 0
        self.freezes = 0
        self.sweeps = 0
        self._started = 0.0
        self._frozen_at = 0  # live connections at the last freeze
        self._last_count = 0
        self._closed = 0  # connections closed since the last sweep (approximately)
        self._threshold = gc.get_threshold()
        self.longest: dict[str, Any] = {}

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collections += 1
            took = (time.perf_counter() - self._started) * 1000
            if took > self.max_ms:
                self.max_ms = took
                self.longest = {
                    "generation": info.get("generation"),
                    "collected": info.get("collected"),
                }
            if took >= SLOW_MS:
                log.warning(
                    "garbage collection of generation %s took %.0f ms (%s collected)",
                    info.get("generation"),
                    took,
                    info.get("collected"),
                )

    def install(self) -> None:
        self._threshold = gc.get_threshold()
        self.longest: dict[str, Any] = {}
        _, gen1, gen2 = self._threshold
        gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
        gc.collect()
        gc.freeze()
        if self._callback not in gc.callbacks:  # pauses from here on: serving, not starting
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        """On shutdown (and between the apps a test process starts): everything back in the
        collector's sight, thresholds as they were."""
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
        gc.unfreeze()
        gc.set_threshold(*self._threshold)

    def tick(self, live: int) -> None:
        """Freeze what new connections brought; sweep after a mass departure."""
        self._closed += max(0, self._last_count - live)
        self._last_count = live
        if self._closed >= max(SWEEP_AFTER_CLOSES, live):
            started = time.perf_counter()
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.max_ms = max(self.max_ms, (time.perf_counter() - started) * 1000)
            self.sweeps += 1
            self._closed = 0
            self._frozen_at = live
        elif live - self._frozen_at >= FREEZE_EVERY:
            gc.freeze()
            self.freezes += 1
            self._frozen_at = live
        elif live < self._frozen_at:
            self._frozen_at = live

    async def run(self, live: Callable[[], int]) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.tick(live())

    def health(self) -> dict[str, Any]:
        return {
            "gc_pause_max_ms": round(self.max_ms, 2),
            "gc_pause_max": self.longest,
            "gc_collections": self.collections,
            "gc_freezes": self.freezes,
            "gc_sweeps": self.sweeps,
        }
