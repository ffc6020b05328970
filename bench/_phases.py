"""The phases of one benchmark run against one target (Townhall or the peer).

Every phase is bounded in time. Instants are ``time.monotonic()`` (CLOCK_MONOTONIC, one clock
for every process on the machine): the moderator's send in this process, arrivals in the load
generator's workers. Server CPU is read from ``/proc/PID/stat`` (user + system) of process A,
which holds the audience sockets; process B's is reported per action.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from _loadgen import WorkerHandle, cpu_seconds, on_all, times_of
from _report import summary

# A delivery not arrived this many seconds after the phase's last action counts as lost.
LATE = 60.0


class Target(Protocol):
    name: str
    dialect: str

    @property
    def a_pid(self) -> int: ...
    @property
    def b_pid(self) -> int: ...
    def endpoint(self) -> dict[str, Any]: ...
    def cookies(self, first: int, count: int) -> list[str | None]: ...
    async def act(self, n: int, payload_bytes: int) -> float: ...
    async def seq_of(self, n: int, within: float = 30.0) -> int: ...
    async def health(self) -> dict[str, Any]: ...


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def core_busy() -> dict[str, tuple[int, int]]:
    """Per core: (busy, total) jiffies since boot, from /proc/stat."""
    cores = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            ticks = [int(v) for v in values]
            idle = ticks[3] + ticks[4]  # idle + iowait
            cores[name] = (sum(ticks) - idle, sum(ticks))
    return cores


def busy_share(before: dict[str, tuple[int, int]]) -> dict[str, float]:
    """How busy each core was since ``before`` (0..1), whoever kept it busy: on a shared
    machine, other work on the servers' core shows here."""
    after = core_busy()
    return {
        name: (after[name][0] - b[0]) / max(1, after[name][1] - b[1])
        for name, b in before.items()
        if name in after
    }


async def load_cpu(workers: list[WorkerHandle]) -> float:
    """CPU seconds used so far by the load generator: its workers and this process."""
    return sum(await on_all(workers, "cpu")) + cpu_seconds()


@dataclass
class Run:
    """What a run shares between phases."""

    target: Target
    workers: list[WorkerHandle]
    probes: WorkerHandle
    payload_bytes: int
    next_action: int = 1

    def take_numbers(self, count: int) -> list[int]:
        first = self.next_action
        self.next_action += count
        return list(range(first, first + count))


class Ticker:
    """Moderator actions at a steady rate until stopped (at most ``limit`` of them)."""

    def __init__(self, run: Run, rate: float, limit: int) -> None:
        self.run, self.rate = run, rate
        self.numbers = run.take_numbers(limit)
        self.sent: dict[int, float] = {}
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        started = time.monotonic()
        for k, n in enumerate(self.numbers):
            delay = started + k / self.rate - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(self.stopping.wait(), delay)
                except TimeoutError:
                    pass
            if self.stopping.is_set():
                return
            self.sent[n] = await self.run.target.act(n, self.run.payload_bytes)

    async def stop(self) -> dict[int, float]:
        """Stop; ``seq`` → send instant of every action sent."""
        self.stopping.set()
        assert self.task is not None
        await self.task
        return {await self.run.target.seq_of(n): at for n, at in self.sent.items()}


