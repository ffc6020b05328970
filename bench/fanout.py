"""Fan-out benchmark: Townhall in production mode against Node socket.io, in one run.

Townhall runs as two processes over PostgreSQL and Redis: process A holds N audience sockets
in one room, process B the moderator, whose ``room.update`` (command → commit → Redis →
fan-out) reaches every socket across Redis. The peer, Node socket.io with its Redis adapter,
runs in the same shape (two processes, the moderator's event broadcast from B to A's room).
Servers run on core 0, the load generator (lean raw-frame clients in several processes, see
``_loadgen.py``) and this orchestrator on core 1.

Per target and size: connect + join time and server CPU per join, delay to already-joined
clients while the others join, RSS per connection, fan-out latency (p50 / p99 / max / to the
last client), deliveries lost and server CPU per delivery at 1 and 10 actions a second, the
largest GC pause, and for Townhall the votes per second it sustains. Prints a table with the
ratio Townhall / peer; ``docs/performance.md`` explains every figure.

    .venv/bin/python bench/fanout.py                       # sizes 1000 and 5000, with the peer
    .venv/bin/python bench/fanout.py --sizes 10000 --repeat 2
    .venv/bin/python bench/fanout.py --quick               # < 2 min, Townhall only, 200 sockets
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests"))

import _peer  # noqa: E402
from _loadgen import WorkerHandle  # noqa: E402
from _phases import Run, fan_out, join, rss_kib, votes  # noqa: E402
from _report import dig, table, vote_lines  # noqa: E402
from _townhall import TownhallTarget, TownhallTemplate  # noqa: E402

LOAD_CORE = 1 if (os.cpu_count() or 1) > 1 else None
DEFAULT_FRAME_BYTES = 800


@dataclass
class Options:
    sizes: list[int] = field(default_factory=lambda: [1000, 5000])
    repeat: int = 1
    peer: bool = True
    townhall: bool = True
    actions: int = 30
    stress_rate: float = 10.0
    stress_actions: int = 100
    probes: int = 20
    workers: int = 4
    concurrency: int = 50
    questions: int = 200
    vote_rates: list[float] = field(default_factory=lambda: [25, 50, 100, 200, 400])
    vote_seconds: float = 5.0
    join_within: float | None = None  # default: 60 s + 0.1 s per socket
    json: str | None = None
    quick: bool = False


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    numbers = lambda text: [int(x) for x in text.split(",") if x]  # noqa: E731
    parser.add_argument("--sizes", type=numbers, help="audience sockets, e.g. 1000,5000,10000")
    parser.add_argument("--repeat", type=int, help="runs per target and size (median shown)")
    parser.add_argument("--no-peer", action="store_true", help="Townhall only")
    parser.add_argument("--peer-only", action="store_true", help="socket.io only")
    parser.add_argument("--actions", type=int, help="moderator actions at 1/s")
    parser.add_argument("--stress-actions", type=int, help="moderator actions at the stress rate")
    parser.add_argument("--stress-rate", type=float, help="actions a second (default 10)")
    parser.add_argument("--probes", type=int, help="joined clients watched while others join")
    parser.add_argument("--workers", type=int, help="load generator processes")
    parser.add_argument("--concurrency", type=int, help="joins in flight per worker")
    parser.add_argument("--questions", type=int, help="approved questions in the room")
    parser.add_argument(
        "--vote-rates", type=lambda t: [float(x) for x in t.split(",") if x], help="votes/s steps"
    )
    parser.add_argument("--vote-seconds", type=float, help="seconds per vote step")
    parser.add_argument(
        "--join-within", type=float, help="seconds the joins may take (default 60 + 0.1 × size)"
    )
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument(
        "--quick", action="store_true", help="smoke mode: 200 sockets, few actions, no peer"
    )
    args = parser.parse_args(argv)
    options = Options()
    if args.quick:
        options = Options(
            sizes=[200],
            peer=False,
            actions=5,
            stress_actions=10,
            probes=5,
            workers=2,
            concurrency=20,
            questions=20,
            vote_rates=[10, 20],
            vote_seconds=2.0,
            quick=True,
        )
    for name in (
        "sizes", "repeat", "actions", "stress_actions", "stress_rate", "probes", "workers",
        "concurrency", "questions", "vote_rates", "vote_seconds", "json", "join_within",
    ):  # fmt: skip
        if (value := getattr(args, name)) is not None:
            setattr(options, name, value)
    if args.no_peer:
        options.peer = False
    if args.peer_only:
        options.townhall, options.peer = False, True
    return options


def say(line: str) -> None:
    print(line, flush=True)


async def measure(target: Any, size: int, options: Options, frame_bytes: int) -> dict[str, Any]:
    """One run of every phase against ``target`` with ``size`` audience sockets."""
    result: dict[str, Any] = {"system": target.name, "size": size}
    workers = [WorkerHandle(LOAD_CORE) for _ in range(options.workers)]
    probes = WorkerHandle(LOAD_CORE)
    started = time.monotonic()
    try:
        await target.start()
        await asyncio.sleep(2.0)
        idle = rss_kib(target.a_pid)
        run = Run(target, workers, probes, frame_bytes)
        say(f"  {target.name}: joining {size:,} sockets ({options.probes} probes watching)")
        within = options.join_within or 60 + size * 0.1
        result["join"] = await join(run, size, options.probes, options.concurrency, within)
        joined = result["join"]["joined"]
        say(
            f"  {target.name}: {joined:,} joined in {result['join']['seconds']:.1f} s"
            f" ({result['join']['failed']} failed {result['join']['failures']})"
        )
        await asyncio.sleep(3.0)  # presence pushes of the joins settle
        held = rss_kib(target.a_pid)
        result["rss"] = {
            "idle_kib": idle,
            "joined_kib": held,
            "per_connection_kib": (held - idle) / max(1, joined),
        }
        say(f"  {target.name}: fan-out, {options.actions} actions at 1/s")
        result["slow"] = await fan_out(run, rate=1.0, count=options.actions, expected=joined)
        delivering = (
            result["join"]["deliveries_meanwhile"] * result["slow"]["server_cpu_us_per_delivery"]
        )
        result["join"]["server_cpu_ms_per_join_less_deliveries"] = max(
            0.0, result["join"]["server_cpu_ms_per_join"] - delivering / 1000 / max(1, joined)
        )
        say(
            f"  {target.name}: fan-out, {options.stress_actions} actions at"
            f" {options.stress_rate:g}/s"
        )
        result["stress"] = await fan_out(
            run, rate=options.stress_rate, count=options.stress_actions, expected=joined
        )
        if isinstance(target, TownhallTarget) and options.vote_rates:
            say(f"  {target.name}: votes, steps {options.vote_rates} a second")
            result["votes"] = await votes(
                run,
                room=target.room,
                questions=target.template.question_ids,
                rates=options.vote_rates,
                seconds=options.vote_seconds,
            )
        health = await target.health()
        result["gc_pause_max_ms"] = health.get("gc_pause_max_ms")
        result["health"] = health
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        say(f"  {target.name}: FAILED: {result['error']}\n{traceback.format_exc()}")
        say(target.log_tail())
    finally:
        await asyncio.gather(*(w.close() for w in [*workers, probes]))
        await target.stop()
    result["wall_seconds"] = time.monotonic() - started
    return result


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    server = git("log", "-1", "--format=%h", "--", "townhall")  # the last change to the server
    dirty = " with local changes" if git("status", "--porcelain", "--", "townhall") else ""
    return f"{head} (townhall/ as of {server}{dirty})"


async def main_async(options: Options) -> int:
    say(
        f"bench/fanout.py {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()},"
        f" {os.cpu_count()} cores: servers on core 0, load generator ({options.workers}"
        f" processes + 1 for probes) on core {LOAD_CORE}; sizes {options.sizes}"
    )
    if options.peer:
        await asyncio.to_thread(_peer.ensure_installed)
    workdir = Path(tempfile.mkdtemp(prefix="townhall-bench-"))
    template = TownhallTemplate(
        participants=max(options.sizes) + options.probes, questions=options.questions
    )
    results: list[dict[str, Any]] = []
    try:
        if options.townhall:
            began = time.monotonic()
            await template.create()
            say(
                f"bench: template database with {template.participants:,} participants and"
                f" {options.questions} approved questions ({time.monotonic() - began:.0f} s)"
            )
        for size in options.sizes:
            say(f"== {size:,} sockets")
            ours, peer = [], []
            for _ in range(options.repeat):
                frame_bytes = DEFAULT_FRAME_BYTES
                if options.townhall:
                    ours.append(await measure(TownhallTarget(template, workdir), size, options, 0))
                    frame_bytes = dig(ours[-1], "slow.frame_bytes") or frame_bytes
                if options.peer:
                    peer.append(
                        await measure(_peer.PeerTarget(workdir), size, options, frame_bytes)
                    )
            results += ours + peer
            say("")
            say(table(size, ours, peer))
            vote_lines(ours, say)
            say("")
    finally:
        if options.townhall:
            await template.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    if options.json:
        document = {"options": asdict(options), "commit": git_commit(), "runs": results}
        text = json.dumps(document, indent=1, default=str)
        await asyncio.to_thread(Path(options.json).write_text, text)
    failed = [r for r in results if "error" in r]
    lost = [
        r
        for r in results
        if any(
            (dig(r, p) or 0) > 0
            for p in ("slow.lost", "stress.lost", "join.probes_during_join.lost")
        )
    ]
    say(f"bench: {len(results)} runs, {len(failed)} failed, {len(lost)} with deliveries lost")
    return 1 if failed or lost else 0


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the servers inherit it too
    if LOAD_CORE is not None:
        os.sched_setaffinity(0, {LOAD_CORE})
    return asyncio.run(main_async(options))


if __name__ == "__main__":
    sys.exit(main())
