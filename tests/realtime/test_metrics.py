"""``/metrics``: Prometheus text exposition from a real server, its figures moved by a join, a
resume, a snapshot for another epoch and a room event; and the exposition format itself."""

from __future__ import annotations

import asyncio
import re
from collections import Counter as Tally

import httpx
import pytest
from sqlalchemy import func, select
from support.clients import update_stage
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1

from townhall import metrics
from townhall.platform.models import Room

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SAMPLE = re.compile(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$")


async def scrape(server: ServerProcess) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0, trust_env=False) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == metrics.CONTENT_TYPE
    samples = {}
    for line in response.text.splitlines():
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match is not None, line
        samples[match[1]] = float(match[2])
    return samples


def moved(before: dict[str, float], after: dict[str, float], *names: str) -> dict[str, float]:
    """The samples of the named metrics that changed, by how much."""
    return {
        key: after[key] - before.get(key, 0.0)
        for key in after
        if key.partition("{")[0] in names and after[key] != before.get(key, 0.0)
    }


async def test_metrics_count_joins_resumes_and_events(production: Stack) -> None:
    server = production.server("a", now=MORNING)
    await production.start(server)
    room = production.rooms[WORKSHOP_1]
    moderator = await production.moderator(server)
    viewer = await production.audience(server, "Viewer")
    for client in (moderator, viewer):
        assert (await client.join(room))["type"] == "room.snapshot"
    # Let the rooms' own lifecycle events (the clock starts at MORNING) settle first.
    await asyncio.sleep(3)
    before = await scrape(server)

    [seq] = await update_stage(moderator, room, 1)
    await viewer.wait_until(lambda c: c.last_seq(room) == seq, 10, f"seq {seq}")
    late = await production.audience(server, "Late")
    resumed = await late.join(room, since=viewer.positions[room])
    stranger = await production.audience(server, "Stranger")
    reset = await stranger.join(room, since=("another-epoch", 1))
    after = await scrape(server)

    assert (resumed["type"], reset["type"], reset["reason"]) == (
        "room.resumed",
        "room.snapshot",
        "epoch",
    )
    assert moved(
        before,
        after,
        "townhall_events_published_total",
        "townhall_events_delivered_total",
        "townhall_fanout_latency_seconds_count",
        "townhall_resumes_total",
    ) == {
        "townhall_events_published_total": 1,
        "townhall_events_delivered_total": 2,  # the moderator and the viewer
        "townhall_fanout_latency_seconds_count": 1,
        'townhall_resumes_total{outcome="resumed",reason=""}': 1,
        'townhall_resumes_total{outcome="snapshot",reason="epoch"}': 1,
    }
    assert after["townhall_connections"] == 4
    assert {k: v for k, v in after.items() if k.startswith("townhall_room_members")} == {
        'townhall_room_members{tier="audience"}': 3,
        'townhall_room_members{tier="panel"}': 0,
        'townhall_room_members{tier="staff"}': 1,
    }
    assert after["townhall_room_feeds"] == 1
    async with production.db.sessionmaker() as db:
        states = dict(
            (await db.execute(select(Room.state, func.count()).group_by(Room.state))).all()
        )
    assert {k: v for k, v in after.items() if k.startswith("townhall_rooms{")} == {
        f'townhall_rooms{{state="{state}"}}': count for state, count in states.items()
    }
    # The latency was measured and is within its buckets.
    assert 0 < after["townhall_fanout_latency_seconds_sum"] < 10
    assert (
        after['townhall_fanout_latency_seconds_bucket{le="+Inf"}']
        == after["townhall_fanout_latency_seconds_count"]
    )


def test_exposition_format() -> None:
    refusals = metrics.Counter("t_refusals_total", "Refusals.", ("code",))
    refusals.inc(1, 'a"b')
    refusals.inc(2, "plain")
    latency = metrics.Histogram("t_latency_seconds", "Latency.", (0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 3.0):
        latency.observe(value)
    level = metrics.Gauge("t_level", "Level.", (), {(): 2.5})

    assert metrics.exposition([refusals, latency, level]) == (
        "# HELP t_refusals_total Refusals.\n"
        "# TYPE t_refusals_total counter\n"
        't_refusals_total{code="a\\"b"} 1\n'
        't_refusals_total{code="plain"} 2\n'
        "# HELP t_latency_seconds Latency.\n"
        "# TYPE t_latency_seconds histogram\n"
        't_latency_seconds_bucket{le="0.1"} 2\n'
        't_latency_seconds_bucket{le="1"} 3\n'
        't_latency_seconds_bucket{le="+Inf"} 4\n'
        "t_latency_seconds_sum 3.65\n"
        "t_latency_seconds_count 4\n"
        "# HELP t_level Level.\n"
        "# TYPE t_level gauge\n"
        "t_level 2.5\n"
    )


def test_every_metric_is_named_by_prometheus_conventions() -> None:
    names = [m.name for m in metrics.COUNTERS]

    assert Tally(names).most_common(1)[0][1] == 1
    assert [n for n in names if not n.startswith("townhall_")] == []
    assert [n for n in names if not (n.endswith("_total") or n.endswith("_seconds"))] == []


async def test_metrics_count_refusals_and_broker_reconnects(production: Stack) -> None:
    redis_server = production.redis_server()  # a Redis of its own, to restart
    redis_server.start()
    await redis_server.ready()
    server = production.server(
        "a",
        redis_url=redis_server.url,
        settings={"TOWNHALL_WS_COMMAND_BURST": "3", "TOWNHALL_WS_COMMANDS_PER_SECOND": "1"},
    )
    await production.start(server)
    flooder = await production.audience(server, "Flooder")
    before = await scrape(server)

    for n in range(8):
        await flooder.send({"type": "ping", "ref": f"flood-{n}"})
    await flooder.wait_until(
        lambda c: len([m for m in c.messages if m.get("ref", "").startswith("flood-")]) == 8,
        10,
        "an answer to every ping",
    )
    refused = [m for m in flooder.messages if m.get("code") == "rate_limited"]
    redis_server.kill()
    await server.wait_health(lambda h: not h["connected"], "disconnected", within=20)
    redis_server.start()
    await redis_server.ready()
    health = await server.wait_health(lambda h: h["connected"], "reconnected", within=30)
    after = await scrape(server)

    assert 4 <= len(refused) <= 5  # a burst of 3, then one a second
    assert moved(
        before, after, "townhall_rate_limit_refusals_total", "townhall_broker_reconnects_total"
    ) == {
        'townhall_rate_limit_refusals_total{code="rate_limited"}': len(refused),
        "townhall_broker_reconnects_total": health["reconnects"],
    }
    assert health["reconnects"] >= 1
