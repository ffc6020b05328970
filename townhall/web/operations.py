"""Probes for orchestrators and load balancers: ``/livez``, ``/readyz`` (and ``/healthz``).

- ``/livez``: the process runs its event loop and answers. Restart it when this fails.
- ``/readyz``: the database answers a query and, when configured, Redis answers PING, each
  within :data:`CHECK_TIMEOUT` seconds. 503 otherwise, with a body naming what failed; send no
  traffic to the process until it answers 200 again (it recovers by itself).
- ``/healthz`` (in :mod:`townhall.web.api`): the process's live-room figures, always 200.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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
