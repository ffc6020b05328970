"""A database outage, with a real server process on PostgreSQL and Redis.

The test takes the database away under the running server (connections refused, then renamed
so that it does not exist) and brings it back. Meanwhile the process stays live, says it is not
ready and why, answers HTTP with 503 and ``Retry-After``, and answers WebSocket commands with the
retryable error ``unavailable``; the sockets stay open. When the database returns, everything
answers again within seconds, and no request or command was logged as a bug.
"""

from __future__ import annotations

import asyncio
import os
import time
from unittest.mock import ANY
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import EVENT, WORKSHOP_1

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PG_ADMIN_DSN = os.environ.get(
    "TOWNHALL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
WORKSHOP_2 = "workshop-2-diversity-equity-inclusion"
UNAVAILABLE = {"code": "unavailable", "message": ANY, "retry_after": 5}


async def admin(*statements: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def take_database_away(name: str) -> None:
    """No new connections, the open ones ended, then the database renamed out of reach."""
    await admin(
        f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        f'ALTER DATABASE "{name}" RENAME TO "{name}_away"',
    )


async def bring_database_back(name: str) -> None:
    await admin(
        f'ALTER DATABASE "{name}_away" RENAME TO "{name}"',
        f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true',
    )


async def get(server: ServerProcess, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, trust_env=False) as http:
        return await http.get(path, headers=headers)


async def until(condition, what: str, within: float = 30.0):
    """Poll ``condition()`` (async) until it returns something truthy; that value."""
    deadline = time.monotonic() + within
    while not (found := await condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {within}s")
        await asyncio.sleep(0.2)
    return found


async def test_database_outage_is_unavailable_then_recovers(production: Stack) -> None:
    name = urlsplit(production.database_url).path.lstrip("/")
    server = production.server("a")
    await production.start(server)
    client = await production.audience(server, "Patient Pat")
    assert (await client.join(production.rooms[WORKSHOP_1]))["type"] == "room.snapshot"
    ready_before = await get(server, "/readyz")
    await production.db.close()  # the test's own connections would be ended too

    await take_database_away(name)
    try:
        api = await get(server, f"/api/events/{EVENT}")
        page = await get(server, f"/events/{EVENT}", accept="text/html")
        ready = await get(server, "/readyz")
        live = await get(server, "/livez")
        join = await client.request("room.join", room=production.rooms[WORKSHOP_2], within=15)
        pong = await client.request("ping")
        metrics = await get(server, "/metrics")
    finally:
        await bring_database_back(name)

    assert (ready_before.status_code, ready_before.json()) == (
        200,
        {"ready": True, "checks": {"database": {"ok": True}, "redis": {"ok": True}}},
    )
    assert (api.status_code, api.headers["retry-after"], api.json()) == (
        503,
        "5",
        {"error": UNAVAILABLE},
    )
    assert (page.status_code, page.headers["retry-after"]) == (503, "5")
    assert "briefly unavailable" in page.text
    assert (ready.status_code, ready.json()) == (
        503,
        {
            "ready": False,
            "checks": {"database": {"ok": False, "error": ANY}, "redis": {"ok": True}},
        },
    )
    assert (live.status_code, live.json()) == (200, {"live": True})
    assert join == {"type": "error", "ref": ANY, **UNAVAILABLE}
    assert pong == {"type": "pong", "ref": ANY}
    # /metrics answers without the database (rooms by state left out) and counts the outage
    # where it was met: the API call and the page over HTTP, the join over the WebSocket.
    counted = [
        line for line in metrics.text.splitlines() if line.startswith("townhall_database_errors")
    ]
    assert (metrics.status_code, "townhall_rooms{" in metrics.text) == (200, False)
    assert [line for line in counted if 'where="background"' not in line] == [
        'townhall_database_errors_total{where="http"} 2',
        'townhall_database_errors_total{where="websocket"} 1',
    ]

    async def ready_again():
        response = await get(server, "/readyz")
        return response if response.status_code == 200 else None

    await until(ready_again, "ready again")
    api_after = await get(server, f"/api/events/{EVENT}")
    joined = await client.join(production.rooms[WORKSHOP_2], within=15)
    assert (api_after.status_code, joined["type"], client.is_open) == (200, "room.snapshot", True)
    # Requests and commands were outages, not bugs: no "unhandled error", no "failed" command.
    log = server.log()
    assert ("unhandled error" in log, "RoomJoin failed" in log) == (False, False)


async def test_readyz_names_redis_while_it_is_down(production: Stack) -> None:
    redis_server = production.redis_server()
    redis_server.start()
    await redis_server.ready()
    server = production.server("a", redis_url=redis_server.url)
    await production.start(server)
    before = await get(server, "/readyz")

    redis_server.kill()

    async def unready():
        response = await get(server, "/readyz")
        return response if response.status_code == 503 else None

    during = await until(unready, "unready")
    live = await get(server, "/livez")
    redis_server.start()
    await redis_server.ready()

    async def ready_again():
        response = await get(server, "/readyz")
        return response if response.status_code == 200 else None

    after = await until(ready_again, "ready again")

    assert before.json() == {
        "ready": True,
        "checks": {"database": {"ok": True}, "redis": {"ok": True}},
    }
    assert during.json() == {
        "ready": False,
        "checks": {"database": {"ok": True}, "redis": {"ok": False, "error": ANY}},
    }
    assert (live.status_code, after.json()) == (200, before.json())
