"""Garbage-collector pauses: kept short, and measured.

Everything alive once the application has started (modules, the app, the templates) is moved
out of the collector's sight with ``gc.freeze()``, so a full collection walks only what came
after: the live connections. The youngest generation is collected less often (every
:data:`GEN0_THRESHOLD` allocations instead of 700): a join storm allocates fast, and most of
it is freed by reference counting anyway. Each collection's duration is recorded; the longest
is reported in ``/healthz`` (``gc_pause_max_ms``) for the benchmark.
"""

from __future__ import annotations

import gc
import time
from typing import Any

GEN0_THRESHOLD = 10_000


class GcPauses:
    def __init__(self) -> None:
        self.max_ms = 0.0
        self.collections = 0
        self._started = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collections += 1
            self.max_ms = max(self.max_ms, (time.perf_counter() - self._started) * 1000)

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
        gc.collect()
        gc.freeze()

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def health(self) -> dict[str, float]:
        return {"gc_pause_max_ms": round(self.max_ms, 2), "gc_collections": self.collections}