async def wait_arrivals(
    workers: list[WorkerHandle], seqs: list[int], expected: int, within: float
) -> None:
    """Until every worker's clients together got each seq ``expected`` times, or ``within``."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        seen = await on_all(workers, "seen")
        counts = [sum(s["seqs"].get(seq, ("", 0))[1] for s in seen) for seq in seqs]
        if all(count >= expected for count in counts):
            return
        await asyncio.sleep(0.1)


async def latencies(
    workers: list[WorkerHandle], sent: dict[int, float], expected: int
) -> dict[str, Any]:
    """Per-delivery latency of each action from its send instant; then forget the arrivals."""
    reports = await on_all(workers, "report", seqs=list(sent))
    await on_all(workers, "clear")
    all_latencies: list[float] = []
    to_last: list[float] = []
    sizes = [r["sizes"][s] for r in reports for s in sent if s in r["sizes"]]
    for seq, at in sent.items():
        these = [t - at for r in reports for t in times_of(r["arrivals"].get(seq, b""))]
        all_latencies.extend(these)
        if these:
            to_last.append(max(these))
    return {
        **summary(all_latencies),
        "to_last": summary(to_last),
        "to_last_each_ms": [round(1000 * t, 1) for t in to_last],
        "actions": len(sent),
        "expected": expected * len(sent),
        "delivered": len(all_latencies),
        "lost": max(0, expected * len(sent) - len(all_latencies)),
        "frame_bytes": max(sizes) if sizes else None,
        "disorder": sum(r["disorder"] for r in reports),
        "lost_connections": sum(r["lost_connections"] for r in reports),
        "errors": _merge([r["errors"] for r in reports]),
    }


def _merge(counts: list[dict[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for one in counts:
        for key, n in one.items():
            merged[key] = merged.get(key, 0) + n
    return merged


async def join(run: Run, size: int, probes: int, concurrency: int, within: float) -> dict:
    """Probes join first; then ``size`` sockets join while the moderator acts once a second,
    and the probes' latency shows what joining costs those already in the room."""
    target, endpoint = run.target, run.target.endpoint()
    common = {"dialect": target.dialect, **endpoint}
    probe = await run.probes.call(
        "connect", cookies=target.cookies(size, probes), concurrency=probes, within=30, **common
    )
    if probe["failed"]:
        raise RuntimeError(f"{target.name}: probes could not join: {probe['failures']}")
    cookies = target.cookies(0, size)
    chunks = [cookies[i :: len(run.workers)] for i in range(len(run.workers))]
    ticker = Ticker(run, rate=1.0, limit=int(within) + 2)
    load0, cpu0, cores0 = await load_cpu(run.workers), cpu_seconds(target.a_pid), core_busy()
    ticker.start()
    results = await asyncio.gather(
        *(
            w.call("connect", cookies=chunk, concurrency=concurrency, within=within, **common)
            for w, chunk in zip(run.workers, chunks, strict=True)
        )
    )
    cpu1, load1 = cpu_seconds(target.a_pid), await load_cpu(run.workers)
    sent = await ticker.stop()
    started = min(r["started"] for r in results)
    finished = max(r["finished"] for r in results)
    joined = sum(r["joined"] for r in results)
    await wait_arrivals([run.probes], list(sent), probes, within=LATE)
    during = await latencies([run.probes], sent, probes)
    seen = await on_all(run.workers, "seen")
    await on_all(run.workers, "clear")
    durations = [d for r in results for d in r["durations"]]
    return {
        "joined": joined,
        "failed": sum(r["failed"] for r in results),
        "failures": [f for r in results for f in r["failures"]][:3],
        "seconds": finished - started,
        "per_socket": summary(durations),
        "server_cpu_ms_per_join": 1000 * (cpu1 - cpu0) / max(1, joined),
        # The moderator's actions reached the sockets already joined meanwhile: with the
        # CPU per delivery of the 1/s phase, fanout.py estimates the joins' own share.
        "deliveries_meanwhile": sum(x["seqs"].get(seq, ("", 0))[1] for x in seen for seq in sent),
        "load_cpu_share": (load1 - load0) / max(1e-9, finished - started),
        "cores_busy": busy_share(cores0),
        "probes_during_join": during,
    }


async def fan_out(run: Run, *, rate: float, count: int, expected: int) -> dict[str, Any]:
    """``count`` moderator actions at ``rate`` a second to ``expected`` joined sockets."""
    target = run.target
    cpu_a0, cpu_b0 = cpu_seconds(target.a_pid), cpu_seconds(target.b_pid)
    load0, cores0 = await load_cpu(run.workers), core_busy()
    started = time.monotonic()
    ticker = Ticker(run, rate=rate, limit=count)
    ticker.start()
    assert ticker.task is not None
    await asyncio.wait_for(ticker.task, count / rate + 60)
    sent = await ticker.stop()
    sending = time.monotonic() - started
    await wait_arrivals(run.workers, list(sent), expected, within=LATE)
    elapsed = time.monotonic() - started
    cpu_a1, cpu_b1 = cpu_seconds(target.a_pid), cpu_seconds(target.b_pid)
    load1 = await load_cpu(run.workers)
    figures = await latencies(run.workers, sent, expected)
    figures.update(
        rate=rate,
        achieved_rate=(len(sent) - 1) / sending if len(sent) > 1 else None,
        server_cpu_us_per_delivery=1e6 * (cpu_a1 - cpu_a0) / max(1, figures["delivered"]),
        moderator_process_cpu_ms_per_action=1000 * (cpu_b1 - cpu_b0) / max(1, len(sent)),
        load_cpu_share=(load1 - load0) / elapsed,
        cores_busy=busy_share(cores0),
    )
    return figures


