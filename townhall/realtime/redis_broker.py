"""The Redis broker: one subscriber task per process, with reconnects and a watchdog.

Redis pub/sub may drop messages (a reconnect, a slow consumer, a restart): that is fine,
because every room event is in the database and the hub repairs gaps from there. What this
module guarantees is that the subscription comes back: a reconnect loop with jittered
backoff, and a watchdog that publishes a heartbeat to itself and reconnects when the
heartbeat stops arriving (a subscription that died silently). After every (re)subscription
``on_reset`` runs, so the hub re-reads whatever it may have missed.
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

import redis.asyncio as redis
from redis.exceptions import RedisError

from townhall.metrics import BROKER_RECONNECTS

from .broker import OnMessage, OnReset
from .channels import Channels
from .rate_limits import LocalCounters

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 1.0
WATCHDOG_AFTER = 5.0
BACKOFF_MIN, BACKOFF_MAX = 0.1, 5.0


class WatchdogExpired(Exception):
    pass


class RedisBroker:
    def __init__(self, url: str, *, prefix: str) -> None:
        self.url = url
        self.channels = Channels(prefix)
        self.process_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
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
        await self.redis.publish(channel, payload)

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
                # Pending operations are covered by subscribing to the whole current set.
                while not self._ops.empty():
                    _, _, done = self._ops.get_nowait()
                    _settle(done)
                await pubsub.subscribe(*sorted(self._subscribed))
                self.connected = True
                self._last_beat = time.monotonic()
                backoff = BACKOFF_MIN
                log.info("subscribed to %d channels", len(self._subscribed))
                if self._on_reset is not None:
                    self._reset_task = asyncio.create_task(self._on_reset())
                await self._read(pubsub)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError, WatchdogExpired) as exc:
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

    async def _read(self, pubsub: redis.client.PubSub) -> None:
        heartbeat = self.channels.heartbeat(self.process_id)
        while True:
            while not self._ops.empty():
                op, channel, done = self._ops.get_nowait()
                if op == "subscribe":
                    await pubsub.subscribe(channel)
                else:
                    await pubsub.unsubscribe(channel)
                _settle(done)
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message is not None and message["type"] == "message":
                channel = message["channel"].decode()
                if channel == heartbeat:
                    self._last_beat = time.monotonic()
                elif self._on_message is not None:
                    self._on_message(channel, message["data"])
            if time.monotonic() - self._last_beat > WATCHDOG_AFTER:
                raise WatchdogExpired(f"no heartbeat for {WATCHDOG_AFTER}s")

    async def _heartbeat(self) -> None:
        channel = self.channels.heartbeat(self.process_id)
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            with suppress(RedisError, OSError):
                await self.redis.publish(channel, b"beat")

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
        except (RedisError, OSError):
            # Redis away: keep limiting, per process, rather than refuse every command.
            return self._local_limits.hit(key, limit=limit, window=window)
        if count > limit:
            return max(ttl_ms, 1) / 1000
        return 0.0

    async def ping(self) -> None:
        await self.redis.ping()

    def health(self) -> dict[str, object]:
        return {
            "broker": "redis",
            "connected": self.connected,
            "reconnects": self.reconnects,
            "subscriptions": len(self._subscribed),
        }


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
