"""The fan-out benchmark's quick mode runs to the end and loses no delivery.

``bench/fanout.py --quick`` is the whole benchmark at small scale (Townhall only, 200 sockets,
two server processes over PostgreSQL and Redis). This asserts that it completes, prints every
figure, and that every socket got every event; never how fast: timings belong to the figures,
and a loaded CI machine must not fail a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.multiprocess]

FIGURES = (
    "connect + join, all sockets (s)",
    "server CPU per join (ms)",
    "delay to joined clients while joining p50 / p99 / max (ms)",
    "RSS per connection (KiB)",
    "fan-out 1/s latency p99 (ms)",
    "fan-out 1/s to last client, median (ms)",
    "deliveries lost 1/s (of expected; 60 s grace)",
    "server CPU per delivery 1/s (µs)",
    "fan-out 10/s latency p99 (ms)",
    "deliveries lost 10/s (of expected; 60 s grace)",
    "largest GC pause, process A (ms)",
    "votes per second sustained",
)


def test_bench_quick_mode_completes_without_losing_deliveries(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fanout.py"), "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert [f for f in FIGURES if f not in done.stdout] == [], done.stdout[-4000:]

    [run] = json.loads(figures.read_text())["runs"]
    assert "error" not in run, run
    lost = {
        "joined": run["size"] - run["join"]["joined"],
        "probes while joining": run["join"]["probes_during_join"]["lost"],
        "1/s": run["slow"]["lost"],
        "10/s": run["stress"]["lost"],
        "votes_changed": sum(s["votes_changed_lost"] for s in run["votes"]["steps"]),
        "out of order": run["slow"]["disorder"] + run["stress"]["disorder"],
    }
    assert lost == dict.fromkeys(lost, 0), lost
    assert run["slow"]["delivered"] == run["slow"]["expected"] > 0
    assert run["stress"]["delivered"] == run["stress"]["expected"] > 0
