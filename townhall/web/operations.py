"""Probes for orchestrators and load balancers: ``/livez``, ``/readyz`` (and ``/healthz``).

- ``/livez``: the process runs its event loop and answers. Restart it when this fails.
- ``/readyz``: the database answers a query and, when configured, Redis answers PING, each
  within :data:`CHECK_TIMEOUT` seconds. 503 otherwise, with a body naming what failed; send no
  traffic to the process until it answers 200 again (it recovers by itself).
- ``/healthz`` (in :mod:`townhall.web.api`): the process's live-room figures, always 200.
- ``/metrics``: Prometheus text exposition: the counters of :mod:`townhall.metrics` and gauges
  read now (connections, room members by tier, this process's open room feeds, rooms by state
  from the database; that last one is left out while the database does not answer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from sqlalchemy import func, select, text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from townhall import metrics
from townhall.platform.models import Room
from townhall.platform.outage import describe

from .services import services_of

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0
NO_STORE = {"Cache-Control": "no-store"}


async def livez(request: Request) -> Response:
    return JSONResponse({"live": True}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    services = services_of(request)
    checks = {"database": _database(services.engine)}
    if services.settings.redis_enabled:
        checks["redis"] = services.hub.broker.ping()
    results = dict(zip(checks, await asyncio.gather(*map(_check, checks.values())), strict=True))
    if services.hub.draining:  # stopping: take it out of rotation before it closes
        results["process"] = {"ok": False, "error": "stopping"}
    ready = all(result["ok"] for result in results.values())
    return JSONResponse(
        {"ready": ready, "checks": results}, status_code=200 if ready else 503, headers=NO_STORE
    )


async def _database(engine: Any) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check(probe: Awaitable[None]) -> dict[str, Any]:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT)
    except TimeoutError:
        return {"ok": False, "error": f"no answer within {CHECK_TIMEOUT:g} s"}
    except Exception as exc:  # any failure means "not ready"; the body says which
        log.warning("readiness check failed: %s", describe(exc))
        return {"ok": False, "error": describe(exc)}
    return {"ok": True}


async def prometheus_metrics(request: Request) -> Response:
    services = services_of(request)
    hub = services.hub
    members: dict[tuple[str, ...], float] = {("staff",): 0, ("panel",): 0, ("audience",): 0}
    for feed in list(hub.feeds.open.values()):
        for tier, connections in feed.tiers.items():
            members[(tier,)] = members.get((tier,), 0) + len(connections)
    gauges: list[metrics.Metric] = [
        metrics.Gauge(
            "townhall_connections",
            "Open WebSocket connections on this process.",
            (),
            {(): len(hub.connections)},
        ),
        metrics.Gauge(
            "townhall_room_members",
            "Room memberships of this process's WebSockets, by tier.",
            ("tier",),
            members,
        ),
        metrics.Gauge(
            "townhall_room_feeds",
            "Rooms with at least one WebSocket on this process.",
            (),
            {(): len(hub.feeds.open)},
        ),
    ]
    try:
        by_state = await asyncio.wait_for(_rooms_by_state(services.sessionmaker), CHECK_TIMEOUT)
    except Exception as exc:  # the other figures still answer during an outage
        log.warning("metrics: rooms by state unavailable: %s", describe(exc))
    else:
        gauges.append(
            metrics.Gauge(
                "townhall_rooms", "Rooms by state (the whole database).", ("state",), by_state
            )
        )
    body = metrics.exposition([*gauges, *metrics.COUNTERS])
    return Response(body, media_type=metrics.CONTENT_TYPE, headers=NO_STORE)


async def _rooms_by_state(sessionmaker: Any) -> dict[tuple[str, ...], float]:
    async with sessionmaker() as db:
        rows = (await db.execute(select(Room.state, func.count()).group_by(Room.state))).all()
    return {(state,): count for state, count in rows}
