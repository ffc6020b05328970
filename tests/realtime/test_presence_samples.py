"""Presence samples: one row per room and interval (and per state change), from the presence
summed over every process, however many processes try to write it (two processes sharing an
in-memory broker, and two each with a client of the same Redis)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from townhall.platform import programme
from townhall.platform.attendance import list_presence_samples
from townhall.platform.clock import ManualClock
from townhall.platform.db import make_engine, make_sessionmaker
from townhall.platform.models import PresenceSample
from townhall.platform.room_log import LoggedEvent
from townhall.platform.viewers import Viewer
from townhall.realtime.broker import Broker, MemoryBroker
from townhall.realtime.channels import Channels
from townhall.realtime.presence import LocalPresence
from townhall.realtime.presence_samples import PresenceSamples
from townhall.realtime.redis_broker import RedisBroker

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

START = datetime(2021, 12, 8, 13, 0, 5, tzinfo=UTC)
TTL = 30.0


async def _room_id(sessionmaker, summit_spec) -> int:
    async with sessionmaker() as db:
        await programme.import_programme(db, spec=summit_spec)
        event = await programme.get_event(db, slug="mayors-summit-2021")
        session = await programme.get_session(
            db, event_id=event.id, slug="workshop-1-building-resilience"
        )
        room_id = session.room.id
        await db.commit()
    return room_id


def _local(room_id: int, *viewers: Viewer) -> LocalPresence:
    local = LocalPresence()
    for index, viewer in enumerate(viewers):
        local.add(viewer, room_id, f"socket-{index}")
    return local


def _rows(samples: list[PresenceSample]) -> list[tuple[int, int, datetime, int, int, int]]:
    return [(s.bucket, s.state_seq, s.at, s.audience, s.panel, s.staff) for s in samples]


@pytest.fixture(params=["memory", "redis"])
async def two_processes(request) -> AsyncIterator[tuple[Broker, Broker, Channels]]:
    """Each process's broker: one in-memory broker shared (a stand-in), or each its own
    client of the same Redis under a prefix of this test's own."""
    if request.param == "memory":
        shared = MemoryBroker()
        yield shared, shared, Channels("test")
        return
    prefix = f"samples-{uuid.uuid4().hex[:8]}"
    a, b = RedisBroker(REDIS_URL, prefix=prefix), RedisBroker(REDIS_URL, prefix=prefix)
    yield a, b, Channels(prefix)
    for broker in (a, b):
        await broker.stop()


async def test_presence_samples_one_row_per_interval_across_processes(
    sessionmaker, summit_spec, two_processes
) -> None:
    room_id = await _room_id(sessionmaker, summit_spec)
    broker_a, broker_b, channels = two_processes
    clock = ManualClock(START)
    key = channels.presence(room_id)
    moderator = Viewer("p-mod", "Güldem", 1, moderates=frozenset({room_id}))
    panelist = Viewer("p-pan", "Sameh", 1, panelist_in=frozenset({room_id}))
    both = Viewer("p-1", "Ada", 1)  # one participant with a socket on each process
    await broker_a.presence_write(
        key, "a", _local(room_id, both, Viewer("p-2"), moderator).entry(TTL), TTL
    )
    await broker_b.presence_write(
        key, "b", _local(room_id, both, moderator, panelist).entry(TTL), TTL
    )
    rooms: dict[str, list[int]] = {"a": [room_id], "b": [room_id]}
    a, b = (
        PresenceSamples(
            sessionmaker=sessionmaker,
            broker=broker,
            channels=channels,
            clock=clock,
            process_id=name,
            interval=60,
            rooms=lambda name=name: rooms[name],
        )
        for name, broker in (("a", broker_a), ("b", broker_b))
    )

    written = [await a.sample(), await b.sample()]
    clock.advance(timedelta(seconds=50))  # 13:00:55
    # Stamped by the event clock: an event from the broker carries the wall clock's instant.
    changed = LoggedEvent(room_id, "e", 7, "room.state_changed", {}, at=datetime.now(UTC))
    b.on_event(changed)
    written.append(await b.sample())
    clock.advance(timedelta(seconds=10))  # a hears of the change in the next interval
    a.on_event(changed)
    written += [await a.sample(), await b.sample()]
    await broker_a.presence_remove(key, "a")
    await broker_b.presence_remove(key, "b")
    rooms.update(a=[], b=[])
    clock.advance(timedelta(seconds=60))
    written += [await a.sample(), await b.sample()]
    clock.advance(timedelta(seconds=60))
    written += [await a.sample(), await b.sample()]

    # a wrote the second interval; its try at the state change found b's row.
    assert written == [1, 0, 1, 1, 0, 1, 0, 0, 0]
    bucket = int(START.timestamp()) // 60
    async with sessionmaker() as db:
        samples = await list_presence_samples(db, room_id=room_id)
        assert len((await db.scalars(select(PresenceSample))).all()) == 4
    # Distinct people across processes: Ada, on both, counts once, as do the staff.
    assert _rows(samples) == [
        (bucket, 0, START, 2, 1, 1),
        (0, 7, START + timedelta(seconds=50), 2, 1, 1),
        (bucket + 1, 0, START + timedelta(seconds=60), 2, 1, 1),
        (bucket + 2, 0, START + timedelta(seconds=120), 0, 0, 0),
    ]


