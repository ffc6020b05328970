"""Figures of the benchmark: percentiles, and the table printed at the end (Townhall, the
peer, and the ratio Townhall / peer; lower is better for every figure but votes/s)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of an already sorted list (NaN when empty)."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": percentile(ordered, 0.50),
        "p99": percentile(ordered, 0.99),
        "max": ordered[-1] if ordered else math.nan,
        "median": statistics.median(ordered) if ordered else math.nan,
    }


def dig(result: dict[str, Any] | None, path: str) -> Any:
    value: Any = result
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def median_of(runs: list[dict[str, Any]], path: str) -> float | None:
    values = [v for r in runs if isinstance(v := dig(r, path), int | float) and not math.isnan(v)]
    return statistics.median(values) if values else None


# (label, path in a run's result, scale, unit format)
ROWS: list[tuple[str, str, float, str]] = [
    ("sockets joined (within the join deadline)", "join.joined", 1, "{:.0f}"),
    ("connect + join, all sockets (s)", "join.seconds", 1, "{:.2f}"),
    ("  per socket p50 / p99 (s)", "join.per_socket.p50|join.per_socket.p99", 1, "{:.2f}"),
    ("server CPU per join (ms)", "join.server_cpu_ms_per_join", 1, "{:.2f}"),
    (
        "  less the deliveries made meanwhile (ms, estimate)",
        "join.server_cpu_ms_per_join_less_deliveries",
        1,
        "{:.2f}",
    ),
    (
        "delay to joined clients while joining p50 / p99 / max (ms)",
        "join.probes_during_join.p50|join.probes_during_join.p99|join.probes_during_join.max",
        1000,
        "{:.0f}",
    ),
    ("RSS per connection (KiB)", "rss.per_connection_kib", 1, "{:.1f}"),
    ("fan-out 1/s latency p50 (ms)", "slow.p50", 1000, "{:.1f}"),
    ("fan-out 1/s latency p99 (ms)", "slow.p99", 1000, "{:.1f}"),
    ("fan-out 1/s latency max (ms)", "slow.max", 1000, "{:.1f}"),
    ("fan-out 1/s to last client, median (ms)", "slow.to_last.median", 1000, "{:.1f}"),
    ("deliveries lost 1/s (of expected; 60 s grace)", "slow.lost|slow.expected", 1, "{:.0f}"),
    ("server CPU per delivery 1/s (µs)", "slow.server_cpu_us_per_delivery", 1, "{:.1f}"),
    ("fan-out 10/s latency p50 (ms)", "stress.p50", 1000, "{:.1f}"),
    ("fan-out 10/s latency p99 (ms)", "stress.p99", 1000, "{:.1f}"),
    ("fan-out 10/s latency max (ms)", "stress.max", 1000, "{:.1f}"),
    ("fan-out 10/s to last client, median (ms)", "stress.to_last.median", 1000, "{:.1f}"),
    ("deliveries lost 10/s (of expected; 60 s grace)", "stress.lost|stress.expected", 1, "{:.0f}"),
    ("server CPU per delivery 10/s (µs)", "stress.server_cpu_us_per_delivery", 1, "{:.1f}"),
    (
        "moderator process CPU per action 1/s (ms)",
        "slow.moderator_process_cpu_ms_per_action",
        1,
        "{:.2f}",
    ),
    ("largest GC pause, process A (ms)", "gc_pause_max_ms", 1, "{:.1f}"),
    ("votes per second sustained", "votes.sustained_per_second", 1, "{:.0f}"),
    ("event frame (bytes)", "slow.frame_bytes", 1, "{:.0f}"),
    (
        "load generator CPU, join / 1/s / 10/s (% of a core)",
        "join.load_cpu_share|slow.load_cpu_share|stress.load_cpu_share",
        100,
        "{:.0f}",
    ),
    (
        "cores busy (anyone) join / 1/s / 10/s: core 0 (%)",
        "join.cores_busy.cpu0|slow.cores_busy.cpu0|stress.cores_busy.cpu0",
        100,
        "{:.0f}",
    ),
    (
        "cores busy (anyone) join / 1/s / 10/s: core 1 (%)",
        "join.cores_busy.cpu1|slow.cores_busy.cpu1|stress.cores_busy.cpu1",
        100,
        "{:.0f}",
    ),
]
NO_RATIO = {
    "sockets joined",
    "deliveries lost",
    "votes per second",
    "event frame",
    "load generator",
    "cores busy",
}


def cell(
    runs: list[dict[str, Any]], paths: str, scale: float, fmt: str
) -> tuple[str, float | None]:
    parts, first = [], None
    for path in paths.split("|"):
        value = median_of(runs, path)
        if value is None:
            parts.append("n/a")
            continue
        parts.append(fmt.format(value * scale))
        first = value if first is None else first
    return " / ".join(parts), first


def table(size: int, ours: list[dict[str, Any]], peer: list[dict[str, Any]]) -> str:
    lines = [
        f"{size:,} audience sockets in one room on process A; moderator on process B "
        f"(median of {max(len(ours), len(peer))} run(s) each)",
        f"{'figure':<60} {'Townhall':>22} {'socket.io':>22} {'ratio':>7}",
    ]
    for label, paths, scale, fmt in ROWS:
        mine, a = cell(ours, paths, scale, fmt)
        theirs, b = cell(peer, paths, scale, fmt) if peer else ("—", None)
        ratio = ""
        if a is not None and b and not any(label.startswith(p) for p in NO_RATIO):
            ratio = f"{a / b:.2f}"
        lines.append(f"{label:<60} {mine:>22} {theirs:>22} {ratio:>7}")
    return "\n".join(lines)


def vote_lines(runs: list[dict[str, Any]], say: Callable[[str], None]) -> None:
    for run in runs:
        for step in dig(run, "votes.steps") or []:
            if "error" in step:
                say(f"  votes {step['rate']:.0f}/s: {step['error']}")
                continue
            say(
                f"  votes {step['rate']:.0f}/s offered: {step['answered_per_second']:.0f}/s"
                f" answered, reply p99 {step['reply']['p99'] * 1000:.0f} ms, count in front of"
                f" everyone p50 {step['count_to_everyone']['p50'] * 1000:.0f} ms"
                f" p99 {step['count_to_everyone']['p99'] * 1000:.0f} ms,"
                f" {step['votes_changed_events']} votes_changed events,"
                f" lost {step['votes_changed_lost']}, refused {step['refused'] or 0},"
                f" {'held' if step['held'] else 'NOT held'}"
            )
