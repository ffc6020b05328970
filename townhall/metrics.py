"""This process's Prometheus metrics, in the text exposition format (version 0.0.4).

Counters and histograms live here, one module-level object each, and are bumped where the
thing happens (the feed, a connection, the broker, the error boundaries); ``/metrics``
(:mod:`townhall.web.operations`) renders them with the gauges read at scrape time (live
connections, room members by tier, rooms by state). Nothing here imports the rest of
Townhall, so any layer above ``platform`` may use it.

Updating is a dict lookup and an add: no lock (one event loop per process), no allocation
on the fan-out path. Each process (each uvicorn worker) counts its own; Prometheus sums
over the replicas it scrapes.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable, Iterator

Labels = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Iterable[str], values: Iterable[str]) -> str:
    pairs = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    return "{" + ",".join(pairs) + "}" if pairs else ""


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class Counter:
    """A monotonic count, optionally split by labels (a small, bounded set of values)."""

    kind = "counter"

    def __init__(self, name: str, help: str, labelnames: Labels = ()) -> None:
        assert name.endswith("_total"), name
        self.name, self.help, self.labelnames = name, help, labelnames
        self.values: dict[Labels, float] = {} if labelnames else {(): 0.0}

    def inc(self, amount: float = 1.0, *labels: str) -> None:
        """``labels`` in the order of ``labelnames``."""
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self.values.get(labels, 0.0)

    def samples(self) -> Iterator[str]:
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.labelnames, labels)} {_number(value)}"


class Histogram:
    """Observations counted in cumulative buckets (``le``), with their sum and count."""

    kind = "histogram"

    def __init__(self, name: str, help: str, buckets: tuple[float, ...]) -> None:
        self.name, self.help = name, help
        self.bounds = tuple(sorted(buckets))
        self.counts = [0] * (len(self.bounds) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def samples(self) -> Iterator[str]:
        running = 0
        for bound, count in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += count
            yield f'{self.name}_bucket{{le="{_number(bound)}"}} {running}'
        yield f"{self.name}_sum {_number(self.sum)}"
        yield f"{self.name}_count {self.count}"


class Gauge:
    """A value read when scraped: ``values`` maps label values to the current figure."""

    kind = "gauge"

    def __init__(
        self, name: str, help: str, labelnames: Labels, values: dict[Labels, float]
    ) -> None:
        self.name, self.help, self.labelnames, self.values = name, help, labelnames, values

    def samples(self) -> Iterator[str]:
        for labels, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.labelnames, labels)} {_number(value)}"


Metric = Counter | Histogram | Gauge


def exposition(metrics: Iterable[Metric]) -> str:
    lines: list[str] = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {metric.help}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        lines.extend(metric.samples())
    return "\n".join(lines) + "\n"


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

EVENTS_PUBLISHED = Counter(
    "townhall_events_published_total",
    "Room events this process committed and published.",
)
EVENTS_DELIVERED = Counter(
    "townhall_events_delivered_total",
    "Room event messages written to this process's WebSockets (one per socket reached).",
)
FANOUT_LATENCY = Histogram(
    "townhall_fanout_latency_seconds",
    "From publish (after commit, on any process) to the last socket write of the event here.",
    (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RESUMES = Counter(
    "townhall_resumes_total",
    "Joins that carried `since`: resumed from the feed or the log, or given a snapshot "
    "(reason: window = too far behind or over the send budget, epoch = the log was reset).",
    ("outcome", "reason"),
)
SLOW_CONSUMER_CLOSES = Counter(
    "townhall_slow_consumer_closes_total",
    "WebSockets closed with 4008 because they fell past their send budget.",
)
BROKER_RECONNECTS = Counter(
    "townhall_broker_reconnects_total",
    "Times the Redis subscription was lost and had to be made again.",
)
RATE_LIMITED = Counter(
    "townhall_rate_limit_refusals_total",
    "Requests and commands refused as too frequent, by error code.",
    ("code",),
)
DATABASE_ERRORS = Counter(
    "townhall_database_errors_total",
    "Database failures (unreachable, timed out) met by HTTP requests, WebSocket commands "
    "and background tasks.",
    ("where",),
)

COUNTERS: tuple[Counter | Histogram, ...] = (
    EVENTS_PUBLISHED,
    EVENTS_DELIVERED,
    FANOUT_LATENCY,
    RESUMES,
    SLOW_CONSUMER_CLOSES,
    BROKER_RECONNECTS,
    RATE_LIMITED,
    DATABASE_ERRORS,
)
