"""The hub's background loops and outages: a loop that meets Redis away logs one warning for that
cause and runs again a second later, without a traceback (an outage is not a bug); a loop that
fails for any other reason is a bug, logged with its traceback each time."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

import pytest
from support.servers import free_port

from townhall.app import build_hub
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.realtime.redis_broker import RedisBroker
from townhall.settings import Settings


async def test_hub_loop_meeting_redis_away_warns_once_a_bug_keeps_its_traceback(
    sqlite_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(sqlite_database_url)
    broker = RedisBroker(f"redis://127.0.0.1:{free_port()}/0", prefix="t")  # nothing listens
    hub = build_hub(
        Settings(),
        make_sessionmaker(engine),
        broker,
        ManualClock(datetime(2021, 12, 8, tzinfo=UTC)),
    )
    runs = {"redis": 0, "bug": 0}

    async def writes_presence() -> None:
        runs["redis"] += 1
        await broker.presence_write("t:probe", "a", b"{}", 30)

    async def has_a_bug() -> None:
        runs["bug"] += 1
        raise ValueError("a bug in a loop")

    hub.add_loop(writes_presence, "redis-probe")
    hub.add_loop(has_a_bug, "bug-probe")
    caplog.set_level(logging.INFO, logger="townhall")
    await hub.start()
    deadline = time.monotonic() + 30
    while min(runs.values()) < 3:
        assert time.monotonic() < deadline, runs
        await asyncio.sleep(0.1)
    await hub.stop()
    await engine.dispose()

    hub_lines = [r for r in caplog.records if r.name == "townhall.realtime.hub"]
    probe = [
        (r.levelname, r.getMessage().split(" (")[0])
        for r in hub_lines
        if "redis-probe" in r.getMessage()
    ]
    bugs = [r for r in hub_lines if "bug-probe" in r.getMessage()]
    assert probe == [("WARNING", "hub task redis-probe: broker unavailable")]
    assert [r for r in caplog.records if r.exc_info and r not in bugs] == []
    assert len(bugs) >= 3 and all(r.levelname == "ERROR" and r.exc_info for r in bugs)
