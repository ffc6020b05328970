"""Rooms on a Redis Cluster with sharded pub/sub: a three-node cluster started here, two server
processes with ``TOWNHALL_REDIS_CLUSTER=true``, and two rooms whose events, committed on one
process, reach the other's sockets through ``SPUBLISH``/``SSUBSCRIBE`` on the node that owns
each room's channel (classic pub/sub carries nothing)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from support.clients import update_stage
from support.cluster import LocalCluster
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import MORNING, WORKSHOP_1

from townhall.platform.models import ProgrammeSession, Room
from townhall.realtime.redis_broker import RedisBroker

pytestmark = [pytest.mark.multiprocess, pytest.mark.postgres]

CHANGES = 15
WORKSHOP_2 = "workshop-2-diversity-equity-inclusion"


async def fanout(server: ServerProcess) -> tuple[float, float]:
    """(count, sum) of the process's fan-out latency histogram."""
    async with httpx.AsyncClient(base_url=server.url, timeout=5.0, trust_env=False) as http:
        text = (await http.get("/metrics")).text
    [count] = re.findall(r"^townhall_fanout_latency_seconds_count (\S+)$", text, re.MULTILINE)
    [total] = re.findall(r"^townhall_fanout_latency_seconds_sum (\S+)$", text, re.MULTILINE)
    return float(count), float(total)


async def test_two_processes_deliver_rooms_over_a_redis_cluster(production: Stack) -> None:
    cluster = LocalCluster(workdir=production.workdir)
    for node in cluster.nodes:
        production._track(node)  # killed at teardown with the rest
    await cluster.start()
    sessions = [WORKSHOP_1, WORKSHOP_2]
    async with production.db.sessionmaker() as db:
        ids = dict(
            (
                await db.execute(
                    select(ProgrammeSession.slug, Room.id)
                    .join(Room, Room.session_id == ProgrammeSession.id)
                    .where(ProgrammeSession.slug.in_(sessions))
                )
            ).all()
        )
    rooms = [ids[slug] for slug in sessions]
    # A prefix that puts the two rooms' channels on different nodes (a channel's slot is the
    # CRC16 of its name), so the test shows rooms spread over the cluster.
    for n in range(100):
        prefix = f"{production.redis_prefix}{n}"
        homes = {await cluster.owner_of(f"{prefix}:room:{room}:public") for room in rooms}
        if len(homes) == 2:
            production.redis_prefix = prefix
            break
    a, b = production.servers(
        "a", "b", now=MORNING, redis_url=cluster.url, settings={"TOWNHALL_REDIS_CLUSTER": "true"}
    )
    await production.start(a, b)
    assert [production.rooms[slug] for slug in sessions] == rooms
    moderators = [
        await production.moderator(a, f"Moderator {n}", session=slug)
        for n, slug in enumerate(sessions)
    ]
    viewers = []
    for room, moderator in zip(rooms, moderators, strict=True):
        assert (await moderator.join(room))["type"] == "room.snapshot"
        for server in (a, b):
            viewer = await production.audience(server, f"Viewer of {room} on {server.name}")
            assert (await viewer.join(room))["type"] == "room.snapshot"
            viewers.append((room, viewer))
    await asyncio.sleep(3)  # start-up's own events (the rooms' lifecycle) settle first
    count_before, sum_before = await fanout(b)

    await asyncio.gather(
        *(
            update_stage(moderator, room, CHANGES, tag=f"r{room}")
            for room, moderator in zip(rooms, moderators, strict=True)
        )
    )
    positions = {room: await production.db.room_position(room) for room in rooms}
    await asyncio.gather(
        *(
            viewer.wait_until(
                lambda c, room=room: c.last_seq(room) == positions[room][1], 15, "the last seq"
            )
            for room, viewer in viewers
        )
    )
    count_after, sum_after = await fanout(b)
    prefix = production.redis_prefix
    channels = [f"{prefix}:room:{room}:public" for room in rooms] + [f"{prefix}:control"]
    owners = {channel: await cluster.owner_of(channel) for channel in channels}
    subscribers = {channel: await cluster.sharded_subscribers(channel) for channel in channels}
    health = await b.health()

    mean_ms = 1000 * (sum_after - sum_before) / max(1.0, count_after - count_before)
    print(
        f"\nredis cluster: {len(cluster.nodes)} nodes, rooms on node ports "
        f"{[owners[c] for c in channels[:2]]}, control on {owners[channels[2]]}; "
        f"{2 * CHANGES} events from process a reached process b by SPUBLISH, "
        f"mean fan-out latency {mean_ms:.1f} ms"
    )
    # Events committed on a reached b's sockets as broker envelopes over SPUBLISH (the
    # histogram counts envelopes only, not repairs from the log). On a loaded machine the 2 s
    # sweep may repair one before its envelope arrives: every event arrives, in order and
    # without a gap (below), most of them by the cluster.
    assert 1 <= count_after - count_before <= 2 * CHANGES
    for room, viewer in viewers:
        logged = [seq for seq, _, _ in await production.db.logged(room)]
        first = viewer.of_type("room.snapshot")[0]["seq"]
        assert (viewer.name, viewer.seqs(room)) == (
            viewer.name,
            [seq for seq in logged if seq > first],
        )
    # The rooms live on two nodes; both processes hold a sharded subscription on the node that
    # owns each channel, and nobody a classic one.
    assert len({owners[c] for c in channels[:2]}) == 2
    assert subscribers == {
        channel: {
            node.port: ((2, 0) if node.port == owners[channel] else (0, 0))
            for node in cluster.nodes
        }
        for channel in channels
    }
    assert (health["broker"], health["connected"]) == ("redis-cluster", True)


async def test_rate_limits_and_presence_work_on_a_cluster(tmp_path: Path) -> None:
    # Single-key work (a MULTI on one slot, a pipeline on one key) runs on the cluster itself,
    # not on the per-process fallback the broker uses while Redis is away.
    cluster = LocalCluster(workdir=tmp_path)
    try:
        await cluster.start()
        broker = RedisBroker(cluster.url, prefix="t", cluster=True)
        broker.connected = True  # as after a subscription; hit() falls back when not
        hits = [await broker.hit("t:rate:test:me", limit=2, window=60) for _ in range(3)]
        await broker.presence_write("t:presence:1", "process-a", b"entry", 5.0)
        entries = await broker.presence_read("t:presence:1")
        counted = await broker.redis.get("t:rate:test:me")
        await broker.redis.aclose()
    finally:
        cluster.kill()

    assert (hits[:2], 55 < hits[2] <= 60, entries, counted) == (
        [0.0, 0.0],
        True,
        {"process-a": b"entry"},
        b"3",
    )