async def votes(
    run: Run, *, room: int, questions: list[int], rates: list[float], seconds: float
) -> dict[str, Any]:
    """Steps of rising vote rates; each vote is a new (participant, question) pair, so counts
    only grow. A step holds when the rate was reached, no vote was refused or lost, every
    coalesced ``question.votes_changed`` reached every socket, and each vote's count was in
    front of every socket within 1 s of the vote (p99)."""
    steps: list[dict[str, Any]] = []
    sustained = 0.0
    everyone = await _joined(run)
    for rate in rates:
        await on_all([*run.workers, run.probes], "clear")
        share = rate / len(run.workers)
        answers = await asyncio.gather(
            *(
                w.call(
                    "vote", room=room, questions=questions, rate=share, duration=seconds, grace=5
                )
                for w in run.workers
            )
        )
        if any("error" in a for a in answers):
            steps.append({"rate": rate, "error": next(a["error"] for a in answers)})
            break
        await asyncio.sleep(1.5)  # the last coalesced counts (every 0.3 s) reach everyone
        records = [r for a in answers for r in a["records"]]
        step = await _vote_step(run, rate, seconds, records, everyone)
        steps.append(step)
        if not step["held"]:
            break
        sustained = rate
    return {"sustained_per_second": sustained, "steps": steps, "seconds_per_step": seconds}


async def _joined(run: Run) -> int:
    reports = await on_all([*run.workers, run.probes], "report", seqs=[])
    return sum(r["open"] for r in reports)


async def _vote_step(
    run: Run, rate: float, seconds: float, records: list[tuple], everyone: int
) -> dict[str, Any]:
    every = [*run.workers, run.probes]
    seen = await on_all(every, "seen")
    counts: dict[int, dict[str, int]] = {}
    for s in seen:
        counts.update({int(k): v for k, v in s["vote_data"].items()})
    seqs = sorted(counts)
    reports = await on_all(every, "report", seqs=seqs)
    await on_all(every, "clear")
    last_arrival = {
        seq: max(max(times_of(r["arrivals"][seq])) for r in reports if seq in r["arrivals"])
        for seq in seqs
    }
    received = {
        seq: sum(len(times_of(r["arrivals"].get(seq, b""))) for r in reports) for seq in seqs
    }
    history: dict[int, tuple[list[int], list[int]]] = {}  # question -> (seqs, counts)
    for seq in seqs:
        for question, count in counts[seq].items():
            at, values = history.setdefault(int(question), ([], []))
            at.append(seq)
            values.append(max(count, values[-1] if values else count))
    ok = [r for r in records if r[4] is None]
    refused: dict[str, int] = {}
    for r in records:
        if r[4] is not None:
            refused[r[4]] = refused.get(r[4], 0) + 1
    visible: list[float] = []
    never = 0
    for question, sent_at, _, count, _ in ok:
        at, values = history.get(question, ([], []))
        i = bisect.bisect_left(values, count)
        if i == len(values):
            never += 1
        else:
            visible.append(last_arrival[at[i]] - sent_at)
    replies = summary([r[2] - r[1] for r in ok])
    lost = sum(max(0, everyone - n) for n in received.values())
    to_everyone = summary(visible)
    held = (
        not refused
        and never == 0
        and lost == 0
        and replies["p99"] <= 1.0
        and to_everyone["p99"] <= 1.0
    )
    return {
        "rate": rate,
        "votes": len(records),
        "answered_per_second": len(ok) / seconds,
        "refused": refused,
        "reply": replies,
        "count_to_everyone": to_everyone,
        "never_seen": never,
        "votes_changed_events": len(seqs),
        "votes_changed_lost": lost,
        "held": held,
    }