async def test_presence_samples_wait_for_the_database_then_write(
    sessionmaker, summit_spec, caplog
) -> None:
    room_id = await _room_id(sessionmaker, summit_spec)
    broker, channels, clock = MemoryBroker(), Channels("test"), ManualClock(START)
    await broker.presence_write(
        channels.presence(room_id), "a", _local(room_id, Viewer("p-1")).entry(TTL), TTL
    )
    unreachable = make_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    samples = PresenceSamples(
        sessionmaker=make_sessionmaker(unreachable),
        broker=broker,
        channels=channels,
        clock=clock,
        process_id="a",
        interval=60,
        rooms=lambda: [room_id],
    )
    samples.on_event(LoggedEvent(room_id, "e", 3, "room.state_changed", {}))

    written = [await samples.sample(), await samples.sample()]
    samples.sessionmaker = sessionmaker
    clock.advance(timedelta(seconds=2))
    written.append(await samples.sample())
    await unreachable.dispose()

    bucket = int(START.timestamp()) // 60
    async with sessionmaker() as db:
        rows = _rows(await list_presence_samples(db, room_id=room_id))
    warnings = [r.getMessage() for r in caplog.records if r.name.endswith("presence_samples")]
    assert (written, len(warnings)) == ([0, 0, 2], 1)
    assert warnings[0].startswith("presence samples wait for the database: ")
    # The state change keeps its instant; the interval is sampled when the database is back.
    assert rows == [
        (0, 3, START, 1, 0, 0),
        (bucket, 0, START + timedelta(seconds=2), 1, 0, 0),
    ]


async def test_presence_samples_wait_for_this_process_entry(sessionmaker, summit_spec) -> None:
    """A first joiner's entry reaches the broker within a presence tick: until it does, a
    sample would miss them, so the room waits (in the same interval)."""
    room_id = await _room_id(sessionmaker, summit_spec)
    broker, channels, clock = MemoryBroker(), Channels("test"), ManualClock(START)
    samples = PresenceSamples(
        sessionmaker=sessionmaker,
        broker=broker,
        channels=channels,
        clock=clock,
        process_id="a",
        interval=60,
        rooms=lambda: [room_id],
    )

    written = [await samples.sample()]
    clock.advance(timedelta(seconds=1))
    await broker.presence_write(
        channels.presence(room_id), "a", _local(room_id, Viewer("p-1")).entry(TTL), TTL
    )
    written += [await samples.sample(), await samples.sample()]

    async with sessionmaker() as db:
        rows = _rows(await list_presence_samples(db, room_id=room_id))
    bucket = int(START.timestamp()) // 60
    assert (written, rows) == ([0, 1, 0], [(bucket, 0, START + timedelta(seconds=1), 1, 0, 0)])
