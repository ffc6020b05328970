"""The Redis broker: one subscriber task per process, with reconnects and a watchdog.

Redis pub/sub may drop messages (a reconnect, a slow consumer, a restart): that is fine,
because every room event is in the database and the hub repairs gaps from there. What this
module guarantees is that the subscription comes back: a reconnect loop with jittered
backoff, and a watchdog that publishes a heartbeat to itself and reconnects when the
heartbeat stops arriving (a subscription that died silently). After every (re)subscription
``on_reset`` runs, so the hub re-reads whatever it may have missed.

**Redis Cluster** (``cluster=True``, ``TOWNHALL_REDIS_CLUSTER``): every channel is a *sharded*
channel (``SPUBLISH``/``SSUBSCRIBE``, Redis 7), owned by the node that owns its hash slot, so a
room's events go to one node and not, as classic pub/sub in a cluster does, to every node of
the cluster. Rooms spread over the nodes by their channel names; the control channel (a few
notices a minute) and each process's heartbeat channel are sharded channels too, each on its
one node. redis-py's cluster pub/sub keeps one connection per node the process subscribes on
and follows slots that move. The watchdog hears its heartbeat through one node; a connection
to another node that fails raises and reconnects everything, and one that goes silent is
covered, as every lost message is, by the hub's sweep (at most 2 s late). Presence entries and
rate-limit counters are single keys, so they work unchanged on a cluster.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
import time
from contextlib import suppress
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisClusterException, RedisError

from townhall.metrics import BROKER_RECONNECTS

from .broker import OnMessage, OnReset
from .channels import Channels
from .rate_limits import LocalCounters

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 1.0
READ_WAIT = 0.2  # seconds one read waits for a message before pending (un)subscriptions run
WATCHDOG_AFTER = 5.0
# At most ~1.5 s between attempts: a ban or revocation whose notice Redis lost takes effect
# when the subscription returns (tests/resilience/test_ban_redis_down.py), so within 2 s of
# Redis coming back. One PING-sized attempt a second per process costs Redis nothing.
BACKOFF_MIN, BACKOFF_MAX = 0.1, 1.0


class WatchdogExpired(Exception):
    pass


class RedisBroker:
    def __init__(self, url: str, *, prefix: str, cluster: bool = False) -> None:
        self.url = url
        self.cluster = cluster
        self.channels = Channels(prefix)
        self.process_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.redis: redis.Redis | redis.RedisCluster
        if cluster:
            self.redis = redis.RedisCluster.from_url(
                url, socket_connect_timeout=2, socket_timeout=5
            )
        else:
            self.redis = redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._subscribed: set[str] = {self.channels.heartbeat(self.process_id)}
        self._ops: asyncio.Queue[tuple[str, str, asyncio.Future[None]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._on_message: OnMessage | None = None
        self._on_reset: OnReset | None = None
        self.connected = False
        self.reconnects = 0
        self._last_beat = time.monotonic()
        self._local_limits = LocalCounters()
        self._reset_task: asyncio.Task[None] | None = None

    async def start(self, on_message: OnMessage, on_reset: OnReset) -> None:
        self._on_message, self._on_reset = on_message, on_reset
        self._tasks = [
            asyncio.create_task(self._subscriber(), name="redis-subscriber"),
            asyncio.create_task(self._heartbeat(), name="redis-heartbeat"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        await self.redis.aclose()

    async def publish(self, channel: str, payload: bytes) -> None:
        if not self.connected:
            # Don't make every command wait for a dead Redis: the log has the event, and the
            # other processes' sweeps deliver it.
            raise ConnectionError("redis is unreachable; not published")
        await self._publish(channel, payload)

    async def _publish(self, channel: str, payload: bytes) -> None:
        if self.cluster:
            await self.redis.spublish(channel, payload)
        else:
            await self.redis.publish(channel, payload)

    async def _subscribe(self, pubsub: Any, *channels: str) -> None:
        if self.cluster:
            await pubsub.ssubscribe(*channels)
        else:
            await pubsub.subscribe(*channels)

    async def _unsubscribe(self, pubsub: Any, channel: str) -> None:
        if self.cluster:
            await pubsub.sunsubscribe(channel)
        else:
            await pubsub.unsubscribe(channel)

    async def subscribe(self, channel: str) -> None:
        await self._op("subscribe", channel)

    async def unsubscribe(self, channel: str) -> None:
        await self._op("unsubscribe", channel)

    async def _op(self, op: str, channel: str) -> None:
        if op == "subscribe":
            self._subscribed.add(channel)
        else:
            self._subscribed.discard(channel)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._ops.put_nowait((op, channel, done))
        # While Redis is away we do not wait: the resubscription after reconnect covers it.
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(done), timeout=2.0)

    async def _subscriber(self) -> None:
        backoff = BACKOFF_MIN
        while True:
            pubsub = self.redis.pubsub()
            try:
                if self.cluster:
                    await self.redis.initialize()  # learn (again) which node owns which slot
                # Pending operations are covered by subscribing to the whole current set.
                while not self._ops.empty():
                    _, _, done = self._ops.get_nowait()
                    _settle(done)
                await self._subscribe(pubsub, *sorted(self._subscribed))
                self.connected = True
                self._last_beat = time.monotonic()
                backoff = BACKOFF_MIN
                log.info("subscribed to %d channels", len(self._subscribed))
                if self._on_reset is not None:
                    self._reset_task = asyncio.create_task(self._on_reset())
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, RedisClusterException, OSError, WatchdogExpired) as exc:
                if self.connected:
                    log.warning("redis subscription lost (%s); reconnecting", exc)
                self.connected = False
                self.reconnects += 1
                BROKER_RECONNECTS.inc()
            finally:
                with suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff * random.uniform(0.5, 1.5))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _read(self, pubsub: Any) -> None:
        if self.cluster:
            await self._read_cluster(pubsub)
            return
        while True:
            await self._run_ops(pubsub)
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=READ_WAIT)
            if message is not None:
                self._received(message)
            self._check_heartbeat()

    async def _read_cluster(self, pubsub: Any) -> None:
        """One reader task per node connection (redis-py's cluster pub/sub keeps one per node
        the process subscribes on), so a quiet node never delays a busy one."""
        readers: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                await self._run_ops(pubsub)
                nodes = dict(pubsub.node_pubsub_mapping)
                for name in [n for n in readers if n not in nodes]:
                    readers.pop(name).cancel()
                for name, node_pubsub in nodes.items():
                    task = readers.get(name)
                    if task is not None and task.done():
                        task.result()  # a node's connection failed: reconnect everything
                    if task is None:
                        readers[name] = asyncio.create_task(
                            self._read_node(node_pubsub), name=f"redis-node-{name}"
                        )
                await asyncio.sleep(READ_WAIT)
                self._check_heartbeat()
        finally:
            for task in readers.values():
                task.cancel()

    async def _read_node(self, node_pubsub: Any) -> None:
        while True:
            message = await node_pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None:
                self._received(message)

    async def _run_ops(self, pubsub: Any) -> None:
        while not self._ops.empty():
            op, channel, done = self._ops.get_nowait()
            if op == "subscribe":
                await self._subscribe(pubsub, channel)
            else:
                await self._unsubscribe(pubsub, channel)
            _settle(done)

    def _received(self, message: dict[str, Any]) -> None:
        if message["type"] not in ("message", "smessage"):
            return
        channel = message["channel"].decode()
        if channel == self.channels.heartbeat(self.process_id):
            self._last_beat = time.monotonic()
        elif self._on_message is not None:
            self._on_message(channel, message["data"])

    def _check_heartbeat(self) -> None:
        if time.monotonic() - self._last_beat > WATCHDOG_AFTER:
            raise WatchdogExpired(f"no heartbeat for {WATCHDOG_AFTER}s")

    async def _heartbeat(self) -> None:
        channel = self.channels.heartbeat(self.process_id)
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            with suppress(RedisError, RedisClusterException, OSError):
                await self._publish(channel, b"beat")

    async def presence_write(self, key: str, member: str, value: bytes, ttl: float) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, member, value)
            pipe.expire(key, max(1, int(ttl * 2)))
            await pipe.execute()

    async def presence_remove(self, key: str, member: str) -> None:
        await self.redis.hdel(key, member)

    async def presence_read(self, key: str) -> dict[str, bytes]:
        raw = await self.redis.hgetall(key)
        return {k.decode(): v for k, v in raw.items()}

    async def hit(self, key: str, *, limit: int, window: float) -> float:
        if not self.connected:
            return self._local_limits.hit(key, limit=limit, window=window)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.pexpire(key, int(window * 1000), nx=True)
                pipe.pttl(key)
                count, _, ttl_ms = await pipe.execute()
        except (RedisError, RedisClusterException, OSError):
            # Redis away: keep limiting, per process, rather than refuse every command.
            return self._local_limits.hit(key, limit=limit, window=window)
        if count > limit:
            return max(ttl_ms, 1) / 1000
        return 0.0

    async def ping(self) -> None:
        await self.redis.ping()

    def unavailable(self, error: BaseException) -> bool:
        # A pooled connection that Redis closed while it was away fails once more after the
        # subscription is back: the same outage, met late.
        # redis-py wraps socket errors in its own (whose cause is the OSError): a bare OSError
        # comes from elsewhere (the database driver), and is the database's outage.
        return isinstance(error, (RedisError, RedisClusterException))

    def health(self) -> dict[str, object]:
        return {
            "broker": "redis-cluster" if self.cluster else "redis",
            "connected": self.connected,
            "reconnects": self.reconnects,
            "subscriptions": len(self._subscribed),
        }


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
